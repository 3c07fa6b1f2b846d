"""The staff register over HTTP (issue 11 s.2): administrators only; every field checked, agencies against the
catalogue and offices against the directory; the same person twice is a 409 naming the entry; a retry with
the same Idempotency-Key gets the first entry; every change is in the audit trail with who made it.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.audit_events import AuditEventRow
from support.clock import MovableClock
from support.helpers import Auth

ISSUER = "https://staff-id.example"
OLIVIA = {"issuer": ISSUER, "subject": "olivia", "role": "agency_officer", "agency": "LAO",
          "office": "BKK-KHLONG-TOEI", "name": "Olivia Srisuk"}

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def admin(auth: Auth) -> dict[str, str]:
    return auth("admin", "root")


def _add(client: TestClient, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/staff", headers=admin, json={**OLIVIA, **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_an_admin_adds_reads_lists_and_changes_an_entry(client: TestClient, admin: dict[str, str]) -> None:
    added = _add(client, admin)
    assert {key: added[key] for key in OLIVIA} == OLIVIA
    assert added["active"] is True and added["created_by"] == "admin:root"
    assert client.get(f"/api/v1/staff/{added['id']}", headers=admin).json() == added
    changed = client.patch(f"/api/v1/staff/{added['id']}", headers=admin, json={"office": "BKK-BANG-RAK"})
    assert changed.status_code == 200 and changed.json()["office"] == "BKK-BANG-RAK"
    assert changed.json()["role"] == "agency_officer"  # fields not sent stay
    assert [m["subject"] for m in client.get("/api/v1/staff", headers=admin).json()] == ["olivia"]


def test_the_list_pages_and_filters_by_active(client: TestClient, admin: dict[str, str], clock: MovableClock) -> None:
    ids = []
    for n in range(3):  # oldest first
        ids.append(_add(client, admin, subject=f"officer-{n}")["id"])
        clock.advance(minutes=1)
    client.patch(f"/api/v1/staff/{ids[1]}", headers=admin, json={"active": False})
    page = client.get("/api/v1/staff", headers=admin, params={"limit": 2, "offset": 1}).json()
    assert [m["id"] for m in page] == ids[1:]
    assert [m["id"] for m in client.get("/api/v1/staff?active=false", headers=admin).json()] == [ids[1]]
    assert [m["id"] for m in client.get("/api/v1/staff?active=true", headers=admin).json()] == [ids[0], ids[2]]
    assert client.get("/api/v1/staff?limit=501", headers=admin).status_code == 422


@ON_SQLITE  # input rules are the engine's: PostgreSQL adds nothing here
@pytest.mark.parametrize("role", ["applicant", "counter_officer", "agency_officer", "agency_supervisor"])
def test_only_admins_manage_the_register(client: TestClient, admin: dict[str, str], auth: Auth, role: str) -> None:
    member = _add(client, admin)["id"]
    caller = auth(role, "someone", "LAO" if role.startswith("agency") else None)
    for answer in (client.post("/api/v1/staff", headers=caller, json={**OLIVIA, "subject": "x"}),
                   client.get("/api/v1/staff", headers=caller),
                   client.get(f"/api/v1/staff/{member}", headers=caller),
                   client.patch(f"/api/v1/staff/{member}", headers=caller, json={"role": "admin"})):
        assert answer.status_code == 403, answer.text
        assert "only administrators" in answer.json()["error"]["message"]
    assert client.get("/api/v1/staff").status_code == 401


@ON_SQLITE  # input rules are the engine's: PostgreSQL adds nothing here
@pytest.mark.parametrize(("fields", "message"), [
    ({"agency": "NOPE"}, "agency 'NOPE' is not in the catalogue"),
    ({"office": "BKK-NOWHERE"}, "office 'BKK-NOWHERE' is not in the office directory"),
    ({"agency": "OCPB"}, "office 'BKK-KHLONG-TOEI' does not handle the licences of agency 'OCPB'"),
    ({"agency": None, "office": None}, "the role agency_officer needs an agency"),
    ({"role": "agency_supervisor", "agency": None}, "the role agency_supervisor needs an agency"),
])
def test_agencies_and_offices_are_checked(client: TestClient, admin: dict[str, str], fields: dict[str, Any],
                                          message: str) -> None:
    answer = client.post("/api/v1/staff", headers=admin, json={**OLIVIA, **fields})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"] == message and answer.json()["error"]["hint"]


def test_admins_and_counter_officers_need_no_agency(client: TestClient, admin: dict[str, str]) -> None:
    assert _add(client, admin, subject="ada", role="admin", agency=None, office=None)["role"] == "admin"
    carl = _add(client, admin, subject="carl", role="counter_officer", agency=None)
    assert (carl["agency"], carl["office"]) == (None, "BKK-KHLONG-TOEI")


@ON_SQLITE  # input rules are the engine's: PostgreSQL adds nothing here
@pytest.mark.parametrize("fields", [
    {"role": "applicant"}, {"subject": ""}, {"subject": "x" * 256}, {"issuer": "not-a-url"},
    {"issuer": "https://" + "a" * 500}, {"name": "n" * 201}, {"agency": "lao"}, {"office": "A" * 41},
    {"subject": "bad\u202eone"}, {"extra": 1},
])
def test_every_field_has_its_limits(client: TestClient, admin: dict[str, str], fields: dict[str, Any]) -> None:
    assert client.post("/api/v1/staff", headers=admin, json={**OLIVIA, **fields}).status_code == 422


def test_the_same_person_twice_is_409_naming_the_entry(client: TestClient, admin: dict[str, str]) -> None:
    first = _add(client, admin)
    again = client.post("/api/v1/staff", headers=admin, json={**OLIVIA, "issuer": ISSUER + "/", "role": "admin"})
    assert again.status_code == 409
    assert first["id"] in again.json()["error"]["message"] and again.json()["error"]["details"] == {"id": first["id"]}
    assert f"PATCH /api/v1/staff/{first['id']}" in again.json()["error"]["hint"]


def test_an_idempotency_key_replays_the_first_entry(client: TestClient, admin: dict[str, str]) -> None:
    headers = {**admin, "Idempotency-Key": "add-olivia-1"}
    first = client.post("/api/v1/staff", headers=headers, json=OLIVIA)
    replay = client.post("/api/v1/staff", headers=headers, json=OLIVIA)
    assert (first.status_code, replay.status_code) == (201, 200) and replay.json() == first.json()
    reused = client.post("/api/v1/staff", headers=headers, json={**OLIVIA, "subject": "carl"})
    assert reused.status_code == 409 and "already used for a different request" in reused.json()["error"]["message"]


def test_a_change_is_checked_like_an_addition(client: TestClient, admin: dict[str, str]) -> None:
    member = _add(client, admin)["id"]
    for body, status in (({"agency": "OCPB"}, 422), ({"agency": None}, 422), ({"role": None}, 422),
                         ({"active": None}, 422), ({"role": "admin"}, 200), ({"agency": None, "office": None}, 200)):
        answer = client.patch(f"/api/v1/staff/{member}", headers=admin, json=body)
        assert answer.status_code == status, (body, answer.text)
    assert client.patch("/api/v1/staff/nope", headers=admin, json={"active": False}).status_code == 404
    assert client.get("/api/v1/staff/nope", headers=admin).status_code == 404


def test_the_last_active_admin_stays(client: TestClient, admin: dict[str, str]) -> None:
    ada = _add(client, admin, subject="ada", role="admin", agency=None, office=None)["id"]
    for body in ({"active": False}, {"role": "counter_officer"}):
        answer = client.patch(f"/api/v1/staff/{ada}", headers=admin, json=body)
        assert answer.status_code == 409 and "last active administrator" in answer.json()["error"]["message"]
    _add(client, admin, subject="bob", role="admin", agency=None, office=None)
    assert client.patch(f"/api/v1/staff/{ada}", headers=admin, json={"active": False}).status_code == 200


def test_every_change_is_audited_with_who_made_it(client: TestClient, admin: dict[str, str],
                                                  engine: LicensingEngine) -> None:
    member = _add(client, admin)["id"]
    client.patch(f"/api/v1/staff/{member}", headers=admin, json={"office": "BKK-BANG-RAK"})
    client.patch(f"/api/v1/staff/{member}", headers=admin, json={"active": False})
    client.patch(f"/api/v1/staff/{member}", headers=admin, json={"active": False})  # no change: nothing recorded
    with Session(engine.db) as session:
        events = session.exec(select(AuditEventRow).order_by(AuditEventRow.id)).all()  # type: ignore[arg-type]
    staff = [event for event in events if event.event.startswith("staff.")]
    assert [event.event for event in staff] == ["staff.added", "staff.changed", "staff.deactivated"]
    assert {event.actor for event in staff} == {"admin:root"}
    assert all(event.detail["staff_member_id"] == member and event.detail["subject"] == "olivia" for event in staff)
    assert staff[0].detail["role"] == "agency_officer" and staff[0].detail["office"] == "BKK-KHLONG-TOEI"
    assert staff[1].detail["changes"] == {"office": ["BKK-KHLONG-TOEI", "BKK-BANG-RAK"]}
    assert staff[2].detail["changes"] == {"active": [True, False]}
