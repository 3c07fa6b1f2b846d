"""One application, several licences: each its own process, prerequisites first."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support.helpers import LICENCE, Auth, Journey, application_body

PLAN, ESTABLISH = "vet_facility_plan_approval", "vet_facility_establishment_licence"


@pytest.fixture
def journey(journey: Journey, auth: Auth) -> Journey:
    """The shared journey, with Alice signed in at the IAL 3 and AAL 3 the veterinary facility licence needs."""
    journey.applicant = auth("applicant", "alice", ial="3", aal="3")
    return journey


def _statuses(journey: Journey) -> dict[str, tuple[str, str | None]]:
    return {item["code"]: (item["status"], item["current_step"]) for item in journey.view()["licences"]}


def test_a_prerequisite_must_be_applied_for_or_held(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/applications", json=application_body(licences=[ESTABLISH]),
                           headers=auth("applicant", "alice"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert PLAN in error["message"] and error["details"]["requires"] == PLAN


def test_dependent_licence_starts_once_its_prerequisite_is_issued(journey: Journey, auth: Auth) -> None:
    dld = auth("agency_officer", "dara", "DLD")
    journey.create(licences=[ESTABLISH, PLAN, LICENCE])
    journey.submit()
    statuses = _statuses(journey)
    assert statuses[PLAN] == ("document_check", "document_check")
    assert statuses[LICENCE][0] == "document_check"
    assert statuses[ESTABLISH] == ("submitted", f"waiting_for_prerequisites:{PLAN}")
    assert {t["licence"] for t in journey.open_tasks(dld)} == {PLAN}
    assert journey.view()["status"] == "submitted"  # the least advanced licence

    journey.approve_everything(dld, licence=PLAN)
    statuses = _statuses(journey)
    assert statuses[PLAN][0] == "issued"
    assert statuses[ESTABLISH] == ("document_check", "document_check")

    journey.approve_everything(dld, licence=ESTABLISH)
    journey.approve_everything(journey.officer, licence=LICENCE)
    view = journey.view()
    assert view["status"] == "issued" and {s for s, _ in _statuses(journey).values()} == {"issued"}
    fees = {i["licence"]: i["amount_satang"] for i in view["invoices"]}
    assert fees == {ESTABLISH: 60_000, LICENCE: 50_000}  # the plan approval is free; the rest as assessed


def test_rejected_prerequisite_ends_its_dependents_with_the_reason(journey: Journey, auth: Auth) -> None:
    dld = auth("agency_officer", "dara", "DLD")
    journey.create(licences=[PLAN, ESTABLISH])
    journey.submit()
    (check,) = journey.open_tasks(dld)
    journey.client.post(f"/api/v1/tasks/{check['id']}/complete", json={"action": "reject", "comment": "แบบแปลนไม่ครบ"},
                        headers=dld)
    assert _statuses(journey) == {PLAN: ("rejected", None), ESTABLISH: ("rejected", None)}
    ended = [e for e in journey.view()["timeline"]
             if e["event"] == "licence.status_changed" and e["detail"]["licence"] == ESTABLISH][-1]
    assert ended["detail"]["reason"] == f"prerequisite {PLAN} was rejected"
    assert journey.view()["status"] == "rejected"


def test_assessed_fee_is_required_and_bounded(journey: Journey, auth: Auth) -> None:
    dld = auth("agency_officer", "dara", "DLD")
    journey.create(licences=[PLAN, ESTABLISH])
    journey.submit()
    journey.approve_everything(dld, licence=PLAN)
    (check,) = journey.open_tasks(dld)
    assert check["sets_fee"] is None
    url = f"/api/v1/tasks/{check['id']}/complete"
    assert journey.client.post(url, json={"action": "approve", "fee_satang": 1}, headers=dld).status_code == 422
    assert journey.client.post(url, json={"action": "approve"}, headers=dld).status_code == 200
    (inspection,) = journey.open_tasks(dld)
    assert inspection["sets_fee"] == {"min_satang": 60_000, "max_satang": 200_000}
    url = f"/api/v1/tasks/{inspection['id']}/complete"
    for bad in ({"action": "approve"}, {"action": "approve", "fee_satang": 59_999},
                {"action": "approve", "fee_satang": 200_001}):
        response = journey.client.post(url, json=bad, headers=dld)
        assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "fee_satang"
    assert journey.client.post(url, json={"action": "approve", "fee_satang": 150_000}, headers=dld).status_code == 200
    assert [i["amount_satang"] for i in journey.view()["invoices"]] == [150_000]
