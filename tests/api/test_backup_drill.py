"""The backup and restore drill (docs/operations.md): `bizportal backup create`, then `restore` into an empty
database and bucket, after which every licence still verifies and every download gives the same bytes.

PostgreSQL databases of the tests' own (`bizportal_drill_<random>`, dropped afterwards: pg_dump copies a whole
database) and a SeaweedFS of the module's own, a real S3 server; the same drill on the embedded SQLite and local
folder. The commands run as an operator runs them, through the CLI with settings in the environment.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bizportal.api.app import create_app
from bizportal.api.cli import app
from bizportal.api.composition import engine_from, object_store_from
from bizportal.api.key_files import LICENCE_CERT_FILE, LICENCE_KEY_FILE, VERIFICATION_KEY_FILE, write_key_set
from bizportal.api.settings import Settings
from bizportal.api.stack.seaweedfs import SeaweedFS, new_seaweedfs
from bizportal.storage.backup_manifest import MANIFEST_FILE, OBJECTS_DIR, read_manifest
from bizportal.storage.database import make_engine
from bizportal.storage.database_copy import is_empty
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.object_store import content_key
from support.clock import MovableClock
from support.helpers import SIGNING_KEY, Journey, qr_link

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# A portal's settings by name: what the CLI reads from BIZPORTAL_* and the test's app is built from.
Portal = dict[str, str]
NewPortal = Callable[[], Portal]


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    server = new_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_database() -> Iterator[Callable[[], str]]:
    """`fresh_database()` -> the URL of a new, empty PostgreSQL database; every one is dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"bizportal_drill_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return f"postgresql://postgres@127.0.0.1:5432/{name}"

    try:
        yield make
    finally:
        with admin.connect() as connection:
            for name in made:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=[pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.s3]), "sqlite"])
def new_portal(request: pytest.FixtureRequest, tmp_path: Path, key_set: Path) -> NewPortal:
    """`new_portal()` -> the settings of a portal with an empty database and an empty object store: a PostgreSQL
    database of its own and a bucket of its own on the module's SeaweedFS, or a SQLite file and a local folder."""
    count = iter(range(100))

    def make() -> Portal:
        n = next(count)
        values = {"data_dir": str(tmp_path / f"portal-{n}"), "token_signing_key": SIGNING_KEY,
                  "public_base_url": "https://bizportal.test",
                  "verification_key": str(key_set / VERIFICATION_KEY_FILE),
                  "licence_signing_key": str(key_set / LICENCE_KEY_FILE),
                  "licence_signing_cert": str(key_set / LICENCE_CERT_FILE)}
        if request.param == "sqlite":
            return values | {"database_url": f"sqlite:///{tmp_path / f'portal-{n}.db'}"}
        server: SeaweedFS = request.getfixturevalue("seaweedfs")
        store = {key.removeprefix("BIZPORTAL_").lower(): value
                 for key, value in server.environment(f"drill-{uuid.uuid4().hex[:12]}").items()}
        return values | store | {"database_url": request.getfixturevalue("fresh_database")()}

    return make


@pytest.fixture
def portal_a(new_portal: NewPortal) -> Portal:
    return new_portal()


@pytest.fixture
def settings(portal_a: Portal) -> Settings:
    """The `engine`, `client` and `journey` fixtures run on portal A."""
    return Settings(**portal_a)  # type: ignore[arg-type]


def bizportal(portal: Portal, *arguments: str) -> tuple[int, str]:
    """Run `bizportal <arguments>` with the portal's settings in the environment: (exit code, what it printed)."""
    result = CliRunner().invoke(app, list(arguments), env={f"BIZPORTAL_{key.upper()}": value
                                                           for key, value in portal.items()})
    return result.exit_code, result.output


def api_path(link: str) -> str:
    """The QR's public page `https://…/verify/<number>?s=…` as its JSON twin `/api/v1/verify/<number>?s=…`."""
    parts = urlsplit(link)
    return f"/api/v1{parts.path}?{parts.query}"


def files(client: TestClient, applicant: dict[str, str], application_ids: list[str]) -> dict[str, dict[str, bytes]]:
    """The bytes of the applications' licences, receipts and current uploads, as their applicant downloads them."""
    found: dict[str, dict[str, bytes]] = {"licences": {}, "receipts": {}, "uploads": {}}
    for application_id in application_ids:
        get = lambda path: client.get(path, headers=applicant)  # noqa: E731 - one header, many reads
        for item in get(f"/api/v1/applications/{application_id}").json()["licences"]:
            number = item["licence_number"]
            found["licences"][number] = get(f"/api/v1/issued-licences/{number}/pdf").content
        for receipt in get(f"/api/v1/applications/{application_id}/receipts").json():
            found["receipts"][receipt["number"]] = get(receipt["pdf_url"]).content
        for document in get(f"/api/v1/applications/{application_id}/documents").json():
            if document["current"]:  # a read is audited: read after the views are compared
                upload = document["current"]["id"]
                found["uploads"][upload] = get(f"/api/v1/documents/{upload}/content").content
    return found


def reads(client: TestClient, applicant: dict[str, str], application_ids: list[str]) -> list[Any]:
    """What the applicant reads of each application: its view (with its timeline) and its status."""
    return [[client.get(f"/api/v1/applications/{application_id}{what}", headers=applicant).json()
             for what in ("", "/status")] for application_id in application_ids]


def test_the_drill_restores_a_portal_whose_licences_verify_and_whose_downloads_match(
        journey: Journey, client: TestClient, clock: MovableClock, new_portal: NewPortal,
        portal_a: Portal, tmp_path: Path) -> None:
    application_ids = []
    for _ in range(2):
        journey.issue()
        application_ids.append(journey.id)
    before = files(client, journey.applicant, application_ids)
    assert [len(before[kind]) for kind in ("licences", "receipts")] == [2, 2] and before["uploads"]
    seen = reads(client, journey.applicant, application_ids)

    code, said = bizportal(portal_a, "backup", "create", str(tmp_path / "backup"))
    assert code == 0, said
    manifest = read_manifest(tmp_path / "backup")
    every_file = {hashlib.sha256(data).hexdigest() for kind in before.values() for data in kind.values()}
    assert {item.sha256 for item in manifest.objects} == every_file and manifest.database.alembic_revision

    portal_b = new_portal()
    code, said = bizportal(portal_b, "backup", "restore", str(tmp_path / "backup"))
    assert code == 0, said
    assert "checked 2 licence(s), 2 receipt(s)" in said and "every licence's signature valid" in said

    settings_b = Settings(**portal_b)  # type: ignore[arg-type]
    restored = engine_from(settings_b, clock=clock)
    try:
        with TestClient(create_app(settings_b, engine=restored)) as client_b:
            assert reads(client_b, journey.applicant, application_ids) == seen
            assert files(client_b, journey.applicant, application_ids) == before
            for number, pdf in before["licences"].items():
                verdict = client_b.get(api_path(qr_link(pdf))).json()
                assert (verdict["status"], verdict["number"]) == ("valid", number)
                upload = client_b.post("/api/v1/verify", files={"file": ("licence.pdf", pdf, "application/pdf")})
                assert upload.json()["authentic"] is True, upload.text
                link = client_b.post(f"/api/v1/issued-licences/{number}/download-link", headers=journey.applicant)
                assert client_b.get(urlsplit(link.json()["url"]).path).content == pdf
    finally:
        restored.db.dispose()

    # Restoring again is refused: the database now holds the portal.
    code, said = bizportal(portal_b, "backup", "restore", "--no-verify", str(tmp_path / "backup"))
    assert code == 1 and "the target database is not empty" in said, said
    # `verify` finds a lost object, and licences that another deployment's keys cannot verify.
    lost_number, lost_pdf = next(iter(before["licences"].items()))
    lost = content_key(hashlib.sha256(lost_pdf).hexdigest())
    object_store_from(settings_b).delete(lost)
    code, said = bizportal(portal_b, "backup", "verify")
    assert code == 1 and f"licence {lost_number}: its PDF {lost} is not in the object store" in said, said
    assert "1 problem(s)" in said, said
    object_store_from(settings_b).put((tmp_path / "backup" / OBJECTS_DIR / lost).read_bytes(), "application/pdf")
    other_keys = write_key_set(tmp_path / "other-keys")
    code, said = bizportal(portal_b | {"verification_key": str(other_keys[0]), "licence_signing_key":
                                       str(other_keys[1]), "licence_signing_cert": str(other_keys[2])},
                           "backup", "verify")
    assert code == 1 and said.count("the file's signature could not be verified") == 2, said


@pytest.fixture
def small_backup(new_portal: NewPortal, tmp_path: Path) -> tuple[Portal, Path]:
    """A migrated portal with two stored objects, backed up: (the portal, the backup folder)."""
    portal = new_portal()
    settings = Settings(**portal)  # type: ignore[arg-type]
    database = make_engine(settings.resolved_database_url())
    upgrade_to_head(database)
    database.dispose()
    store = object_store_from(settings)
    store.put(b"%PDF-1.7 one", "application/pdf")
    store.put(b"\x89PNG two", "image/png")
    code, said = bizportal(portal, "backup", "create", str(tmp_path / "small"))
    assert code == 0 and "2 object(s)" in said, said
    return portal, tmp_path / "small"


def test_a_restore_refuses_a_tampered_backup_and_a_target_that_is_not_empty(
        small_backup: tuple[Portal, Path], new_portal: NewPortal) -> None:
    source, folder = small_backup
    target = new_portal()
    target_settings = Settings(**target)  # type: ignore[arg-type]
    store = object_store_from(target_settings)

    foreign = store.put(b"someone else's", "text/plain")  # a bucket in use: refused, and left as it was
    code, said = bizportal(target, "backup", "restore", str(folder))
    assert code == 1 and "the target object store is not empty" in said, said
    assert [stored.key for stored in store.objects()] == [foreign.key]
    assert is_empty(target_settings.resolved_database_url())
    store.delete(foreign.key)

    manifest = (folder / MANIFEST_FILE).read_text()
    (folder / MANIFEST_FILE).write_text(manifest.replace(read_manifest(folder).database.alembic_revision or "?",
                                                         "0999_from_a_newer_version"))
    code, said = bizportal(target, "backup", "restore", str(folder))
    assert code == 1 and "schema revision 0999_from_a_newer_version, which this version" in said, said
    key = read_manifest(folder).objects[0].key
    (folder / MANIFEST_FILE).write_text(manifest.replace(key, "sha256/../../../etc/passwd"))
    code, said = bizportal(target, "backup", "restore", str(folder))
    assert code == 1 and "is not a backup manifest: Value error, malformed object key" in said, said
    (folder / MANIFEST_FILE).write_text(manifest)

    tampered = folder / OBJECTS_DIR / key
    original = tampered.read_bytes()
    tampered.write_bytes(original[:-1] + b"!")  # same size, other bytes
    code, said = bizportal(target, "backup", "restore", str(folder))
    assert code == 1 and "does not match its manifest" in said and f"{OBJECTS_DIR}/{key}: its sha256" in said, said
    assert list(store.objects()) == [] and is_empty(target_settings.resolved_database_url())
    tampered.write_bytes(original)

    # A restore that stopped after putting some objects back runs again: those objects are this backup's own.
    store.put(original, "application/octet-stream")
    code, said = bizportal(target, "backup", "restore", str(folder))
    assert code == 0 and "2 object(s)" in said, said
    assert {stored.key for stored in store.objects()} == {item.key for item in read_manifest(folder).objects}
    assert not is_empty(target_settings.resolved_database_url())

    code, said = bizportal(target, "backup", "restore", str(folder.parent / "nowhere"))
    assert code == 1 and "has no manifest.json" in said, said
    code, said = bizportal(source, "backup", "create", str(folder))
    assert code == 1 and "is not empty: a backup goes into a new folder" in said, said
    assert folder.stat().st_mode & 0o777 == 0o700  # personal data: only the owner may list it


@pytest.mark.postgres
@pytest.mark.s3
def test_backups_say_what_is_wrong_with_the_database_the_store_or_the_tools(
        seaweedfs: SeaweedFS, fresh_database: Callable[[], str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    portal = {key.removeprefix("BIZPORTAL_").lower(): value for key, value in seaweedfs.environment("drill-x").items()}
    portal |= {"data_dir": str(tmp_path / "var"), "database_url": fresh_database()}
    database = make_engine(portal["database_url"])
    upgrade_to_head(database)
    database.dispose()

    unreachable = portal | {"database_url": "postgresql://postgres@127.0.0.1:1/nothing"}
    code, said = bizportal(unreachable, "backup", "create", str(tmp_path / "a"))
    assert code == 1 and "the database is unreachable" in said, said

    no_store = portal | {"s3_endpoint": "127.0.0.1:1"}
    code, said = bizportal(no_store, "backup", "create", str(tmp_path / "b"))
    assert code == 1 and "the object store cannot be read" in said and "127.0.0.1:1" in said, said

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no pg_dump to be found
    code, said = bizportal(portal, "backup", "create", str(tmp_path / "c"))
    assert code == 1 and "pg_dump is not installed" in said, said
