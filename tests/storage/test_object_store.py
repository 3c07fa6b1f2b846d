"""Contract tests for the object stores, run against local disk and a real S3 server."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bizportal.api.stack.ports import free_port
from bizportal.storage import local_object_store
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.object_store import (
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    ObjectStoreUnavailable,
    StoredObject,
    content_key,
    sha256_of,
    validate_content_key,
)
from bizportal.storage.s3_object_store import S3ObjectStore
from support.s3_server import start_seaweedfs

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40
MISSING_KEY = content_key("0" * 64)
BAD_KEYS = [
    "",
    "../etc/passwd",
    "/etc/passwd",
    "sha256/ab/../../../etc/passwd",
    f"sha256/ab/{'ab' * 32}/../x",
    f"sha256/00/{'ab' * 32}",  # fan-out folder doesn't match the digest
    f"sha256/AB/{'AB' * 32}",  # upper case: not the canonical spelling
    f"sha256/ab/{'ab' * 31}",  # too short
    f"md5/ab/{'ab' * 32}",
    f"sha256\\ab\\{'ab' * 32}",
]


# -- helpers ---------------------------------------------------------------------------------------


def test_sha256_and_content_key() -> None:
    digest = hashlib.sha256(b"hello").hexdigest()
    assert sha256_of(b"hello") == digest
    assert content_key(digest) == f"sha256/{digest[:2]}/{digest}"
    assert content_key(digest.upper()) == content_key(digest)
    assert validate_content_key(content_key(digest)) == digest


@pytest.mark.parametrize("bad", ["", "xyz", "a" * 63, "g" * 64])
def test_content_key_rejects_non_digests(bad: str) -> None:
    with pytest.raises(ValueError):
        content_key(bad)


def test_error_hierarchy() -> None:
    assert issubclass(ObjectNotFound, ObjectStoreError)
    assert issubclass(ObjectStoreUnavailable, ObjectStoreError)


# -- contract, every backend --------------------------------------------------------------------


def test_put_get_roundtrip(store: ObjectStore) -> None:
    stored = store.put(PDF, "application/pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored == StoredObject(
        key=f"sha256/{digest[:2]}/{digest}", sha256=digest, size=len(PDF), content_type="application/pdf"
    )
    assert store.get(stored.key) == PDF


def test_empty_object_roundtrip(store: ObjectStore) -> None:
    stored = store.put(b"", "text/plain")
    assert stored.size == 0
    assert store.get(stored.key) == b""
    assert list(store.iter_chunks(stored.key)) == []


def test_put_is_idempotent(store: ObjectStore) -> None:
    first = store.put(PDF, "application/pdf")
    assert store.put(PDF, "application/pdf") == first
    # Same bytes under another declared type: the first recorded type wins.
    assert store.put(PDF, "application/octet-stream") == first
    assert store.get(first.key) == PDF


def test_distinct_bytes_get_distinct_keys(store: ObjectStore) -> None:
    a = store.put(b"a", "text/plain")
    b = store.put(b"b", "text/plain")
    assert a.key != b.key
    assert (store.get(a.key), store.get(b.key)) == (b"a", b"b")


def test_exists(store: ObjectStore) -> None:
    assert store.exists(MISSING_KEY) is False
    stored = store.put(PDF, "application/pdf")
    assert store.exists(stored.key) is True


def test_delete_removes_the_bytes_and_a_missing_key_is_no_error(store: ObjectStore) -> None:
    stored = store.put(b"to be forgotten", "application/pdf")
    store.delete(stored.key)
    assert not store.exists(stored.key)
    with pytest.raises(ObjectNotFound):
        store.get(stored.key)
    store.delete(stored.key)  # already gone
    assert store.put(b"to be forgotten", "application/pdf").key == stored.key and store.exists(stored.key)
    with pytest.raises(ValueError):
        store.delete("../etc/passwd")


def test_objects_lists_what_is_stored_and_nothing_else(store: ObjectStore) -> None:
    assert list(store.objects()) == []
    pdf = store.put(PDF, "application/pdf")
    image = store.put(b"\x89PNG not really", "image/png")
    gone = store.put(b"deleted again", "text/plain")
    store.delete(gone.key)
    if isinstance(store, LocalObjectStore):  # a stray file beside the objects (not a content key) is not listed
        (store.root / "sha256" / pdf.key.split("/")[1] / "notes.txt").write_text("x")
    assert sorted(store.objects(), key=lambda o: o.key) == sorted([pdf, image], key=lambda o: o.key)


def test_iter_chunks_streams_whole_object(store: ObjectStore) -> None:
    data = os.urandom(200_000)
    stored = store.put(data, "application/octet-stream")
    chunks = list(store.iter_chunks(stored.key, chunk_size=4096))
    assert len(chunks) > 1
    assert all(0 < len(chunk) <= 4096 for chunk in chunks)
    assert b"".join(chunks) == data
    assert b"".join(store.iter_chunks(stored.key)) == data


def test_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get(MISSING_KEY)
    # Raised by the call itself, before the caller starts iterating.
    with pytest.raises(ObjectNotFound):
        store.iter_chunks(MISSING_KEY)


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_malformed_keys_are_rejected(store: ObjectStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.get(bad)
    with pytest.raises(ValueError):
        store.exists(bad)
    with pytest.raises(ValueError):
        store.iter_chunks(bad)


def test_iter_chunks_rejects_non_positive_chunk_size(store: ObjectStore) -> None:
    stored = store.put(b"x", "text/plain")
    with pytest.raises(ValueError):
        store.iter_chunks(stored.key, chunk_size=0)


def test_check_passes_when_up(store: ObjectStore) -> None:
    store.check()


# -- local backend -------------------------------------------------------------------------------


def test_local_layout_and_sidecar(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "nested" / "objects")
    stored = store.put(PDF, "application/pdf")
    path = store.root.joinpath(*stored.key.split("/"))
    assert path.read_bytes() == PDF
    assert Path(f"{path}.meta.json").is_file()
    # Only the object and its sidecar: no temp files left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, f"{path.name}.meta.json"]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_local_rejects_path_traversal(tmp_path: Path, bad: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    store = LocalObjectStore(tmp_path / "objects")
    for attempt in (bad, "../secret.txt", str(secret)):
        with pytest.raises(ValueError):
            store.get(attempt)
        with pytest.raises(ValueError):
            store.exists(attempt)


def test_local_crash_mid_write_leaves_no_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    real_replace = os.replace

    def crash_on_data_file(src: str, dst: os.PathLike[str] | str) -> None:
        if not str(dst).endswith(".meta.json"):
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(local_object_store.os, "replace", crash_on_data_file)
    with pytest.raises(OSError, match="simulated crash"):
        store.put(PDF, "application/pdf")
    key = content_key(sha256_of(PDF))
    assert not store.exists(key)
    assert not [p for p in store.root.rglob("*") if p.name.endswith(".tmp")]

    monkeypatch.setattr(local_object_store.os, "replace", real_replace)
    assert store.put(PDF, "application/pdf").key == key
    assert store.get(key) == PDF


def test_put_stream_stores_what_put_would(store: ObjectStore) -> None:
    big = os.urandom(3 * 1024 * 1024 + 17)  # several chunks; on S3 more than one part would be needed at 1 MiB
    stored = store.put_stream(io.BytesIO(big), "application/pdf")
    assert stored == StoredObject(content_key(sha256_of(big)), sha256_of(big), len(big), "application/pdf")
    assert store.get(stored.key) == big
    # The same bytes again store nothing new; the first content type wins, as for put().
    assert store.put_stream(io.BytesIO(big), "image/png") == stored
    assert store.put(PDF, "application/pdf") == store.put_stream(io.BytesIO(PDF), "application/pdf")


def test_put_stream_reads_from_the_current_position(store: ObjectStore) -> None:
    source = io.BytesIO(b"skip" + PDF)
    source.seek(4)
    assert store.get(store.put_stream(source, "application/pdf").key) == PDF


def test_local_put_stream_failing_mid_read_stores_nothing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")

    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise OSError("connection reset")
            return super().read(size)

    with pytest.raises(OSError, match="connection reset"):
        store.put_stream(Broken(PDF * 100), "application/pdf")
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_local_missing_sidecar_falls_back_to_octet_stream(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    stored = store.put(PDF, "application/pdf")
    Path(f"{store.root.joinpath(*stored.key.split('/'))}.meta.json").unlink()
    assert store.put(PDF, "application/pdf").content_type == "application/octet-stream"


def test_local_check_fails_when_root_is_gone(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.root.rmdir()
    store.root.write_text("not a folder")
    with pytest.raises(ObjectStoreUnavailable, match="not a directory"):
        store.check()


# -- S3 backend ----------------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_put_skips_upload_when_present(s3_store: S3ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    uploads: list[str] = []
    real_put_object = s3_store._client.put_object

    def counting_put_object(bucket: str, key: str, *args: object, **kwargs: object) -> object:
        uploads.append(key)
        return real_put_object(bucket, key, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(s3_store._client, "put_object", counting_put_object)
    first = s3_store.put(PDF, "application/pdf")
    assert s3_store.put(PDF, "application/pdf") == first
    assert uploads == [first.key]


@pytest.mark.s3
def test_s3_presigned_url_downloads_without_credentials(s3_store: S3ObjectStore) -> None:
    stored = s3_store.put(PDF, "application/pdf")
    url = s3_store.presigned_get_url(stored.key, datetime.timedelta(minutes=5))
    response = httpx.get(url, trust_env=False)
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"


@pytest.mark.s3
def test_s3_presigned_url_rejects_bad_key(s3_store: S3ObjectStore) -> None:
    with pytest.raises(ValueError):
        s3_store.presigned_get_url("../x", datetime.timedelta(minutes=5))


@pytest.mark.s3
def test_s3_check_creates_missing_bucket(s3_store_factory: Callable[..., S3ObjectStore]) -> None:
    store = s3_store_factory()
    store.check()
    assert store._client.bucket_exists(store.bucket)


@pytest.mark.s3
def test_s3_check_fails_for_missing_bucket_without_create(
    s3_store_factory: Callable[..., S3ObjectStore],
) -> None:
    store = s3_store_factory(create_bucket=False)
    with pytest.raises(ObjectStoreUnavailable, match="does not exist"):
        store.check()
    with pytest.raises(ObjectStoreUnavailable):
        store.put(b"x", "text/plain")


@pytest.mark.s3
def test_s3_unreachable_server_fails_fast_without_leaking_secret() -> None:
    port = free_port()  # nothing listens here
    store = S3ObjectStore(
        endpoint=f"127.0.0.1:{port}", access_key="ak", secret_key="very-secret-value", bucket="docs"
    )
    started = time.monotonic()
    with pytest.raises(ObjectStoreUnavailable) as excinfo:
        store.check()
    assert time.monotonic() - started < 5
    message = str(excinfo.value)
    assert f"S3 endpoint 127.0.0.1:{port} could not be reached: " in message
    assert "very-secret-value" not in message
    with pytest.raises(ObjectStoreUnavailable):
        store.get(MISSING_KEY)
    with pytest.raises(ObjectStoreUnavailable):
        store.put(b"x", "text/plain")


@pytest.mark.s3
def test_s3_a_full_store_is_unavailable_and_the_message_says_the_server_answered() -> None:
    # A SeaweedFS of its own with room for one volume: the first bucket's first write takes it, and a write to a second
    # bucket finds no volume to grow, which SeaweedFS answers with HTTP 500 (InternalError), after the client's retries.
    server = start_seaweedfs(max_volumes=1)
    try:
        first, second = (S3ObjectStore(server.endpoint, server.access_key, server.secret_key, bucket)
                         for bucket in ("first", "second"))
        stored = first.put(PDF, "application/pdf")
        second.check()  # making a bucket takes no volume: the store is up
        with pytest.raises(ObjectStoreUnavailable) as excinfo:
            second.put(b"one more", "text/plain")
        message = str(excinfo.value)
        assert message.startswith(f"S3 endpoint {server.endpoint} answered HTTP 500 (bucket 'second'): InternalError")
        assert "could not be reached" not in message and server.secret_key not in message
        assert first.get(stored.key) == PDF  # what is stored stays readable
    finally:
        server.stop()
