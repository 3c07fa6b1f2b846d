"""A step asked of another agency (an opinion) goes to that agency, at the business's local office."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.helpers import OFFICE, Auth, Journey

HOTEL = "hotel_business_licence"


def test_local_government_opinion_runs_beside_the_inspection(journey: Journey, client: TestClient,
                                                             auth: Auth) -> None:
    dopa = auth("agency_officer", "dao", "DOPA")
    journey.create(licences=[HOTEL])
    journey.submit()
    (check,) = journey.open_tasks(dopa)
    assert check["step"] == "document_check" and check["office"] is None  # DOPA decides centrally
    client.post(f"/api/v1/tasks/{check['id']}/complete", json={"action": "approve"}, headers=dopa)

    (inspection,) = journey.open_tasks(dopa)
    (opinion,) = journey.open_tasks(journey.officer)  # the Khlong Toei district office
    assert inspection["step"] == "site_inspection"
    assert (opinion["step"], opinion["agency"], opinion["office"]) == ("lao_opinion", "LAO", OFFICE)
    assert journey.open_tasks(auth("agency_officer", "bob", "LAO", "BKK-BANG-RAK")) == []
    assert client.post(f"/api/v1/tasks/{opinion['id']}/complete", json={"action": "approve"},
                       headers=dopa).status_code == 403

    client.post(f"/api/v1/tasks/{opinion['id']}/complete", json={"action": "approve", "comment": "ผังเมืองอนุญาต"},
                headers=journey.officer)
    assert [t["step"] for t in journey.open_tasks(dopa)] == ["site_inspection"]  # the join waits for both
    client.post(f"/api/v1/tasks/{inspection['id']}/complete", json={"action": "approve"}, headers=dopa)
    (review,) = journey.open_tasks(dopa)
    assert review["step"] == "registrar_review" and review["sets_fee"] is not None
    journey.approve_everything(dopa)
    assert journey.view()["status"] == "issued"
