"""Fixtures shared by every test folder: a clock tests can move, databases, the app, tokens."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.key_files import LICENCE_CERT_FILE, LICENCE_KEY_FILE, VERIFICATION_KEY_FILE, write_key_set
from bizportal.api.settings import Settings
from bizportal.api.stack.ports import free_port
from bizportal.api.tokens import issue_token
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Role
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.scratch_schema import scratch_schema
from support.browser import launch, serve
from support.clock import MovableClock
from support.helpers import OFFICE, SIGNING_KEY, Auth, Journey, id_number_of
from support.oidc_provider import OidcProviderProcess, start_provider
from support.s3_server import S3Server, start_s3_server
from support.smtp_server import Mailbox

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with scratch_schema(POSTGRES_URL, "t_") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; app tests start from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def key_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signing key set (`bizportal keys`), given to every test portal as a deployment gives it to every process."""
    folder = tmp_path_factory.mktemp("keys")
    write_key_set(folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, database_url: str, migrated_sqlite: Path, key_set: Path) -> Settings:
    if database_url.startswith("sqlite:///"):
        # The app migrates on start; copying a migrated file skips ~0.2 s of Alembic per test (the
        # migrations themselves are tested from empty databases in tests/storage).
        shutil.copyfile(migrated_sqlite, database_url.removeprefix("sqlite:///"))
    return Settings(data_dir=tmp_path / "var", database_url=database_url, token_signing_key=SIGNING_KEY,
                    public_base_url="https://bizportal.test", verification_key=key_set / VERIFICATION_KEY_FILE,
                    licence_signing_key=key_set / LICENCE_KEY_FILE, licence_signing_cert=key_set / LICENCE_CERT_FILE)


@pytest.fixture
def engine(settings: Settings, clock: MovableClock) -> Iterator[LicensingEngine]:
    built = engine_from(settings, clock=clock)
    yield built
    built.db.dispose()


@pytest.fixture
def client(settings: Settings, engine: LicensingEngine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


@pytest.fixture
def auth() -> Auth:
    """`auth(role, subject, agency=None, office=None, name=None, ial=None, aal=None, id_number=None)` -> headers
    with a signed bearer token. An applicant carries the ID number `id_number_of(subject)` unless `id_number`
    says otherwise ("" for none). Without `ial`/`aal` the token carries no levels: the development default
    (IAL 2.3, AAL 2) applies."""

    def headers(role: str, subject: str, agency: str | None = None, office: str | None = None,
                name: str | None = None, ial: str | None = None, aal: str | None = None,
                id_number: str | None = None) -> dict[str, str]:
        if role == "applicant" and id_number is None:
            id_number = id_number_of(subject)  # an applicant is a person: `alice` is ALICE_ID
        id_number = id_number or None  # "": a sign-in that vouches for no ID number
        token = issue_token(SIGNING_KEY, subject, Role(role), agency, office=office, name=name, ial=ial, aal=aal,
                            id_number=id_number)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def journey(client: TestClient, auth: Auth) -> Journey:
    """Alice applies for a shop in Khlong Toei; Olivia of the Khlong Toei district office decides;
    Carl takes cash at a counter."""
    return Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                   auth("counter_officer", "carl"))


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1: (the handler holding received messages, its port)."""
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProviderProcess]:
    """A real OpenID provider (oidc-provider-mock) in its own process, with the sample people of
    tests/support/oidc_provider.py."""
    provider = start_provider()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The session's S3 server (tests/support/s3_server.py): a SeaweedFS started once per worker, when the first test
    needs it, or the external server that BIZPORTAL_TEST_S3_ENDPOINT names."""
    server = start_s3_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def new_s3_bucket(s3_server: S3Server) -> Iterator[Callable[[], str]]:
    """`new_s3_bucket()` -> a bucket name of this test's own (the store makes the bucket on first use); every bucket
    named here is removed, with its objects, when the test ends."""
    names: list[str] = []

    def new() -> str:
        names.append(s3_server.new_bucket_name())
        return names[-1]

    yield new
    for name in names:
        s3_server.remove_bucket(name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium driven by Playwright (tests/support/browser.py), one per test module."""
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def served(settings: Settings, engine: LicensingEngine, oidc_provider: OidcProviderProcess) -> Iterator[str]:
    """The service on a real server for a browser: its public base URL is its own address (so the session cookie's
    CSRF rule accepts the pages' own forms), citizens and staff sign in at the test OpenID provider, and the status
    stream looks for changes often (the tracking page's live status)."""
    def make_app(base: str) -> FastAPI:
        app = create_app(settings.model_copy(update={
            "public_base_url": base, "oidc_issuer": oidc_provider.issuer, "oidc_client_id": "bizportal-pages",
            "oidc_client_secret": SecretStr("pages-secret"), "staff_oidc_issuer": oidc_provider.issuer,
            "staff_oidc_client_id": "bizportal-pages-staff", "staff_oidc_client_secret": SecretStr("staff-secret")}),
            engine=engine)
        app.state.status_poll_seconds = 0.2
        return app

    with serve(make_app) as url:
        yield url


def pytest_runtest_setup(item: pytest.Item) -> None:
    # libfaketime (`make test-any-date`) moves the clock of this process and its Python children, not SeaweedFS's
    # (a static Go binary): it refuses requests signed more than 15 minutes off its own clock. So whatever talks
    # to an S3 server (marker s3: the storage tests, a stack of processes, the backup drill) cannot run there.
    if "FAKETIME" in os.environ and item.get_closest_marker("s3") is not None:
        pytest.skip("S3 tests need the server's clock to agree with ours: they cannot run under libfaketime")
