"""Object store on any S3-compatible server (MinIO, AWS S3, Ceph, ...) via the ``minio`` SDK."""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, cast

import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import check_bucket_name

from .object_store import (
    DEFAULT_CHUNK_SIZE,
    ObjectNotFound,
    ObjectStoreError,
    ObjectStoreUnavailable,
    StoredObject,
    content_key,
    sha256_of,
    spool,
    validate_content_key,
)

__all__ = ["S3ObjectStore"]

# minio's default client waits 5 minutes and retries 5 times, so a readiness probe
# against a dead server would hang; these bound a failed check() to a few seconds.
_CONNECT_TIMEOUT_S = 2.0
_READ_TIMEOUT_S = 30.0  # per socket read, not per transfer: large objects still stream fine
_RETRIES = urllib3.Retry(
    total=2,
    connect=1,
    read=1,
    backoff_factor=0.2,
    status_forcelist=[500, 502, 503, 504],
    # After the last retry, hand the server's error answer to minio (which reads its status and S3 error code) rather
    # than raise urllib3's "too many 500 error responses", which reads as if the server could not be reached.
    raise_on_status=False,
)

_NOT_FOUND_CODES = frozenset({"NoSuchKey"})
# Errors that mean "this deployment is misconfigured", not "this request was bad".
_UNAVAILABLE_CODES = frozenset(
    {"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}
)
_BUCKET_TAKEN_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
_FALLBACK_CONTENT_TYPE = "application/octet-stream"


class S3ObjectStore:
    """Content-addressed blobs in one S3 bucket; implements :class:`~.object_store.ObjectStore`.

    Construction does no network I/O (so the app can start while S3 is down and report
    it through :meth:`check`); the bucket is verified/created on first use.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str = "us-east-1",
        secure: bool = False,
        create_bucket: bool = True,
    ) -> None:
        """Configure the client.

        Args:
            endpoint: ``host:port`` without a scheme.
            access_key: S3 access key id.
            secret_key: S3 secret key (never included in error messages).
            bucket: Bucket holding the objects.
            region: Region to sign for; fixing it avoids a GetBucketLocation round trip.
            secure: Use HTTPS.
            create_bucket: Create the bucket on first use if it is missing.

        Raises:
            ValueError: if ``endpoint`` or ``bucket`` is malformed.
        """
        check_bucket_name(bucket)
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.create_bucket = create_bucket
        http_client = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=_CONNECT_TIMEOUT_S, read=_READ_TIMEOUT_S),
            retries=_RETRIES,
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
        )
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http_client,
        )
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3ObjectStore(endpoint={self.endpoint!r}, bucket={self.bucket!r})"

    # -- ObjectStore ---------------------------------------------------------------------------

    def put(self, data: bytes, content_type: str) -> StoredObject:
        """Upload ``data`` unless already present; see :meth:`ObjectStore.put`."""
        digest = sha256_of(data)
        return self._upload(content_key(digest), digest, len(data), io.BytesIO(data), content_type)

    def put_stream(self, source: IO[bytes], content_type: str) -> StoredObject:
        """Upload a stream unless already present; see :meth:`ObjectStore.put_stream`."""
        # The key is the digest, known only at the end: spool to a local file first, then upload from it
        # (minio sends a large file in parts, each read from the file, never the whole in memory).
        spooled, digest, size = spool(source)
        with spooled:
            return self._upload(content_key(digest), digest, size, cast(BinaryIO, spooled), content_type)

    def _upload(self, key: str, digest: str, size: int, body: BinaryIO, content_type: str) -> StoredObject:
        self._ensure_bucket()
        with self._translate(key):
            try:
                stat = self._client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code not in _NOT_FOUND_CODES:
                    raise
            else:
                # Same key means same bytes: skip the upload, report what the first writer stored.
                stored = stat.size if stat.size is not None else size
                return StoredObject(key, digest, stored, stat.content_type or _FALLBACK_CONTENT_TYPE)
            self._client.put_object(self.bucket, key, body, size, content_type=content_type)
        return StoredObject(key, digest, size, content_type)

    def get(self, key: str) -> bytes:
        """Download a whole object; see :meth:`ObjectStore.get`."""
        validate_content_key(key)
        self._ensure_bucket()
        with self._translate(key):
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream an object; see :meth:`ObjectStore.iter_chunks`."""
        validate_content_key(key)
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        self._ensure_bucket()
        # The GET is sent now, so a missing key raises here rather than at the first next()
        # (one round trip instead of HEAD + GET). If the iterator is dropped unconsumed, the
        # response is closed when it is garbage-collected.
        with self._translate(key):
            response = self._client.get_object(self.bucket, key)
        return self._stream(key, response, chunk_size)

    def exists(self, key: str) -> bool:
        """Tell whether ``key`` is stored; see :meth:`ObjectStore.exists`."""
        validate_content_key(key)
        self._ensure_bucket()
        with self._translate(key):
            try:
                self._client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _NOT_FOUND_CODES:
                    return False
                raise
        return True

    def delete(self, key: str) -> None:
        """Remove ``key`` (S3 answers a missing key with success); see :meth:`ObjectStore.delete`."""
        validate_content_key(key)
        self._ensure_bucket()
        with self._translate(key):
            self._client.remove_object(self.bucket, key)

    def objects(self) -> Iterator[StoredObject]:
        """List the bucket's content keys; see :meth:`ObjectStore.objects`."""
        self._ensure_bucket()
        with self._translate(None):
            # A listing gives no content type (S3 keeps it with the object): one HEAD per object adds it.
            for listed in self._client.list_objects(self.bucket, prefix="sha256/", recursive=True):
                key = listed.object_name or ""
                try:
                    digest = validate_content_key(key)
                except ValueError:
                    continue
                stat = self._client.stat_object(self.bucket, key)
                size = stat.size if stat.size is not None else listed.size or 0
                yield StoredObject(key, digest, size, stat.content_type or _FALLBACK_CONTENT_TYPE)

    def check(self) -> None:
        """Readiness probe: the server answers and the bucket exists (created if allowed)."""
        try:
            with self._translate(None):
                found = self._client.bucket_exists(self.bucket)
            if not found and not self.create_bucket:
                raise ObjectStoreUnavailable(f"S3 bucket {self.bucket!r} does not exist at {self.endpoint}")
            self._bucket_ready = found
            self._ensure_bucket()
        except ObjectStoreUnavailable:
            raise
        except ObjectStoreError as exc:
            # Any other failure here (odd S3 error codes) still means "not ready".
            raise ObjectStoreUnavailable(str(exc)) from exc

    # -- S3-only -------------------------------------------------------------------------------

    def presigned_get_url(self, key: str, expires: datetime.timedelta) -> str:
        """Build a time-limited URL that downloads ``key`` without credentials.

        Computed locally (no request is sent), so it does not check that the key exists.

        Args:
            key: A content key as returned by :meth:`put`.
            expires: Validity, from 1 second up to 7 days (the S3 SigV4 maximum).

        Returns:
            An absolute ``http(s)://`` URL.

        Raises:
            ValueError: if ``key`` is malformed or ``expires`` is out of range.
        """
        validate_content_key(key)
        return self._client.presigned_get_object(self.bucket, key, expires=expires)

    # -- helpers -------------------------------------------------------------------------------

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, self._translate(None):
            if self._bucket_ready:
                return
            if not self._client.bucket_exists(self.bucket):
                if not self.create_bucket:
                    raise ObjectStoreUnavailable(
                        f"S3 bucket {self.bucket!r} does not exist at {self.endpoint}"
                    )
                try:
                    self._client.make_bucket(self.bucket, location=self.region)
                except S3Error as exc:
                    # Another process created it between our check and our create: fine.
                    if exc.code not in _BUCKET_TAKEN_CODES:
                        raise
            self._bucket_ready = True

    def _stream(self, key: str, response: urllib3.BaseHTTPResponse, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._translate(key):
                for chunk in response.stream(chunk_size):
                    if chunk:
                        yield chunk
        finally:
            response.close()
            response.release_conn()

    @contextmanager
    def _translate(self, key: str | None) -> Iterator[None]:
        """Turn minio/urllib3 exceptions into the ObjectStore hierarchy.

        Messages name the endpoint and bucket so operators can act on them; the
        client's credentials are never part of any message.
        """
        try:
            yield
        except S3Error as exc:
            if key is not None and exc.code in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from exc
            status = exc.response.status
            if status >= 500:
                # The server answered, with a failure of its own (out of space, a backend down): retried already.
                raise ObjectStoreUnavailable(
                    f"S3 endpoint {self.endpoint} answered HTTP {status} (bucket {self.bucket!r}): "
                    f"{exc.code}: {exc.message}"
                ) from exc
            message = f"S3 error at {self.endpoint} (bucket {self.bucket!r}): {exc.code}: {exc.message}"
            if exc.code in _UNAVAILABLE_CODES:
                raise ObjectStoreUnavailable(message) from exc
            raise ObjectStoreError(message) from exc
        except ServerError as exc:
            # An error status without an S3 error body (a HEAD request's answer has none).
            raise ObjectStoreUnavailable(
                f"S3 endpoint {self.endpoint} answered HTTP {exc.status_code} (bucket {self.bucket!r})"
            ) from exc
        except InvalidResponseError as exc:
            # It quotes the body (e.g. a proxy's HTML page): keep logs readable.
            detail = str(exc)[:300]
            raise ObjectStoreUnavailable(f"S3 endpoint {self.endpoint} answered, not as S3 does: {detail}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # MaxRetryError wraps the interesting part (refused, timed out, DNS) in .reason.
            reason = getattr(exc, "reason", None) or exc
            raise ObjectStoreUnavailable(
                f"S3 endpoint {self.endpoint} could not be reached: {type(reason).__name__}: {reason}"
            ) from exc
