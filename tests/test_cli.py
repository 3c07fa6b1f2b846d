"""The `bizportal` command line."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import jwt
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from bizportal.api.cli import app
from bizportal.api.key_files import LICENCE_CERT_FILE, LICENCE_KEY_FILE, VERIFICATION_KEY_FILE, write_key_set
from bizportal.api.settings import Settings
from bizportal.api.tokens import read_token
from bizportal.engine.errors import Unauthenticated
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import make_engine
from bizportal.storage.staff import StaffMemberRow


def test_token_is_signed_with_the_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", "cli-key-" + "z" * 32)
    result = CliRunner().invoke(app, ["token", "--role", "agency_officer", "--subject", "olivia", "--agency", "LAO"])
    assert result.exit_code == 0, result.output
    principal = read_token("cli-key-" + "z" * 32, result.output.strip())
    assert (principal.subject, principal.role.value, principal.agency) == ("olivia", "agency_officer", "LAO")
    with pytest.raises(Unauthenticated):
        read_token("another-key-" + "z" * 32, result.output.strip())


def test_a_token_can_carry_the_person_s_display_name(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "cli-key-" + "z" * 32
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", key)
    named = CliRunner().invoke(app, ["token", "--role", "counter_officer", "--subject", "carl",
                                     "--name", "สมชาย  รับเงิน"])
    assert named.exit_code == 0, named.output
    assert read_token(key, named.output.strip()).name == "สมชาย รับเงิน"
    unnamed = CliRunner().invoke(app, ["token", "--role", "counter_officer", "--subject", "carl"])
    assert read_token(key, unnamed.output.strip()).name is None
    # Tokens live in real time (their expiry is checked against the wall clock), so this one is an hour long.
    not_text = jwt.encode({"sub": "carl", "role": "counter_officer", "iss": "bizportal",
                           "exp": int(time.time()) + 3600, "name": ["Carl"]}, key, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="name"):
        read_token(key, not_text)


def test_officer_token_needs_an_agency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", "cli-key-" + "z" * 32)
    result = CliRunner().invoke(app, ["token", "--role", "agency_officer", "--subject", "olivia"])
    assert result.exit_code != 0 and "agency" in result.output


def test_key_is_generated_into_the_data_dir_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BIZPORTAL_TOKEN_SIGNING_KEY", raising=False)
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    first = CliRunner().invoke(app, ["token", "--role", "applicant", "--subject", "1101700203395"])
    key_file = tmp_path / "token-signing.key"
    assert first.exit_code == 0 and key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    read_token(key_file.read_text().strip(), first.output.strip())


def test_migrate_creates_the_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0 and (tmp_path / "bizportal.db").exists()


def test_serve_refuses_a_bad_definition_naming_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "bpmn"
    bad = tmp_path / "bpmn"
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            (bad / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            (bad / path.relative_to(source)).write_bytes(path.read_bytes())
    manual = bad / "food_premises_notice_small" / "manual.yaml"
    manual.write_text(manual.read_text(encoding="utf-8").replace("total_working_days: 7", "total_working_days: 9"),
                      encoding="utf-8")
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BIZPORTAL_BPMN_DIR", str(bad))
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "cannot start" in result.output and "manual.yaml" in result.output and "total_working_days" in result.output


def test_keys_writes_a_set_the_settings_can_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    for name in ("verification-ed25519.pem", "signing-key.pem", "signing-cert.pem", "token-signing.key"):
        assert (tmp_path / "keys" / name).exists() and name in result.output
    assert "BIZPORTAL_LICENCE_SIGNING_CERT=" in result.output
    again = CliRunner().invoke(app, ["keys", str(tmp_path / "keys")])
    assert again.exit_code == 1 and "already there, not replaced" in again.output


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_settings_without_keys_stop_start_up_with_a_clear_message(
        command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BIZPORTAL_REDIS_URL", "redis://127.0.0.1:1/0")  # jobs on workers: a production set-up
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", "cli-key-" + "z" * 32)
    for name in ("VERIFICATION_KEY", "LICENCE_SIGNING_KEY", "LICENCE_SIGNING_CERT"):
        monkeypatch.delenv(f"BIZPORTAL_{name}", raising=False)
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 2
    assert "cannot start: production settings" in result.output and "BIZPORTAL_VERIFICATION_KEY" in result.output
    assert "bizportal keys" in result.output
    assert not (tmp_path / "verification-ed25519.pem").exists()


def test_serve_without_a_provider_starts_the_development_one_and_says_how_to_sign_in(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BIZPORTAL_OIDC_ISSUER", raising=False)
    seen: dict[str, Any] = {}

    def run(application: Any, **options: Any) -> None:  # instead of serving: look at what would be served
        issuer = application.state.oidc.issuer
        seen["issuer"] = issuer
        seen["staff_issuer"] = application.state.staff_oidc.issuer
        seen["discovery"] = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
        with Session(application.state.engine.db) as session:
            seen["staff"] = {(row.subject, row.role, row.agency, row.office)
                             for row in session.exec(select(StaffMemberRow)).all()}

    monkeypatch.setattr(uvicorn, "run", run)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert seen["discovery"]["issuer"] == seen["issuer"]
    assert f"Development OpenID provider at {seen['issuer']}" in result.output
    assert "/auth/login" in result.output and "somchai" in result.output
    # Staff sign in at the same provider (another client id), as the sample staff the register was given.
    assert seen["staff_issuer"] == seen["issuer"] and "/auth/staff/login" in result.output
    assert seen["staff"] == {("olivia", "agency_officer", "LAO", "BKK-KHLONG-TOEI"),
                             ("carl", "counter_officer", None, "BKK-KHLONG-TOEI"), ("ada", "admin", None, None)}
    assert "olivia" in result.output and "ada" in result.output
    with pytest.raises(httpx.ConnectError):  # stopped with the server
        httpx.get(f"{seen['issuer']}/.well-known/openid-configuration", timeout=5)
    # The next start keeps the issuer, so the register still names its people: the port is remembered.
    assert (tmp_path / "var" / "dev-provider-port").read_text().strip() == seen["issuer"].rsplit(":", 1)[1]


def test_staff_add_bootstraps_the_first_admin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    added = CliRunner().invoke(app, ["staff", "add", "--issuer", "https://staff-id.example", "--subject", "ada",
                                     "--role", "admin", "--name", "Ada Wongsa"])
    assert added.exit_code == 0, added.output
    assert "added ada of https://staff-id.example as admin" in added.output
    twice = CliRunner().invoke(app, ["staff", "add", "--issuer", "https://staff-id.example", "--subject", "ada",
                                     "--role", "admin"])
    assert twice.exit_code == 1 and "already in the staff register" in twice.output
    unknown = CliRunner().invoke(app, ["staff", "add", "--issuer", "https://staff-id.example", "--subject", "olivia",
                                       "--role", "agency_officer", "--agency", "NOPE"])
    assert unknown.exit_code == 1 and "agency 'NOPE' is not in the catalogue" in unknown.output
    engine = make_engine(f"sqlite:///{tmp_path / 'bizportal.db'}")
    with Session(engine) as session:
        rows = session.exec(select(StaffMemberRow)).all()
        events = session.exec(select(AuditEventRow).where(AuditEventRow.event == "staff.added")).all()
    engine.dispose()
    assert [(row.subject, row.role, row.name, row.active) for row in rows] == [("ada", "admin", "Ada Wongsa", True)]
    assert [event.actor for event in events] == ["admin:operator-cli"]


def test_audit_verify_says_intact_or_where_the_chain_breaks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            database_url: str) -> None:
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BIZPORTAL_DATABASE_URL", database_url)
    for subject in ("ada", "bob"):  # two audited commands, through the same units of work as the API
        added = CliRunner().invoke(app, ["staff", "add", "--issuer", "https://staff-id.example", "--subject", subject,
                                         "--role", "admin"])
        assert added.exit_code == 0, added.output
    intact = CliRunner().invoke(app, ["audit", "verify"])
    engine = make_engine(database_url)
    with Session(engine) as session:
        first, last = session.exec(select(AuditEventRow).order_by(AuditEventRow.position)).all()  # type: ignore[arg-type]
    assert intact.exit_code == 0, intact.output
    assert intact.output.strip() == f"audit trail intact: 2 entries, head hash {last.hash}"
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_event SET actor = 'admin:nobody' WHERE id = :id"), {"id": first.id})
    engine.dispose()
    broken = CliRunner().invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert (f"audit trail BROKEN at position 1, entry id {first.id}, event staff.added: its content does not give "
            "its hash: the entry was changed") in broken.output
    assert "0 entries checked intact before the break" in broken.output and "Traceback" not in broken.output


def test_audit_verify_without_a_readable_database_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    missing = CliRunner().invoke(app, ["audit", "verify"])
    assert missing.exit_code == 2 and f"there is no database at {tmp_path / 'bizportal.db'}" in missing.output
    assert not (tmp_path / "bizportal.db").exists()  # looking did not create one
    (tmp_path / "bizportal.db").touch()  # a database that was never migrated
    unmigrated = CliRunner().invoke(app, ["audit", "verify"])
    assert unmigrated.exit_code == 2 and "could not be read (no such table" in unmigrated.output
    assert "`bizportal migrate`" in unmigrated.output and "Traceback" not in unmigrated.output


def test_production_settings_refuse_to_start_without_a_real_provider(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    write_key_set(tmp_path / "keys")
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BIZPORTAL_REDIS_URL", "redis://127.0.0.1:1/0")  # jobs on workers: a production set-up
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", "cli-key-" + "z" * 32)
    for name, file in (("VERIFICATION_KEY", VERIFICATION_KEY_FILE), ("LICENCE_SIGNING_KEY", LICENCE_KEY_FILE),
                       ("LICENCE_SIGNING_CERT", LICENCE_CERT_FILE)):
        monkeypatch.setenv(f"BIZPORTAL_{name}", str(tmp_path / "keys" / file))
    monkeypatch.delenv("BIZPORTAL_OIDC_ISSUER", raising=False)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "production settings need a real OpenID provider" in result.output
    assert "BIZPORTAL_OIDC_ISSUER" in result.output


def test_the_public_address_follows_the_port_unless_it_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links and the sign-in's return address must reach the server wherever `make run` listens."""
    monkeypatch.delenv("BIZPORTAL_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("BIZPORTAL_PORT", "8123")
    assert Settings().public_base_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("BIZPORTAL_PUBLIC_BASE_URL", "https://bizportal.example.go.th")
    assert Settings().public_base_url == "https://bizportal.example.go.th"


def test_serve_port_moves_the_public_address_and_processes_get_the_settings_through_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    from bizportal.api.settings import settings_environment

    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BIZPORTAL_OIDC_ISSUER", raising=False)
    assert "public_base_url" not in Settings().model_fields_set  # derived from the port, not set
    seen: dict[str, Any] = {}

    def run(application: Any, **options: Any) -> None:
        seen["application"], seen["options"] = application, options
        seen["environment"] = {name: value for name, value in os.environ.items() if name.startswith("BIZPORTAL_")}

    monkeypatch.setattr(uvicorn, "run", run)
    with patch.dict(os.environ):  # `serve` writes the settings into the environment: not into the next tests'
        result = CliRunner().invoke(app, ["serve", "--port", "8123", "--processes", "2"])
    assert result.exit_code == 0, result.output
    # Two processes: uvicorn imports the app factory in each, from the settings `serve` left in the environment,
    # the public address of the port served among them; the database was migrated here, once.
    assert seen["application"] == "bizportal.api.app:app_from_environment"
    assert seen["options"]["workers"] == 2 and seen["options"]["factory"] is True and seen["options"]["port"] == 8123
    assert seen["environment"]["BIZPORTAL_PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    # the development sign-in `serve` started reaches the processes too
    assert seen["environment"]["BIZPORTAL_OIDC_CLIENT_SECRET"] == "bizportal-dev-secret"
    monkeypatch.setattr("os.environ", {**seen["environment"]})
    assert Settings().public_base_url == "http://127.0.0.1:8123"
    assert settings_environment(Settings()) == seen["environment"]  # what the processes read gives it back
    refused = CliRunner().invoke(app, ["serve", "--processes", "0"])
    assert refused.exit_code == 2 and "greater than or equal to 1" in refused.output
