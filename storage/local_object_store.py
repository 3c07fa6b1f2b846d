"""Object store on the local filesystem (development, tests, single-node installs).

Layout under ``root`` mirrors the key: ``sha256/ab/abcd...`` holds the bytes and
``sha256/ab/abcd....meta.json`` the content type.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .object_store import (
    DEFAULT_CHUNK_SIZE,
    ObjectNotFound,
    ObjectStoreUnavailable,
    StoredObject,
    content_key,
    sha256_of,
    spool,
    validate_content_key,
)

__all__ = ["LocalObjectStore"]

_META_SUFFIX = ".meta.json"
_FALLBACK_CONTENT_TYPE = "application/octet-stream"


class LocalObjectStore:
    """Content-addressed blobs in a folder; implements :class:`~.object_store.ObjectStore`."""

    def __init__(self, root: Path) -> None:
        """Use (and create if needed) ``root`` as the store's folder."""
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    # -- ObjectStore ---------------------------------------------------------------------------

    def put(self, data: bytes, content_type: str) -> StoredObject:
        """Store ``data``; see :meth:`ObjectStore.put`."""
        digest = sha256_of(data)
        key = content_key(digest)
        path = self._path(key)
        meta_path = _meta_path(path)
        if path.is_file():
            # Already stored: report the content type recorded by the first writer.
            return StoredObject(key, digest, path.stat().st_size, self._read_content_type(meta_path))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Sidecar first, bytes last: the data file's appearance is the commit point, so a
        # crash in between leaves at most an orphan sidecar that the next put overwrites.
        _atomic_write(meta_path, json.dumps({"content_type": content_type}).encode())
        _atomic_write(path, data)
        return StoredObject(key, digest, len(data), content_type)

    def put_stream(self, source: IO[bytes], content_type: str) -> StoredObject:
        """Store a stream; see :meth:`ObjectStore.put_stream`."""
        # Spooled inside the root, so committing it is a hard link on the same filesystem (no second copy);
        # the temporary name goes when the spool is closed, whatever happened.
        spooled, digest, size = spool(source, self.root)
        with spooled:
            key = content_key(digest)
            path = self._path(key)
            if path.is_file():
                return StoredObject(key, digest, path.stat().st_size, self._read_content_type(_meta_path(path)))
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(_meta_path(path), json.dumps({"content_type": content_type}).encode())
            os.fsync(spooled.fileno())
            try:
                os.link(spooled.name, path)  # the commit point, as the rename is in `put`
            except FileExistsError:
                pass  # a concurrent writer stored the same bytes first
            _fsync_dir(path.parent)
        return StoredObject(key, digest, size, content_type)

    def get(self, key: str) -> bytes:
        """Read a whole object; see :meth:`ObjectStore.get`."""
        with self._open(key) as fh:
            return fh.read()

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream an object; see :meth:`ObjectStore.iter_chunks`."""
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        # Checked now, not inside the generator, so a missing key raises before any yield.
        # The file itself is opened lazily so an iterator that is never consumed holds no handle.
        if not self.exists(key):
            raise ObjectNotFound(key)
        return self._read_chunks(key, chunk_size)

    def exists(self, key: str) -> bool:
        """Tell whether ``key`` is stored; see :meth:`ObjectStore.exists`."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove ``key`` and its sidecar; see :meth:`ObjectStore.delete`."""
        path = self._path(key)
        path.unlink(missing_ok=True)
        _meta_path(path).unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        """List the stored objects; see :meth:`ObjectStore.objects`."""
        # Sidecars, spools and probes have other names: only a file whose path is a content key is an object.
        for path in sorted(self.root.glob("sha256/*/*")):
            key = "/".join(path.relative_to(self.root).parts)
            try:
                digest = validate_content_key(key)
            except ValueError:
                continue
            if path.is_file():
                yield StoredObject(key, digest, path.stat().st_size, self._read_content_type(_meta_path(path)))

    def check(self) -> None:
        """Readiness probe: the root must exist and accept new files."""
        if not self.root.is_dir():
            raise ObjectStoreUnavailable(f"local object store root {self.root} is not a directory")
        try:
            # A real write catches read-only mounts and full disks that os.access can miss.
            with tempfile.TemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise ObjectStoreUnavailable(
                f"local object store root {self.root} is not writable: {exc.strerror or exc}"
            ) from exc

    # -- helpers -------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        # The key regex admits only hex and fixed separators, so the result stays under root.
        validate_content_key(key)
        return self.root.joinpath(*key.split("/"))

    def _open(self, key: str) -> IO[bytes]:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc

    def _read_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        with self._open(key) as fh:
            while chunk := fh.read(chunk_size):
                yield chunk

    @staticmethod
    def _read_content_type(meta_path: Path) -> str:
        try:
            value = json.loads(meta_path.read_text(encoding="utf-8")).get("content_type")
        except (OSError, ValueError, AttributeError):
            # Sidecar lost (e.g. restored from a bytes-only backup): the bytes are still valid.
            return _FALLBACK_CONTENT_TYPE
        return value if isinstance(value, str) and value else _FALLBACK_CONTENT_TYPE


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + _META_SUFFIX)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either the old state or all the new bytes."""
    # The temp file lives in the target folder so os.replace is a same-filesystem rename.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            # Flush to disk before the rename, else a power cut can expose a renamed empty file.
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; directories can't be opened this way on Windows.
    if os.name != "posix":
        return
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
