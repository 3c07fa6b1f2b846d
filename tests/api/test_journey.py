"""The licence journey over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from support.helpers import LICENCE, Auth, Journey


def test_full_journey_issues_a_downloadable_e_licence(journey: Journey, client: TestClient, auth: Auth) -> None:
    draft = journey.create()
    assert draft["status"] == "draft" and draft["tracking_number"] is None

    submitted = journey.submit()
    assert submitted["status"] == "submitted"
    assert submitted["tracking_number"].startswith("BP-2569-")

    after_dispatch = journey.view()
    assert after_dispatch["status"] == "document_check"
    (licence,) = after_dispatch["licences"]
    assert licence["code"] == LICENCE and licence["current_step"] == "document_check"
    assert licence["due_at"] is not None

    task = journey.task("document_check")
    assert task["licence"] == LICENCE and set(task["actions"]) == {"approve", "request_documents", "reject"}
    assert journey.decide("document_check", "approve").status_code == 200
    assert journey.view()["status"] == "under_consideration"
    assert journey.decide("consideration", "approve").status_code == 200

    awaiting = journey.view()
    assert awaiting["status"] == "awaiting_payment"
    (invoice,) = awaiting["invoices"]
    # 30 days from 1 Dec is 31 Dec (New Year's Eve), then New Year's Day and a weekend: due Monday 4 Jan 2027.
    assert invoice == {"id": invoice["id"], "licence": LICENCE, "amount_satang": 50_000, "currency": "THB",
                       "status": "open", "due_at": "2027-01-04T16:59:59Z"}

    paid = journey.pay()
    assert paid.status_code == 200 and paid.json()["status"] == "paid"

    issued = journey.view()
    assert issued["status"] == "issued"
    number = issued["licences"][0]["licence_number"]
    assert number.startswith("LAO-2569-")
    events = [e["event"] for e in issued["timeline"]]
    for expected in ("application.created", "application.submitted", "task.completed", "invoice.created",
                     "payment.recorded", "licence.issued"):
        assert expected in events
    assert [e["detail"]["to"] for e in issued["timeline"] if e["event"] == "licence.status_changed"] == [
        "document_check", "under_consideration", "awaiting_payment", "issuing", "issued"]

    record = client.get(f"/api/v1/issued-licences/{number}", headers=journey.applicant).json()
    assert record["holder"] == "สมหญิง ใจดี" and record["status"] == "valid"
    assert record["issued_on"] == "2026-12-01" and record["valid_until"] == "2027-11-30"

    pdf = client.get(f"/api/v1/issued-licences/{number}/pdf", headers=journey.applicant)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == record["sha256"]
    text = "".join(page.extract_text() for page in PdfReader(__import__("io").BytesIO(pdf.content)).pages)
    assert "จำหน่ายหรือสะสมอาหาร" in text.replace(" ", "") and number in text

    officer_pdf = client.get(f"/api/v1/issued-licences/{number}/pdf", headers=journey.officer)
    assert officer_pdf.status_code == 200
    for outsider in (auth("applicant", "mallory"), auth("agency_officer", "eve", "FDA")):
        assert client.get(f"/api/v1/issued-licences/{number}/pdf", headers=outsider).status_code == 404
        assert client.get(f"/api/v1/issued-licences/{number}", headers=outsider).status_code == 404


def test_documents_may_be_requested_once(journey: Journey, client: TestClient) -> None:
    journey.create()
    journey.submit()
    missing = journey.decide("document_check", "request_documents")
    assert missing.status_code == 422 and "comment" in missing.text  # s.8: say in writing what is missing
    assert journey.decide("document_check", "request_documents", "แผนผังสถานที่ไม่ครบ").status_code == 200
    view = journey.view()
    assert view["status"] == "documents_requested"
    requested = [e for e in view["timeline"] if e["event"] == "task.completed"][0]
    assert requested["detail"]["comment"] == "แผนผังสถานที่ไม่ครบ"

    # The officer cannot act for the applicant; the applicant answers in their own lane.
    own = journey.task("submit_documents", headers=journey.applicant)
    assert client.post(f"/api/v1/tasks/{own['id']}/complete", json={"action": "submit"},
                       headers=journey.officer).status_code == 403
    assert journey.decide("submit_documents", "submit", headers=journey.applicant).status_code == 200

    recheck = journey.task("document_recheck")
    assert recheck["actions"] == ["approve", "reject"]
    again = journey.decide("document_recheck", "request_documents", "อีกครั้ง")
    assert again.status_code == 422 and "not allowed" in again.json()["error"]["message"]
    assert journey.decide("document_recheck", "approve").status_code == 200
    assert journey.view()["status"] == "under_consideration"


@pytest.mark.parametrize("steps_before", [
    [],  # rejected at the document check
    [("document_check", "request_documents"), ("submit_documents", "submit")],  # at the re-check
    [("document_check", "approve")],  # at consideration
])
def test_rejection_needs_a_reason_and_ends_the_licence(journey: Journey, steps_before: list[tuple[str, str]]) -> None:
    journey.create()
    journey.submit()
    for step, action in steps_before:
        who = journey.applicant if step == "submit_documents" else journey.officer
        assert journey.decide(step, action, "เหตุผล", headers=who).status_code == 200
    step = journey.view()["licences"][0]["current_step"]
    assert journey.decide(step, "reject").status_code == 422
    assert journey.decide(step, "reject", "สถานที่ไม่ถูกสุขลักษณะ").status_code == 200
    view = journey.view()
    assert view["status"] == "rejected" and view["licences"][0]["status"] == "rejected"
    assert view["licences"][0]["current_step"] is None and view["invoices"] == []
    rejected = [e for e in view["timeline"] if e["event"] == "task.completed" and e["detail"]["action"] == "reject"]
    assert rejected[0]["detail"]["comment"] == "สถานที่ไม่ถูกสุขลักษณะ"
    assert journey.client.get("/api/v1/tasks", headers=journey.officer).json() == []


def test_idempotency_key_returns_the_first_application(client: TestClient, auth: Auth) -> None:
    from support.helpers import application_body

    headers = {**auth("applicant", "alice"), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/applications", json=application_body(), headers=headers)
    second = client.post("/api/v1/applications", json=application_body(), headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert len(client.get("/api/v1/applications", headers=headers).json()) == 1
