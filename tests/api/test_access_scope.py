"""Who may see and act on what, over HTTP: the authorization matrix of the security review (§2: H2, M1, M2, M3,
L5, L14), principal by operation.

The cases, licences, invoices and refunds are built once for the module, on SQLite (the rules are the
engine's, not the database's): Alice's shop is in Khlong Toei (office BKK-KHLONG-TOEI, officer Olivia,
supervisor Sue), Bob's in Bang Rak (BKK-BANG-RAK, officer Oscar, supervisor Bea); both are LAO, one agency
of many local offices. Carl and Erin take cash at counters; Carl also files for a citizen.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.api.tokens import issue_token
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Role
from bizportal.storage.object_store import ObjectStoreUnavailable
from support.helpers import COUNTER_CONSENT, OFFICE, VALID_IDS, Journey, application_body, id_number_of

BANG_RAK = "BKK-BANG-RAK"
SIGNING_KEY = "access-scope-test-key-" + "k" * 32  # this module's own app signs and checks its tokens


def _token(role: str, subject: str, agency: str | None = None, office: str | None = None) -> dict[str, str]:
    id_number = id_number_of(subject) if role == "applicant" else None  # an applicant is a person
    token = issue_token(SIGNING_KEY, subject, Role(role), agency, office=office, id_number=id_number)
    return {"Authorization": f"Bearer {token}"}


P = {
    "alice": _token("applicant", "alice"),
    "bob": _token("applicant", "bob"),
    "mallory": _token("applicant", "mallory"),
    "olivia": _token("agency_officer", "olivia", "LAO", OFFICE),  # Khlong Toei
    "oscar": _token("agency_officer", "oscar", "LAO", BANG_RAK),
    "lao-hq": _token("agency_officer", "lao-hq", "LAO"),  # no office claim (M1)
    "sue": _token("agency_supervisor", "sue", "LAO", OFFICE),
    "bea": _token("agency_supervisor", "bea", "LAO", BANG_RAK),
    "sue-hq": _token("agency_supervisor", "sue-hq", "LAO"),
    "eve": _token("agency_officer", "eve", "EXCISE"),
    "sam": _token("agency_supervisor", "sam", "EXCISE"),
    "carl": _token("counter_officer", "carl"),
    "erin": _token("counter_officer", "erin"),
    "dave": _token("counter_officer", "dave"),
    # The same subject in another role is someone else (M3).
    "alice@excise": _token("agency_officer", "alice", "EXCISE"),
    "alice@counter": _token("counter_officer", "alice"),
    "carl@applicant": _token("applicant", "carl"),
    # A subject with ':' must not pass for olivia of Khlong Toei in the labels that decide access.
    "olivia-lookalike": _token("agency_officer", f"{OFFICE}:olivia", "LAO"),
    "admin": _token("admin", "root"),
}
MISSING_LICENCE = "LAO-2569-999999"


class FixedClock:
    """Tuesday 1 December 2026, 09:00 Bangkok (as the suite's clock starts); nothing here waits for time."""

    def now(self) -> datetime:
        return datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class DownStore:
    """An object store that refuses every write: a paid licence waits for issuing, so it can still be
    withdrawn with its fee owed back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def put(self, data: bytes, content_type: str) -> object:
        raise ObjectStoreUnavailable("object store down (test)")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@dataclass
class World:
    client: TestClient
    application: str  # Alice's, Khlong Toei, issued and paid in cash taken by Carl
    licence: str
    receipt: str
    unpaid: str  # Alice's, Khlong Toei, its invoice open
    invoice: dict[str, Any]
    refund: str  # Alice's, Khlong Toei, owed (cash taken by Carl, then withdrawn)
    filed_refund: str  # filed by Carl for a citizen, Khlong Toei, owed (cash taken by Erin)
    filed_application: str  # filed by Carl for a citizen, issued
    filed_licence: str
    waiting: str  # Alice's, Khlong Toei, documents requested: a task in the applicant lane
    draft: str  # Alice's, a draft
    kt_task: str  # Alice's document check in Khlong Toei
    br_task: str  # Bob's document check in Bang Rak


def _journey(client: TestClient, applicant: str, officer: str, counter: str) -> Journey:
    return Journey(client, P[applicant], P[officer], P[counter])


def _owed_refund(engine: LicensingEngine, journey: Journey) -> str:
    """Pay in cash while issuing is stuck, then withdraw: the fee is owed back."""
    journey.approve_until_payment(journey.officer)
    store = engine.ctx.object_store
    engine.ctx.object_store = DownStore(store)  # type: ignore[assignment]
    try:
        assert journey.pay().status_code == 200
        withdrawn = journey.client.post(f"/api/v1/applications/{journey.id}/withdrawal",
                                        json={"reason": "closing down"}, headers=journey.applicant)
        assert withdrawn.status_code == 200, withdrawn.text
    finally:
        engine.ctx.object_store = store
    (refund,) = journey.client.get(f"/api/v1/applications/{journey.id}/refunds", headers=P["admin"]).json()
    assert refund["state"] == "owed"
    return str(refund["id"])


def _build(client: TestClient, engine: LicensingEngine) -> World:
    issued = _journey(client, "alice", "olivia", "carl")
    issued.create()
    issued.submit()
    issued.approve_everything(P["olivia"])
    licence = issued.view()["licences"][0]["licence_number"]
    (receipt,) = client.get(f"/api/v1/applications/{issued.id}/receipts", headers=P["alice"]).json()

    unpaid = _journey(client, "alice", "olivia", "carl")
    unpaid.create()
    unpaid.submit()
    invoice = unpaid.approve_until_payment(P["olivia"])["invoices"][0]

    refunded = _journey(client, "alice", "olivia", "carl")
    refunded.create()
    refunded.submit()
    refund = _owed_refund(engine, refunded)

    filed_for_refund = _journey(client, "carl", "olivia", "erin")
    filed_for_refund.create(id_number=VALID_IDS[1], consent=COUNTER_CONSENT)
    filed_for_refund.submit()
    filed_refund = _owed_refund(engine, filed_for_refund)

    filed = _journey(client, "carl", "olivia", "erin")
    filed.create(id_number=VALID_IDS[1], consent=COUNTER_CONSENT)
    filed.submit()
    filed.approve_everything(P["olivia"])
    filed_licence = filed.view()["licences"][0]["licence_number"]

    waiting = _journey(client, "alice", "olivia", "carl")
    waiting.create()
    waiting.submit()
    assert waiting.decide("document_check", "request_documents", "แนบสำเนาทะเบียนบ้าน").status_code == 200

    draft = _journey(client, "alice", "olivia", "carl")
    draft.create()

    in_kt = _journey(client, "alice", "olivia", "carl")
    in_kt.create()
    in_kt.submit()
    in_br = _journey(client, "bob", "oscar", "carl")
    body = application_body()
    bang_rak = {**body["business"], "district": "บางรัก"}  # type: ignore[dict-item]
    in_br.create(id_number=id_number_of("bob"), business=bang_rak)
    in_br.submit()
    return World(client=client, application=issued.id, licence=licence, receipt=receipt["number"], unpaid=unpaid.id,
                 invoice=invoice,
                 refund=refund, filed_refund=filed_refund, filed_application=filed.id, filed_licence=filed_licence,
                 waiting=waiting.id, draft=draft.id, kt_task=in_kt.task("document_check")["id"],
                 br_task=in_br.task("document_check")["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("access")
    shutil.copyfile(migrated_sqlite, folder / "test.db")
    settings = Settings(data_dir=folder / "var", database_url=f"sqlite:///{folder / 'test.db'}",
                        token_signing_key=SIGNING_KEY, public_base_url="https://bizportal.test")
    engine = engine_from(settings, clock=FixedClock())
    with TestClient(create_app(settings, engine=engine)) as client:
        yield _build(client, engine)
    engine.db.dispose()


def _statuses(world: World, method: str, url: str, principals: list[str], body: Any = None) -> dict[str, int]:
    return {name: world.client.request(method, url, json=body, headers=P[name]).status_code for name in principals}


# --- reading: principal x document -> status --------------------------------------------------------------

# Alice's issued Khlong Toei application (with its notifications, receipts and refunds), its cash receipt
# (taken by Carl) and its licence.
READS = {
    #                     application receipt licence
    "alice": (200, 200, 200),
    "olivia": (200, 200, 200),
    "admin": (200, 200, 200),
    "carl": (404, 200, 404),  # took the cash: prints that receipt, nothing else
    "oscar": (404, 404, 404),  # another office of the same agency (H2)
    "lao-hq": (404, 404, 404),  # no office (M1)
    "olivia-lookalike": (404, 404, 404),
    "sue": (404, 404, 404),  # supervisors follow escalations, they do not read case files
    "bea": (404, 404, 404),
    "eve": (404, 404, 404),
    "alice@excise": (404, 404, 404),  # M3
    "alice@counter": (404, 404, 404),  # M3
    "dave": (404, 404, 404),
    "mallory": (404, 404, 404),
}


@pytest.mark.parametrize(("column", "method", "path"), [
    (0, "GET", "/api/v1/applications/{application}"),
    (0, "GET", "/api/v1/applications/{application}/notifications"),
    (0, "GET", "/api/v1/applications/{application}/receipts"),
    (0, "GET", "/api/v1/applications/{application}/refunds"),
    (1, "GET", "/api/v1/receipts/{receipt}/pdf"),
    (1, "POST", "/api/v1/receipts/{receipt}/download-link"),
    (2, "GET", "/api/v1/issued-licences/{licence}"),
    (2, "GET", "/api/v1/issued-licences/{licence}/pdf"),
    (2, "POST", "/api/v1/issued-licences/{licence}/download-link"),
])
def test_who_reads_what(world: World, column: int, method: str, path: str) -> None:
    url = path.format(application=world.application, receipt=world.receipt, licence=world.licence)
    expected = {name: row[column] for name, row in READS.items()}
    assert _statuses(world, method, url, list(READS)) == expected


def test_the_same_subject_in_another_role_owns_nothing(world: World) -> None:
    """M3: ownership is the ID number the sign-in vouches for, in the applicant role; another role owns nothing."""
    mine = {a["id"] for a in world.client.get("/api/v1/applications", headers=P["alice"]).json()}
    assert world.application in mine
    for name in ("alice@excise", "alice@counter", "carl@applicant"):
        assert world.client.get("/api/v1/applications", headers=P[name]).json() == [], name
    filed = {a["id"] for a in world.client.get("/api/v1/applications", headers=P["carl"]).json()}
    assert filed >= {world.filed_application} and world.application not in filed

    # Alice's draft and waiting application: neither submitted nor withdrawn by her namesakes.
    for name in ("alice@excise", "alice@counter"):
        assert world.client.post(f"/api/v1/applications/{world.draft}/submit", headers=P[name]).status_code == 404
        withdrawal = world.client.post(f"/api/v1/applications/{world.waiting}/withdrawal",
                                       json={"reason": "not mine"}, headers=P[name])
        assert withdrawal.status_code == 404
    # Her step in the applicant lane is hers alone.
    (step,) = [t for t in world.client.get("/api/v1/tasks", headers=P["alice"]).json()
               if t["application_id"] == world.waiting]
    assert step["lane"] == "applicant"
    assert world.client.get("/api/v1/tasks", headers=P["alice@counter"]).json() == []
    taken = world.client.post(f"/api/v1/tasks/{step['id']}/complete", json={"action": "submit"},
                              headers=P["alice@counter"])
    assert taken.status_code == 403
    assert world.client.get(f"/api/v1/applications/{world.waiting}", headers=P["alice"]).json()["status"] == \
        "documents_requested"

    # A licence Carl filed for a citizen is the citizen's; Carl's counter reaches it while her consent holds,
    # an applicant who shares Carl's subject does not.
    url = f"/api/v1/issued-licences/{world.filed_licence}"
    assert _statuses(world, "GET", url, ["carl", "carl@applicant", "olivia", "erin"]) == {
        "carl": 200, "carl@applicant": 404, "olivia": 200, "erin": 404}
    cancelled = world.client.post(f"{url}/cancellations", json={"reason": "ปิดกิจการ"}, headers=P["carl@applicant"])
    assert cancelled.status_code == 404
    assert world.client.get(url, headers=P["carl"]).json()["status"] == "valid"


# --- the inbox: who lists which tasks (M1, M2) ----------------------------------------------------------------


def test_each_officer_and_supervisor_lists_their_own_offices_tasks(world: World) -> None:
    def listed(name: str) -> set[str]:
        return {t["id"] for t in world.client.get("/api/v1/tasks", headers=P[name]).json()}

    both = {world.kt_task, world.br_task}
    assert both & listed("olivia") == both & listed("sue") == {world.kt_task}
    assert both & listed("oscar") == both & listed("bea") == {world.br_task}
    for name in ("lao-hq", "sue-hq", "olivia-lookalike", "eve", "sam", "alice@excise"):
        assert listed(name) == set(), name
    assert both <= listed("admin")
    # Supervisors see their office's work; they do not do it.
    refused = world.client.post(f"/api/v1/tasks/{world.kt_task}/claim", headers=P["sue"])
    assert refused.status_code == 403
    for name in ("oscar", "lao-hq", "olivia-lookalike"):
        assert world.client.post(f"/api/v1/tasks/{world.kt_task}/claim", headers=P[name]).status_code == 403, name


# --- standing: revoke, suspend, reinstate (H2, L5) -----------------------------------------------------------

OUTSIDERS = ["alice", "oscar", "lao-hq", "olivia-lookalike", "bea", "sue-hq", "eve", "sam", "alice@excise",
             "alice@counter", "carl", "mallory"]


def test_only_the_licences_own_office_changes_its_standing(world: World) -> None:
    url = f"/api/v1/issued-licences/{world.licence}"
    reason = {"reason": "ตรวจพบปัญหาสุขอนามัย"}
    for action in ("suspend", "revoke", "reinstate"):
        # Not theirs: the same 404 as a number that was never issued, so numbers cannot be probed.
        assert _statuses(world, "POST", f"{url}/{action}", OUTSIDERS, reason) == dict.fromkeys(OUTSIDERS, 404)
        missing = world.client.post(f"/api/v1/issued-licences/{MISSING_LICENCE}/{action}", json=reason,
                                    headers=P["oscar"]).json()["error"]
        existing = world.client.post(f"{url}/{action}", json=reason, headers=P["oscar"]).json()["error"]
        assert existing == {**missing, "message": missing["message"].replace(MISSING_LICENCE, world.licence)}
    assert world.client.get(url, headers=P["alice"]).json()["status"] == "valid"

    suspended = world.client.post(f"{url}/suspend", json=reason, headers=P["olivia"])
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert _statuses(world, "POST", f"{url}/reinstate", OUTSIDERS, reason) == dict.fromkeys(OUTSIDERS, 404)
    reinstated = world.client.post(f"{url}/reinstate", json=reason, headers=P["sue"])  # her office's supervisor
    assert reinstated.status_code == 200 and reinstated.json()["status"] == "valid"


# --- money: counter payments (H2) and refunds paid out (H2, L14) ---------------------------------------------


def test_an_officer_records_cash_only_for_their_own_office(world: World) -> None:
    url = f"/api/v1/invoices/{world.invoice['id']}/counter-payment"
    body = {"amount_satang": world.invoice["amount_satang"]}
    refused = ["alice", "oscar", "lao-hq", "olivia-lookalike", "sue", "bea", "eve", "alice@excise", "mallory"]
    assert _statuses(world, "POST", url, refused, body) == dict.fromkeys(refused, 403)
    view = world.client.get(f"/api/v1/applications/{world.unpaid}", headers=P["alice"]).json()
    assert view["invoices"][0]["status"] == "open"
    paid = world.client.post(url, json=body, headers=P["olivia"])
    assert paid.status_code == 200 and paid.json()["status"] == "paid"

    # Olivia took the cash; a lookalike whose subject carries her office is not her (labels are unambiguous).
    (receipt,) = world.client.get(f"/api/v1/applications/{world.unpaid}/receipts", headers=P["olivia"]).json()
    pdf = f"/api/v1/receipts/{receipt['number']}/pdf"
    assert _statuses(world, "GET", pdf, ["olivia", "olivia-lookalike", "oscar"]) == {
        "olivia": 200, "olivia-lookalike": 404, "oscar": 404}


def test_refunds_are_paid_out_only_within_the_officers_scope(world: World) -> None:
    """L14: the invoicing agency's officers of the case's office, the counter officer who took the cash, or the
    counter officer who filed the application; nobody else."""
    body = {"note": "cash returned at the counter"}
    url = f"/api/v1/refunds/{world.refund}/paid-out"
    refused = ["alice", "oscar", "lao-hq", "olivia-lookalike", "bea", "sue-hq", "eve", "alice@excise",
               "alice@counter", "erin", "dave", "mallory"]
    assert _statuses(world, "POST", url, refused, body) == dict.fromkeys(refused, 403)
    paid_out = world.client.post(url, json=body, headers=P["olivia"])
    assert paid_out.status_code == 200 and paid_out.json()["state"] == "refunded"

    # Filed by Carl for a citizen, the cash taken by Erin: Carl may close it; another counter officer or an
    # applicant who shares Carl's subject may not.
    url = f"/api/v1/refunds/{world.filed_refund}/paid-out"
    refused = ["dave", "carl@applicant", "oscar"]
    assert _statuses(world, "POST", url, refused, body) == dict.fromkeys(refused, 403)
    assert world.client.post(url, json=body, headers=P["carl"]).json()["state"] == "refunded"
