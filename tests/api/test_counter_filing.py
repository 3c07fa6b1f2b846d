"""Filing at a counter, with consent (issue 11 §3): the application is the entrepreneur's from the start; the
counter acts for them from its office while the consent holds; the entrepreneur answers, pays, downloads,
and withdraws the consent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.payments.providers import PaymentProviders
from support.helpers import ALICE_ID, COUNTER_CONSENT, OFFICE, VALID_IDS, Auth, Journey, application_body
from support.recording_provider import RecordingProvider, notify_succeeded
from support.uploads import upload, upload_required

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the rules are the engine's


@pytest.fixture
def cora(auth: Auth) -> dict[str, str]:
    """A counter officer of the Khlong Toei district office."""
    return auth("counter_officer", "cora", office=OFFICE)


def _file(client: TestClient, counter: dict[str, str], **body: Any) -> dict[str, Any]:
    created = client.post("/api/v1/applications", json=application_body(consent=COUNTER_CONSENT, **body),
                          headers=counter)
    assert created.status_code == 201, created.text
    return created.json()


def _pay_online(client: TestClient, journey: Journey) -> None:
    started = client.post(f"/api/v1/applications/{journey.id}/payments", json={"provider": "testpay"},
                          headers=journey.applicant)
    assert started.status_code == 201, started.text
    assert notify_succeeded(client, started.json()).json() == {"outcome": "applied"}


def test_the_entrepreneur_answers_pays_and_downloads_what_a_counter_filed(
        client: TestClient, engine: LicensingEngine, auth: Auth, journey: Journey, cora: dict[str, str]) -> None:
    engine.ctx.payments = PaymentProviders({"testpay": RecordingProvider()})
    filed = _file(client, cora)
    assert filed["filed_by"] == {"role": "counter_officer", "office": OFFICE}
    consent = filed["consent"]
    assert (consent["method"], consent["office"], consent["licences"], consent["in_force"]) == (
        "identity_checked_in_person", OFFICE, ["food_premises_notice_small"], True)
    assert consent["entrepreneur"] == consent["given_by"] == "1-1017-xxxxx-xx-5"
    assert consent["officer"] == f"counter_officer::{OFFICE}:cora"
    assert consent["valid_until"].startswith("2027-06-30T17:00:00")  # the end of 30 June in Bangkok
    journey.id = filed["id"]
    upload_required(client, journey.id, cora)  # the counter scans the documents the entrepreneur brought
    assert client.post(f"/api/v1/applications/{journey.id}/submit", headers=cora).status_code == 200

    # Alice signs in: the application, its consent and its steps are hers.
    assert [a["id"] for a in client.get("/api/v1/applications", headers=journey.applicant).json()] == [journey.id]
    (listed,) = client.get("/api/v1/consents", headers=journey.applicant).json()
    assert listed["id"] == consent["id"]
    assert journey.decide("document_check", "request_documents", "แผนผังสถานที่").status_code == 200
    assert journey.decide("submit_documents", "submit", headers=journey.applicant).status_code == 200
    journey.approve_until_payment(journey.officer)
    _pay_online(client, journey)
    view = journey.view()
    assert view["status"] == "issued" and view["invoices"][0]["status"] == "paid"
    number = view["licences"][0]["licence_number"]
    pdf = client.get(f"/api/v1/issued-licences/{number}/pdf", headers=journey.applicant)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (receipt,) = client.get(f"/api/v1/applications/{journey.id}/receipts", headers=journey.applicant).json()
    assert client.get(f"/api/v1/receipts/{receipt['number']}/pdf", headers=journey.applicant).status_code == 200

    # Any counter officer of the filing office acts for her (counters work in shifts); no other counter does.
    colleague = auth("counter_officer", "cody", office=OFFICE)
    elsewhere = auth("counter_officer", "bill", office="BKK-BANG-RAK")
    nowhere = auth("counter_officer", "cora")  # the same subject without the office is not that counter
    for headers, status in ((cora, 200), (colleague, 200), (elsewhere, 404), (nowhere, 404)):
        assert client.get(f"/api/v1/applications/{journey.id}", headers=headers).status_code == status
        assert client.get(f"/api/v1/issued-licences/{number}", headers=headers).status_code == status

    # She withdraws the consent: the counter no longer reaches her application; she keeps everything.
    withdrawn = client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=journey.applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["in_force"] is False and withdrawn.json()["withdrawn_by"].startswith("applicant:")
    for headers in (cora, colleague):
        assert client.get(f"/api/v1/applications/{journey.id}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/issued-licences/{number}", headers=headers).status_code == 404
        assert client.get("/api/v1/applications", headers=headers).json() == []
    assert client.get(f"/api/v1/issued-licences/{number}/pdf", headers=journey.applicant).status_code == 200
    events = [entry["event"] for entry in journey.view()["timeline"]]
    assert events[:4] == ["application.created", "consent.given", "document_uploaded", "application.submitted"]
    assert events[-1] == "consent.withdrawn"
    # The counter still lists the consent its office took, as withdrawn.
    (kept,) = client.get("/api/v1/consents", headers=colleague).json()
    assert kept["id"] == consent["id"] and kept["withdrawn_at"] is not None
    again = client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=journey.applicant)
    assert again.status_code == 409


def test_only_the_entrepreneur_withdraws_and_the_consent_ends_on_its_day(
        client: TestClient, auth: Auth, clock: Any, cora: dict[str, str]) -> None:
    filed = _file(client, cora, id_number=VALID_IDS[1])
    consent_id = filed["consent"]["id"]
    for someone in (auth("applicant", "alice"), cora, auth("agency_officer", "olivia", "LAO", OFFICE)):
        assert client.post(f"/api/v1/consents/{consent_id}/withdraw", headers=someone).status_code == 404
    assert client.get("/api/v1/consents", headers=auth("applicant", "alice")).json() == []

    clock.advance(days=211)  # 30 June 2027, 09:00 Bangkok: the consent's last day
    assert client.get(f"/api/v1/applications/{filed['id']}", headers=cora).status_code == 200
    clock.advance(days=1)
    assert client.get(f"/api/v1/applications/{filed['id']}", headers=cora).status_code == 404
    owner = auth("applicant", "somchai", id_number=VALID_IDS[1])
    (ended,) = client.get("/api/v1/consents", headers=owner).json()
    assert ended["in_force"] is False and ended["withdrawn_at"] is None
    assert client.get(f"/api/v1/applications/{filed['id']}", headers=owner).status_code == 200


@pytest.mark.parametrize(("who", "consent", "field", "words"), [
    ("counter", None, "consent", "`consent` is required"),
    ("applicant", COUNTER_CONSENT, "consent", "leave it out"),
    ("counter", {**COUNTER_CONSENT, "valid_until": "2026-11-30"}, "consent.valid_until", "must be between"),
    ("counter", {**COUNTER_CONSENT, "valid_until": "2028-12-31"}, "consent.valid_until", "must be between"),
    ("counter", {**COUNTER_CONSENT, "given_by_id_number": VALID_IDS[1]}, "consent.given_by_id_number",
     "signed_authorisation"),
    ("counter", {**COUNTER_CONSENT, "method": "phoned_in"}, "consent.method", "identity_checked_in_person"),
])
def test_a_counter_filing_without_a_proper_consent_is_refused_and_leaves_nothing(
        client: TestClient, auth: Auth, cora: dict[str, str], who: str, consent: dict[str, Any] | None,
        field: str, words: str) -> None:
    headers = cora if who == "counter" else auth("applicant", "alice")
    body = application_body() if consent is None else application_body(consent=consent)
    refused = client.post("/api/v1/applications", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert words in json.dumps(error, ensure_ascii=False)
    assert field in json.dumps(error)
    assert client.get("/api/v1/applications", headers=auth("admin", "root")).json() == []


def test_a_counter_files_for_a_company_through_the_person_who_acts_for_it(
        client: TestClient, auth: Auth, cora: dict[str, str]) -> None:
    company = {"kind": "juristic", "id_number": VALID_IDS[2], "name": "บริษัท ตัวอย่าง จำกัด"}
    consent = {**COUNTER_CONSENT, "given_by_id_number": ALICE_ID, "given_by_name": "สมหญิง ใจดี"}
    nameless = client.post("/api/v1/applications", json=application_body(applicant=company, consent=COUNTER_CONSENT),
                           headers=cora)
    assert nameless.status_code == 422 and nameless.json()["error"]["details"]["field"] == "consent.given_by_id_number"
    # No company registry here: nobody is known to act for the company until the counter checks its letter.
    unknown = client.post("/api/v1/applications", json=application_body(applicant=company, consent=consent),
                          headers=cora)
    assert unknown.status_code == 403 and "/representatives" in unknown.json()["error"]["hint"]
    letter = {"id_number": ALICE_ID, "name": "สมหญิง ใจดี", "valid_until": "2027-12-31"}
    verified = client.post(f"/api/v1/companies/{VALID_IDS[2]}/representatives", json=letter, headers=cora)
    assert verified.status_code == 201 and verified.json()["basis"] == "verified_at_counter"
    filed = client.post("/api/v1/applications", json=application_body(applicant=company, consent=consent),
                        headers=cora)
    assert filed.status_code == 201, filed.text
    assert filed.json()["consent"]["given_by_name"] == "สมหญิง ใจดี"
    # The company's application: Alice, who acts for it, follows it.
    listed = client.get("/api/v1/applications", headers=auth("applicant", "alice")).json()
    assert [a["id"] for a in listed] == [filed.json()["id"]]


def test_someone_sent_with_a_signed_letter_files_once_the_letter_is_uploaded(
        client: TestClient, auth: Auth, cora: dict[str, str]) -> None:
    """The entrepreneur sent her sister with a signed letter of authorisation: the letter is the consent's proof."""
    sister = {**COUNTER_CONSENT, "method": "signed_authorisation", "given_by_id_number": VALID_IDS[1],
              "given_by_name": "สมใจ ใจดี"}
    filed = client.post("/api/v1/applications", json=application_body(consent=sister), headers=cora)
    assert filed.status_code == 201, filed.text
    application = filed.json()["id"]
    assert filed.json()["consent"]["given_by_name"] == "สมใจ ใจดี"
    upload_required(client, application, cora)  # the manual's required documents; the letter is not one of them
    refused = client.post(f"/api/v1/applications/{application}/submit", headers=cora)
    assert refused.status_code == 422, refused.text
    assert [m["document"] for m in refused.json()["error"]["details"]["missing"]] == ["power_of_attorney"]
    assert upload(client, application, "power_of_attorney", cora).status_code == 201
    assert client.post(f"/api/v1/applications/{application}/submit", headers=cora).status_code == 200
    # Without naming who brought it, there is nothing to check the letter against.
    nameless = client.post("/api/v1/applications", headers=cora, json=application_body(
        consent={**COUNTER_CONSENT, "method": "signed_authorisation"}))
    assert nameless.status_code == 422 and "consent.given_by_id_number" in nameless.text
    # Alice sees the consent given in her name, by whom and how.
    (consent,) = client.get("/api/v1/consents", headers=auth("applicant", "alice")).json()
    assert (consent["method"], consent["given_by_name"]) == ("signed_authorisation", "สมใจ ใจดี")


def test_without_a_registry_the_counter_types_the_name_from_the_card(client: TestClient,
                                                                     cora: dict[str, str]) -> None:
    answer = client.get("/api/v1/entrepreneurs/1101700203395", headers=cora)
    assert answer.status_code == 404 and "from the ID card" in answer.json()["error"]["hint"]
