"""Fixtures for storage tests: an object store per backend (the S3 server is tests/conftest.py's)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.object_store import ObjectStore
from bizportal.storage.s3_object_store import S3ObjectStore

# tests/ has no __init__.py (and pytest's pythonpath is not ours to set), so make the
# shared helper module importable explicitly.
_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support.s3_server import S3Server  # noqa: E402

S3StoreFactory = Callable[..., S3ObjectStore]


@pytest.fixture
def s3_store_factory(s3_server: S3Server, new_s3_bucket: Callable[[], str]) -> S3StoreFactory:
    """Build S3 stores on the session's server, each with a fresh bucket so tests stay isolated (removed at the end).

    Keyword arguments override the constructor defaults (e.g. ``create_bucket=False``).
    """

    def make(**overrides: Any) -> S3ObjectStore:
        options: dict[str, Any] = {
            "endpoint": s3_server.endpoint,
            "access_key": s3_server.access_key,
            "secret_key": s3_server.secret_key,
            "bucket": new_s3_bucket(),
            "region": s3_server.region,
            "secure": s3_server.secure,
        }
        options.update(overrides)
        return S3ObjectStore(**options)

    return make


@pytest.fixture
def s3_store(s3_store_factory: S3StoreFactory) -> S3ObjectStore:
    return s3_store_factory()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """The same contract tests run against every backend."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    # Looked up lazily so local-only runs never start the S3 server.
    factory: S3StoreFactory = request.getfixturevalue("s3_store_factory")
    return factory()
