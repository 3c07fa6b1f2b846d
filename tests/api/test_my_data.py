"""My data (issue 13, PDPA access): everything the platform holds about the signed-in person, in one download."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import transaction
from support.helpers import COUNTER_CONSENT, LICENCE, OFFICE, Auth, Journey, application_body, id_number_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_download_holds_my_applications_licences_consents_and_ratings_and_nobody_elses(
        journey: Journey, client: TestClient, auth: Auth, engine: LicensingEngine) -> None:
    number, _ = journey.issue()
    url = f"/api/v1/applications/{journey.id}/licences/{LICENCE}/survey"
    assert client.post(url, json={"rating": 5}, headers=journey.applicant).status_code == 201
    counter = auth("counter_officer", "cora", office=OFFICE)
    filed = client.post("/api/v1/applications", json=application_body(consent=COUNTER_CONSENT), headers=counter)
    assert filed.status_code == 201
    bob = Journey(client, auth("applicant", "bob"), journey.officer, journey.counter)
    bob.create(id_number=id_number_of("bob"))

    answer = client.get("/api/v1/me/data", headers=journey.applicant)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == 'attachment; filename="bizportal-my-data-2026-12-01.json"'
    data = answer.json()
    assert data["person"]["id_number"] == "1101700203395"
    assert {a["id"] for a in data["applications"]} == {journey.id, filed.json()["id"]}  # not Bob's
    issued = next(a for a in data["applications"] if a["id"] == journey.id)
    assert issued["timeline"] and issued["receipts"] and issued["documents"][0]["current"]["sha256"]
    assert "pdf_key" not in str(data) and "object_key" not in str(data)  # what the files are, not where
    assert [licence["number"] for licence in data["licences"]] == [number]
    assert [c["application_id"] for c in data["consents"]] == [filed.json()["id"]]
    assert [r["rating"] for r in data["ratings"]] == [5]
    mine = client.get("/api/v1/me/data", headers=bob.applicant).json()
    assert [a["id"] for a in mine["applications"]] == [bob.id] and mine["licences"] == []

    assert client.get("/api/v1/me/data", headers=journey.officer).status_code == 403
    assert client.get("/api/v1/me/data", headers=auth("applicant", "someone", id_number="")).status_code == 403
    with transaction(engine.db) as session:
        exports = session.exec(select(AuditEventRow).where(AuditEventRow.event == "personal_data.exported")).all()
    assert [e.actor for e in exports] == ["applicant:alice", "applicant:bob"]  # each download is on the record
