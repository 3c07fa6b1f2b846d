"""The applicant is told what happens, by e-mail in their language, with links, and it is all logged."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from support.helpers import OFFICE, Auth, Journey, application_body
from support.smtp_server import Mailbox

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_journey_emails_the_applicant(settings: Settings, clock: object, auth: Auth,
                                      mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False})
    client = TestClient(create_app(configured, engine=engine_from(configured, clock=clock)))  # type: ignore[arg-type]
    journey = Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                      auth("counter_officer", "carl"))
    body = application_body()
    body["applicant"] = {**body["applicant"], "email": "somying@example.co.th"}  # type: ignore[dict-item]
    response = client.post("/api/v1/applications", json=body, headers=journey.applicant)
    journey.id = response.json()["id"]
    steps = [journey.submit,
             lambda: journey.decide("document_check", "request_documents", "แผนผังสถานที่ไม่ครบ"),
             lambda: journey.decide("submit_documents", "submit", headers=journey.applicant),
             lambda: journey.decide("document_recheck", "approve"),
             lambda: journey.decide("consideration", "approve"),
             journey.pay]
    for step in steps:
        step()
        clock.advance(minutes=30)  # type: ignore[attr-defined]

    messages = handler.messages()
    subjects = [m["subject"] for m in messages]
    assert len(messages) == 4, subjects  # submitted, documents requested, fee due, licence issued
    assert all(m["to"] == "somying@example.co.th" for m in messages)
    bodies = [m.get_body(("plain",)).get_content() for m in messages]  # type: ignore[union-attr]
    assert "แผนผังสถานที่ไม่ครบ" in bodies[1]  # what is missing, in writing (s.8): the reason and the documents
    assert "แผนที่แสดงที่ตั้งและแผนผังภายในสถานที่จำหน่ายหรือสะสมอาหาร" in bodies[1]
    assert "500.00" in bodies[2] or "500" in bodies[2]
    number = journey.view()["licences"][0]["licence_number"]
    assert number in bodies[3] and f"/applications/{journey.id}#downloads" in bodies[3]  # the page, not JSON
    assert not any(part.get_filename() for m in messages for part in m.walk())  # links, never attachments

    log = client.get(f"/api/v1/applications/{journey.id}/notifications", headers=journey.applicant).json()
    assert [entry["event"] for entry in log] == ["application_submitted", "documents_requested", "payment_due",
                                                 "licence_issued"]
    assert {entry["state"] for entry in log} == {"sent"}
    assert client.get(f"/api/v1/applications/{journey.id}/notifications",
                      headers=auth("applicant", "mallory")).status_code == 404


def test_without_an_address_nothing_is_sent(journey: Journey, client: TestClient) -> None:
    journey.create()
    journey.submit()
    assert client.get(f"/api/v1/applications/{journey.id}/notifications", headers=journey.applicant).json() == []
