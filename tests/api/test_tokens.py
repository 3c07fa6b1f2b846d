"""Bearer tokens and their key (L7): bounded lifetime, a real subject, typed claims, a key of 32+ bytes written
whole."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from bizportal.api import settings as settings_module
from bizportal.api.cli import app as cli
from bizportal.api.settings import Settings
from bizportal.api.tokens import ISSUER, issue_token, read_token
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import StartupError, Unauthenticated
from bizportal.engine.principal import Role
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import transaction
from support.helpers import ALICE_ID, SIGNING_KEY, application_body

KEY = "token-test-key-" + "k" * 32


def _signed(**claims: Any) -> str:
    """A token signed with the right key, carrying exactly `claims` (plus iss)."""
    return jwt.encode({"iss": ISSUER, **claims}, KEY, algorithm="HS256")


def _in(delta: timedelta) -> int:
    # Tokens are checked against the wall clock (PyJWT's `exp`): every time here is relative to it.
    return int((datetime.now(UTC) + delta).timestamp())


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    assert read_token(KEY, issue_token(KEY, "alice", Role.APPLICANT, ttl=timedelta(hours=24))).subject == "alice"
    for token in (issue_token(KEY, "alice", Role.APPLICANT, ttl=timedelta(hours=24, minutes=1)),
                  _signed(sub="alice", role="applicant", exp=_in(timedelta(days=365 * 31))),  # no iat
                  _signed(sub="alice", role="applicant", exp=10**400),  # was accepted
                  # A recent exp, but issued long ago for a long life: still too long.
                  _signed(sub="alice", role="applicant", iat=_in(-timedelta(days=30)), exp=_in(timedelta(hours=1)))):
        with pytest.raises(Unauthenticated, match="longer than the 24 hours"):
            read_token(KEY, token)
    short = issue_token(KEY, "alice", Role.APPLICANT, ttl=timedelta(hours=2))
    with pytest.raises(Unauthenticated, match="longer than the 1 hours"):
        read_token(KEY, short, max_lifetime=timedelta(hours=1))


@pytest.mark.parametrize("claims", [
    {"sub": "", "role": "applicant"},
    {"sub": "olivia", "role": "agency_officer", "agency": ["LAO", "EXCISE"]},
    {"sub": "olivia", "role": "agency_officer", "agency": "LAO", "office": {"a": 1}},
    {"sub": "olivia", "role": "agency_officer", "agency": ""},
    {"sub": "olivia", "role": "agency_officer", "agency": 7},
])
def test_an_empty_subject_or_a_claim_of_the_wrong_type_is_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        read_token(KEY, _signed(**claims, exp=_in(timedelta(hours=1))))


def test_an_applicant_token_does_not_carry_an_agency_or_office() -> None:
    principal = read_token(KEY, _signed(sub="alice", role="applicant", agency="LAO", office="BKK-BANG-RAK",
                                        exp=_in(timedelta(hours=1))))
    assert (principal.agency, principal.office, principal.label) == (None, None, "applicant:alice")
    officer = read_token(KEY, issue_token(KEY, "olivia", Role.AGENCY_OFFICER, "LAO", office="BKK-KHLONG-TOEI"))
    assert (officer.agency, officer.office) == ("LAO", "BKK-KHLONG-TOEI")


def test_over_http_bad_claims_are_401_not_500_and_stray_claims_stay_out_of_the_audit(
        client: TestClient, engine: LicensingEngine) -> None:
    def bearer(**claims: Any) -> dict[str, str]:
        token = jwt.encode({"iss": ISSUER, "exp": _in(timedelta(hours=1)), **claims}, SIGNING_KEY, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    for claims in ({"sub": "olivia", "role": "agency_officer", "agency": ["LAO", "EXCISE"]},
                   {"sub": "olivia", "role": "agency_officer", "agency": "LAO", "office": {"a": 1}},
                   {"sub": "", "role": "applicant"}):
        for path in ("/api/v1/tasks", "/api/v1/applications"):
            assert client.get(path, headers=bearer(**claims)).status_code == 401
    long_lived = {"Authorization": "Bearer " + jwt.encode(
        {"iss": ISSUER, "sub": "alice", "role": "applicant", "exp": _in(timedelta(days=2))}, SIGNING_KEY)}
    refused = client.get("/api/v1/applications", headers=long_lived)
    assert refused.status_code == 401 and "24 hours" in refused.json()["error"]["message"]

    alice = bearer(sub="alice", role="applicant", agency="LAO", office="BKK-BANG-RAK", id_number=ALICE_ID)
    created = client.post("/api/v1/applications", json=application_body(), headers=alice)
    assert created.status_code == 201, created.text
    with transaction(engine.db) as session:
        actors = {row.actor for row in session.exec(select(AuditEventRow))}
    assert actors == {"applicant:alice"}


def test_a_short_or_empty_key_stops_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StartupError, match="shorter than 32 bytes"):
        Settings(data_dir=tmp_path, token_signing_key="a").signing_key()
    key_file = tmp_path / "token-signing.key"
    key_file.write_text("\n", encoding="utf-8")  # what a crash used to leave behind
    with pytest.raises(StartupError, match=f"{key_file} is empty") as refused:
        Settings(data_dir=tmp_path).signing_key()
    assert "delete the file" in (refused.value.hint or "")

    monkeypatch.delenv("BIZPORTAL_TOKEN_SIGNING_KEY", raising=False)
    monkeypatch.setenv("BIZPORTAL_DATA_DIR", str(tmp_path))
    for command in (["serve"], ["token", "--role", "applicant", "--subject", "alice"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert "cannot start: the token signing key" in result.output and "is empty" in result.output


def test_the_key_file_is_never_left_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash while the key is being written leaves no key file (it used to leave an empty one)."""
    def crash(_: int) -> str:
        raise KeyboardInterrupt  # the process dies between creating the file and writing the key

    monkeypatch.setattr(settings_module.secrets, "token_urlsafe", crash)
    with pytest.raises(KeyboardInterrupt):
        Settings(data_dir=tmp_path).signing_key()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()

    key = Settings(data_dir=tmp_path).signing_key()
    key_file = tmp_path / "token-signing.key"
    assert len(key) >= 32 and key_file.read_text(encoding="utf-8") == key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600" and [p.name for p in tmp_path.iterdir()] == [key_file.name]
    # A second process starting at the same moment keeps the key that got there first.
    settings_module._create_key_file(key_file)
    assert Settings(data_dir=tmp_path).signing_key() == key and os.listdir(tmp_path) == [key_file.name]


def test_the_cli_mints_no_token_the_server_would_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", KEY)
    result = CliRunner().invoke(cli, ["token", "--role", "applicant", "--subject", "alice", "--hours", "25"])
    assert result.exit_code != 0 and "--hours must be from 1 to 24" in result.output
    result = CliRunner().invoke(cli, ["token", "--role", "applicant", "--subject", ""])
    assert result.exit_code != 0 and "subject" in result.output




def test_the_cli_mints_an_applicant_token_for_a_person_with_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", KEY)
    person = CliRunner().invoke(cli, ["token", "--role", "applicant", "--subject", ALICE_ID])
    assert person.exit_code == 0, person.output
    principal = read_token(KEY, person.output.strip())
    assert (principal.subject, principal.id_number, principal.ial, principal.aal) == (ALICE_ID, ALICE_ID, "2.3", "2")
    stepped = CliRunner().invoke(cli, ["token", "--role", "applicant", "--subject", ALICE_ID, "--ial", "3",
                                       "--aal", "3"])
    assert (read_token(KEY, stepped.output.strip()).ial, read_token(KEY, stepped.output.strip()).aal) == ("3", "3")
    # Not an ID number: refused, since applications belong to an ID number; staff tokens carry levels and no ID.
    alice = CliRunner().invoke(cli, ["token", "--role", "applicant", "--subject", "alice"])
    assert alice.exit_code != 0 and "13-digit" in alice.output
    carl = read_token(KEY, CliRunner().invoke(cli, ["token", "--role", "counter_officer", "--subject", ALICE_ID]
                                              ).output.strip())
    assert (carl.id_number, carl.ial) == (None, "2.3")


@pytest.mark.parametrize(("options", "message"), [
    (["--ial", "2.4"], "'2.4' is not an IAL"), (["--aal", "4"], "'4' is not an AAL"),
    (["--subject", "1101700203396"], "check digit"),
])
def test_the_cli_refuses_bad_levels_and_id_numbers(monkeypatch: pytest.MonkeyPatch, options: list[str],
                                                    message: str) -> None:
    monkeypatch.setenv("BIZPORTAL_TOKEN_SIGNING_KEY", KEY)
    subject = [] if "--subject" in options else ["--subject", ALICE_ID]
    result = CliRunner().invoke(cli, ["token", "--role", "applicant", *subject, *options])
    assert result.exit_code != 0 and message in " ".join(result.output.split())


@pytest.mark.parametrize(("claims", "named"), [
    ({"ial": "2.4"}, "`ial`"), ({"ial": 3}, "`ial`"), ({"aal": "AAL2"}, "`aal`"), ({"aal": "0"}, "`aal`"),
    ({"id_number": "1101700203396"}, "`id_number`"), ({"id_number": 1101700203395}, "`id_number`"),
])
def test_a_bad_level_or_id_number_claim_is_refused_naming_the_claim(claims: dict[str, Any], named: str) -> None:
    with pytest.raises(Unauthenticated, match=named):
        read_token(KEY, _signed(sub="alice", role="applicant", exp=_in(timedelta(hours=1)), **claims))


def test_levels_are_read_in_their_canonical_spelling_and_absent_levels_stay_none() -> None:
    principal = read_token(KEY, _signed(sub="alice", role="applicant", exp=_in(timedelta(hours=1)), ial=" 2.2",
                                        aal="2", id_number=ALICE_ID))
    assert (principal.ial, principal.aal, principal.id_number) == ("2.2", "2", ALICE_ID)
    bare = read_token(KEY, issue_token(KEY, "alice", Role.APPLICANT))
    assert (bare.ial, bare.aal, bare.id_number) == (None, None, None)
    with pytest.raises(ValueError, match="is not an IAL"):
        issue_token(KEY, "alice", Role.APPLICANT, ial="4")


def test_over_http_a_bad_level_is_401_naming_the_claim(client: TestClient) -> None:
    token = jwt.encode({"iss": ISSUER, "exp": _in(timedelta(hours=1)), "sub": "alice", "role": "applicant",
                        "ial": "9"}, SIGNING_KEY, algorithm="HS256")
    refused = client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and "`ial`" in refused.json()["error"]["message"]
