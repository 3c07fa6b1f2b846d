"""The object-store contract shared by every blob backend.

Uploaded documents (licence PDFs, scanned IDs, ...) are stored content-addressed:
the key is derived from the SHA-256 of the bytes, so the same file uploaded twice
is stored once and a key can never silently point at different content.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUnavailable",
    "StoredObject",
    "content_key",
    "sha256_of",
    "spool",
    "validate_content_key",
]

DEFAULT_CHUNK_SIZE = 65536

# Lower-case hex only: one canonical spelling per digest, so two keys can't name the same blob.
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CONTENT_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{64})")


class ObjectStoreError(Exception):
    """Root of every error an object store raises (callers can catch just this)."""


class ObjectNotFound(ObjectStoreError):
    """No object is stored under the requested key."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The backend cannot be reached or is misconfigured (a readiness failure, not a data error)."""


@dataclass(frozen=True)
class StoredObject:
    """What a backend returns after storing bytes.

    Attributes:
        key: Content key, ``sha256/<first 2 hex>/<full sha256 hex>``.
        sha256: Lower-case hex SHA-256 of the bytes.
        size: Length of the bytes.
        content_type: MIME type recorded when the bytes were first stored.
    """

    key: str
    sha256: str
    size: int
    content_type: str


def sha256_of(data: bytes) -> str:
    """Return the lower-case hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def spool(source: IO[bytes], directory: Path | None = None,
          chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[IO[bytes], str, int]:
    """Copy ``source`` into an anonymous temporary file while hashing and counting it.

    Memory holds one chunk at a time whatever the size, which is what lets a backend store a large upload
    without reading it whole.

    Args:
        source: read from its current position to its end.
        directory: where the temporary file lives (a backend's own folder, so a rename can commit it).
        chunk_size: bytes read at a time.

    Returns:
        The temporary file (positioned at 0; the caller closes it), the lower-case hex SHA-256 and the size.
    """
    target = tempfile.NamedTemporaryFile(dir=directory, prefix=".spool-", suffix=".tmp")  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    try:
        while chunk := source.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
        target.flush()
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return target, digest.hexdigest(), size


def content_key(sha256_hex: str) -> str:
    """Build the storage key for a SHA-256 digest.

    The two-character fan-out directory keeps any single folder (or S3 prefix
    listing) from growing to millions of entries.

    Args:
        sha256_hex: 64 hex characters (upper case is normalised to lower case).

    Returns:
        ``sha256/<first 2 hex>/<full sha256 hex>``.

    Raises:
        ValueError: if ``sha256_hex`` is not a SHA-256 hex digest.
    """
    digest = sha256_hex.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError(f"not a sha256 hex digest: {sha256_hex!r}")
    return f"sha256/{digest[:2]}/{digest}"


def validate_content_key(key: str) -> str:
    """Check that ``key`` has exactly the shape :func:`content_key` produces.

    Backends call this before touching storage so a caller-supplied key can never
    escape the store (``../``, absolute paths, odd prefixes).

    Args:
        key: The key to check.

    Returns:
        The SHA-256 hex digest embedded in the key.

    Raises:
        ValueError: if the key is malformed.
    """
    match = _CONTENT_KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None or match.group(2)[:2] != match.group(1):
        raise ValueError(f"malformed object key: {key!r}")
    return match.group(2)


class ObjectStore(Protocol):
    """A content-addressed blob store (local disk in dev, S3-compatible in production)."""

    def put(self, data: bytes, content_type: str) -> StoredObject:
        """Store ``data`` under its content key.

        Storing bytes that are already present is a no-op: no second write happens
        and the same :class:`StoredObject` is returned (the first content type wins).

        Args:
            data: The bytes to store.
            content_type: MIME type to record, e.g. ``application/pdf``.

        Returns:
            The stored object's key, digest, size and content type.

        Raises:
            ObjectStoreUnavailable: if the backend cannot be reached.
            ObjectStoreError: for any other backend failure.
        """
        ...

    def put_stream(self, source: IO[bytes], content_type: str) -> StoredObject:
        """Store what ``source`` holds, from its position to its end, without reading it into memory whole.

        The bytes are spooled to a temporary file while they are hashed and counted, then moved (local) or
        uploaded (S3) under their content key; a failure part-way stores nothing. Storing bytes already present
        is a no-op, as for :meth:`put`.

        Args:
            source: a readable binary file.
            content_type: MIME type to record.

        Returns:
            The stored object's key, digest, size and content type.

        Raises:
            ObjectStoreUnavailable: if the backend cannot be reached.
            ObjectStoreError: for any other backend failure.
        """
        ...

    def get(self, key: str) -> bytes:
        """Read a whole object into memory.

        Args:
            key: A content key as returned by :meth:`put`.

        Returns:
            The stored bytes.

        Raises:
            ValueError: if ``key`` is not a well-formed content key.
            ObjectNotFound: if nothing is stored under ``key``.
            ObjectStoreUnavailable: if the backend cannot be reached.
        """
        ...

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream an object in chunks, for downloads that shouldn't sit in memory.

        Existence is checked eagerly, when this method is called, so a web handler
        can turn a missing key into a 404 before it starts the response.

        Args:
            key: A content key as returned by :meth:`put`.
            chunk_size: Largest chunk to yield, in bytes (must be positive).

        Returns:
            An iterator of non-empty byte chunks that concatenate to the object.

        Raises:
            ValueError: if ``key`` is malformed or ``chunk_size`` is not positive.
            ObjectNotFound: if nothing is stored under ``key`` (before anything is yielded).
            ObjectStoreUnavailable: if the backend cannot be reached.
        """
        ...

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under ``key``.

        Args:
            key: A content key as returned by :meth:`put`.

        Returns:
            True if the object is present.

        Raises:
            ValueError: if ``key`` is not a well-formed content key.
            ObjectStoreUnavailable: if the backend cannot be reached.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the object under ``key`` for good (a key already absent is no error).

        Content-addressed objects may be shared: the caller deletes only bytes nothing else refers to.

        Raises:
            ValueError: if ``key`` is not a well-formed content key.
            ObjectStoreUnavailable: if the backend cannot be reached.
        """
        ...

    def objects(self) -> Iterator[StoredObject]:
        """Every object stored, in no particular order (a backup's inventory; a listing, no object is read).

        Only content keys are listed: anything else a bucket or folder holds is none of the store's.

        Returns:
            Each object's key, digest (from its key), size and content type.

        Raises:
            ObjectStoreUnavailable: if the backend cannot be reached.
        """
        ...

    def check(self) -> None:
        """Readiness probe: verify that the backend is reachable and usable.

        Returns:
            None when the store is ready.

        Raises:
            ObjectStoreUnavailable: with a message saying what is wrong (never a secret).
        """
        ...
