"""Rate limits on the public doors and on failed sign-ins (security review L6)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bizportal.api.app import create_app
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from support.helpers import REDIS_URL, SIGNING_KEY, Auth


def _client(settings: Settings, engine: LicensingEngine, **limits: str) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=limits), engine=engine))


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    """SQLite only: the limits do not depend on the database."""
    database = tmp_path / "test.db"
    shutil.copyfile(migrated_sqlite, database)
    return Settings(data_dir=tmp_path / "var", database_url=f"sqlite:///{database}", token_signing_key=SIGNING_KEY,
                    public_base_url="https://bizportal.test")


def test_verification_uploads_are_limited_per_address(settings: Settings, engine: LicensingEngine) -> None:
    with _client(settings, engine, rate_limit_verify_uploads="3/minute") as client:
        for _ in range(3):
            assert client.post("/api/v1/verify", files={"file": ("x.pdf", b"%PDF-1.4 nothing")}).status_code == 200
        refused = client.post("/api/v1/verify", files={"file": ("x.pdf", b"%PDF-1.4 nothing")})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and "wait" in error["hint"]
        # Other doors keep their own budgets.
        assert client.get("/api/v1/verify/LAO-2569-000001").status_code == 200


def test_repeated_bad_tokens_slow_the_address_down(settings: Settings, engine: LicensingEngine, auth: Auth) -> None:
    with _client(settings, engine, rate_limit_auth_failures="5/minute") as client:
        good = auth("applicant", "alice")
        assert client.get("/api/v1/applications", headers=good).status_code == 200  # successes cost nothing
        for n in range(5):
            bad = {"Authorization": f"Bearer not-a-token-{n}"}
            assert client.get("/api/v1/applications", headers=bad).status_code == 401
        refused = client.get("/api/v1/applications", headers={"Authorization": "Bearer not-a-token-6"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "rate_limited"
        # A valid token from the same address (a colleague behind the same NAT) is never refused.
        assert client.get("/api/v1/applications", headers=good).status_code == 200
        # Public pages without a token stay open.
        assert client.get("/api/v1/licences").status_code == 200


def test_a_malformed_limit_stops_start_up() -> None:
    with pytest.raises(ValidationError, match="is not a rate limit"):
        Settings(rate_limit_lookups="lots")


@pytest.fixture
def clean_redis_limits() -> Iterator[None]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()  # the tests' own database
    yield
    connection.flushdb()


@pytest.mark.redis
@pytest.mark.usefixtures("clean_redis_limits")
def test_api_processes_share_their_counts_through_redis(settings: Settings, engine: LicensingEngine) -> None:
    shared = {"redis_url": REDIS_URL, "rate_limit_lookups": "4/minute"}
    with _client(settings, engine, **shared) as first, _client(settings, engine, **shared) as second:
        for client in (first, second, first, second):
            assert client.get("/api/v1/verify/LAO-2569-000001").status_code == 200
        assert first.get("/api/v1/verify/LAO-2569-000001").status_code == 429
        assert second.get("/api/v1/verify/LAO-2569-000001").status_code == 429
