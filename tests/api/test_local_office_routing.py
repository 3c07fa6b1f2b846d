"""Local-government cases go to the local office of the business's location, and stay there."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.helpers import OFFICE, Auth, Journey, application_body


def test_case_goes_to_the_district_office(journey: Journey, client: TestClient, auth: Auth) -> None:
    journey.create()
    submitted = journey.submit()
    assert submitted["licences"][0]["office"] == OFFICE
    assert journey.view()["business"]["district"] == "คลองเตย"
    task = journey.task("document_check")
    assert task["office"] == OFFICE

    bang_rak = auth("agency_officer", "bob", "LAO", "BKK-BANG-RAK")
    assert client.get("/api/v1/tasks", headers=bang_rak).json() == []
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"}, headers=bang_rak)
    assert refused.status_code == 403
    assert client.get(f"/api/v1/applications/{journey.id}", headers=bang_rak).status_code == 404
    no_office = auth("agency_officer", "nina", "LAO")  # an LAO token without an office sees no office's cases
    assert client.get("/api/v1/tasks", headers=no_office).json() == []

    assert journey.decide("document_check", "approve").status_code == 200
    completed = [e for e in journey.view()["timeline"] if e["event"] == "task.completed"][0]
    assert completed["actor"] == f"agency_officer:LAO:{OFFICE}:olivia"


def test_english_names_route_the_same(client: TestClient, auth: Auth) -> None:
    body = application_body()
    body["business"] = {**body["business"], "province": "Bangkok", "district": "Khlong Toei District"}  # type: ignore[dict-item]
    created = client.post("/api/v1/applications", json=body, headers=auth("applicant", "alice"))
    assert created.status_code == 201 and created.json()["licences"][0]["office"] == OFFICE


def test_unroutable_locations_are_a_clear_422(client: TestClient, auth: Auth) -> None:
    for business, field in (({"province": "กรุงเทพมหานคร", "district": None}, "business.district"),
                            ({"province": "Atlantis", "district": "Nowhere"}, "business.province")):
        body = application_body()
        body["business"] = {**body["business"], **business}  # type: ignore[dict-item]
        response = client.post("/api/v1/applications", json=body, headers=auth("applicant", "alice"))
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["details"]["field"] == field and error["hint"]
    assert client.get("/api/v1/applications", headers=auth("applicant", "alice")).json() == []
