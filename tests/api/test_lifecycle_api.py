"""A licence's life after issuing, over HTTP on SQLite and PostgreSQL: renewal reminders, renewal, amendment
and cancellation as processes, and what verification and the public register say about each."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import col, select

from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.database import transaction
from bizportal.storage.notifications import NotificationRow
from support.helpers import ALICE_ID, COUNTER_CONSENT, LICENCE, OFFICE, Auth, Journey, application_body

EMAIL = "somying@example.co.th"
# Issued on Tuesday 1 December 2026 (the test clock's start): valid until 30 November 2027.
VALID_UNTIL = "2027-11-30"


def _at(clock: Any, day: str) -> None:
    """Move the clock to 09:00 Bangkok time on `day`."""
    clock.current = datetime.fromisoformat(f"{day}T02:00:00").replace(tzinfo=UTC)


def _issue(journey: Journey, **body: Any) -> str:
    """A food-premises notice issued to Alice (with an e-mail address) through the ordinary journey."""
    data = application_body(**body)
    data["applicant"] = {**data["applicant"], "email": EMAIL}  # type: ignore[dict-item]
    response = journey.client.post("/api/v1/applications", json=data, headers=journey.applicant)
    assert response.status_code == 201, response.text
    journey.id = response.json()["id"]
    journey.submit()
    assert journey.decide("document_check", "approve").status_code == 200
    assert journey.decide("consideration", "approve").status_code == 200
    assert journey.pay().status_code == 200
    (licence,) = journey.view()["licences"]
    assert licence["status"] == "issued"
    return str(licence["licence_number"])


def _signature(client: TestClient, number: str, headers: dict[str, str]) -> str:
    """The QR signature printed in the licence's PDF."""
    pdf = client.get(f"/api/v1/issued-licences/{number}/pdf", headers=headers).content
    links = {str(annotation.get_object()["/A"]["/URI"]) for page in PdfReader(io.BytesIO(pdf)).pages
             for annotation in page.get("/Annots", []) if "/A" in annotation.get_object()}
    (link,) = {link for link in links if "/verify/" in link}
    return parse_qs(urlparse(link).query)["s"][0]


def _verify(client: TestClient, number: str, headers: dict[str, str]) -> dict[str, Any]:
    return client.get(f"/api/v1/verify/{number}", params={"s": _signature(client, number, headers)}).json()


def _request(journey: Journey, number: str, kind: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
    return journey.client.post(f"/api/v1/issued-licences/{number}/{kind}", json=body or {},
                               headers=headers or journey.applicant)


def _follow(journey: Journey, application_id: str) -> Journey:
    """A journey driver for a request's application (same people)."""
    follower = Journey(journey.client, journey.applicant, journey.officer, journey.counter)
    follower.id = application_id
    return follower


def _reminders(engine: LicensingEngine) -> list[NotificationRow]:
    with transaction(engine.db) as session:
        return list(session.exec(select(NotificationRow).where(NotificationRow.event == "renewal_reminder")
                                 .order_by(col(NotificationRow.created_at))))


# --- renewal reminders --------------------------------------------------------------------------------


def test_reminders_go_at_90_30_and_7_days_each_exactly_once(journey: Journey, engine: LicensingEngine,
                                                            clock: Any) -> None:
    number = _issue(journey)
    for day, expected in [("2027-08-31", 0), ("2027-09-01", 1), ("2027-10-30", 1), ("2027-10-31", 2),
                          ("2027-11-22", 2)]:
        _at(clock, day)
        engine.fire_due_timers_and_notices()
        engine.fire_due_timers_and_notices()  # the scan runs again: nothing new
        assert len(_reminders(engine)) == expected, day

    _at(clock, "2027-11-23")  # 7 days before: two scanners at once still send one reminder
    start = threading.Barrier(2)

    def scan() -> None:
        start.wait()
        engine.fire_due_timers_and_notices()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reminders = _reminders(engine)
    assert len(reminders) == 3

    for day in ("2027-11-30", "2027-12-15"):  # the expiry day and the grace period: nothing more
        _at(clock, day)
        engine.fire_due_timers_and_notices()
    assert len(_reminders(engine)) == 3

    first, _, last = reminders
    assert first.recipients == [EMAIL] and first.lang == "th"
    assert "30 พฤศจิกายน 2570" in first.subject and "(อีก 90 วัน)" in first.body  # Buddhist-era date
    assert "(อีก 7 วัน)" in last.body and "30 ธันวาคม 2570" in last.body  # the grace period's last day
    assert f"https://bizportal.test/my-licences/{number}" in first.body  # the licence's page
    assert first.links == [{"label": "ยื่นคำขอต่ออายุใบอนุญาต", "url": f"https://bizportal.test/my-licences/{number}"}]
    timeline = journey.view()["timeline"]
    assert [e["detail"]["days_before_expiry"] for e in timeline
            if e["event"] == "licence.renewal_reminder_sent"] == [90, 30, 7]


def test_no_reminder_for_a_revoked_licence_or_one_being_renewed(journey: Journey, engine: LicensingEngine,
                                                                client: TestClient,
                                                                 clock: Any) -> None:
    revoked = _issue(journey)
    assert client.post(f"/api/v1/issued-licences/{revoked}/revoke", json={"reason": "ละเมิดเงื่อนไขใบอนุญาต"},
                       headers=journey.officer).status_code == 200
    renewing = _issue(journey)
    _at(clock, "2027-09-01")
    assert _request(journey, renewing, "renewals").status_code == 201
    for day in ("2027-09-01", "2027-10-31", "2027-11-23"):
        _at(clock, day)
        engine.fire_due_timers_and_notices()
    assert _reminders(engine) == []


def test_a_reinstated_licence_gets_the_reminder_it_missed(journey: Journey, engine: LicensingEngine, client: TestClient,
                                                          clock: Any) -> None:
    number = _issue(journey)
    url = f"/api/v1/issued-licences/{number}"
    suspended = client.post(f"{url}/suspend", json={"reason": "ตรวจพบปัญหาสุขอนามัย"}, headers=journey.officer)
    assert suspended.status_code == 200
    _at(clock, "2027-09-05")
    engine.fire_due_timers_and_notices()
    assert _reminders(engine) == []
    assert client.post(f"{url}/reinstate", json={"reason": "แก้ไขแล้ว"}, headers=journey.officer).status_code == 200
    engine.fire_due_timers_and_notices()
    engine.fire_due_timers_and_notices()
    assert len(_reminders(engine)) == 1


# --- renewal --------------------------------------------------------------------------------------------


def test_renewal_end_to_end_continues_the_validity(journey: Journey, client: TestClient, clock: Any) -> None:
    old = _issue(journey)
    old_signature = _signature(client, old, journey.applicant)
    _at(clock, "2027-10-01")  # 60 days early
    headers = {**journey.applicant, "Idempotency-Key": "renew-1"}
    created = _request(journey, old, "renewals", {"note": "ต่ออายุตามปกติ"}, headers)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "submitted" and request["tracking_number"].startswith("BP-2570-")
    (case,) = request["licences"]
    assert (case["kind"], case["subject_licence"], case["code"]) == ("renewal", old, "food_premises_notice_small")
    assert case["office"] == OFFICE and case["request"] == {"note": "ต่ออายุตามปกติ"}
    replay = _request(journey, old, "renewals", {"note": "ต่ออายุตามปกติ"}, headers)
    assert replay.status_code == 200 and replay.json()["id"] == request["id"]
    reused = _request(journey, old, "renewals", {"note": "another note"}, headers)  # the key, another body
    assert reused.status_code == 409 and "renew-1" in reused.json()["error"]["message"]
    assert "new Idempotency-Key" in reused.json()["error"]["hint"]
    again = _request(journey, old, "renewals")  # a second request while the first is open
    assert again.status_code == 409 and request["tracking_number"] in again.json()["error"]["message"]
    assert _request(journey, old, "cancellations", {"reason": "ปิดกิจการ"}).status_code == 409

    renewal = _follow(journey, request["id"])
    assert renewal.view()["status"] == "under_consideration"  # its process started once the request committed
    task = renewal.task("renewal_review")  # in the Khlong Toei office's inbox, like any licence's step
    assert (task["licence"], task["kind"], task["actions"]) == ("food_premises_notice_small", "renewal",
                                                                ["approve", "reject"])
    assert renewal.decide("renewal_review", "approve").status_code == 200
    awaiting = renewal.view()
    assert awaiting["status"] == "awaiting_payment"
    assert [(i["amount_satang"], i["status"]) for i in awaiting["invoices"]] == [(50_000, "open")]  # the fee rule
    assert renewal.pay().status_code == 200

    done = renewal.view()
    assert done["status"] == "issued"
    new = done["licences"][0]["licence_number"]
    assert new != old and new.startswith("LAO-2570-")
    assert [e["detail"]["to"] for e in done["timeline"] if e["event"] == "licence.status_changed"] == [
        "under_consideration", "awaiting_payment", "issuing", "issued"]
    events = [e["event"] for e in done["timeline"]]
    assert {"licence.renewal_requested", "task.completed", "payment.recorded", "licence.issued"} <= set(events)

    renewed = client.get(f"/api/v1/issued-licences/{new}", headers=journey.applicant).json()
    assert (renewed["issued_on"], renewed["valid_until"]) == ("2027-10-01", "2028-11-30")  # no day lost
    assert renewed["predecessor"] == old and renewed["status"] == "valid"
    previous = client.get(f"/api/v1/issued-licences/{old}", headers=journey.applicant).json()
    assert (previous["status"], previous["successor"], previous["valid_until"]) == ("renewed", new, VALID_UNTIL)

    verdict = client.get(f"/api/v1/verify/{old}", params={"s": old_signature}).json()
    assert verdict["status"] == "renewed" and verdict["successor_number"] == new
    assert _verify(client, new, journey.applicant)["status"] == "valid"
    page = client.get(f"/verify/{old}", params={"s": old_signature})
    assert "ได้รับการต่ออายุแล้ว" in page.text and new in page.text
    assert [e["number"] for e in client.get("/api/v1/register", params={"q": "ข้าวมันไก่"}).json()] == [new]
    refused = _request(journey, old, "renewals")
    assert refused.status_code == 409 and new in refused.json()["error"]["hint"]


def test_a_rejected_renewal_leaves_the_licence_as_it_was(journey: Journey, client: TestClient, clock: Any) -> None:
    number = _issue(journey)
    _at(clock, "2027-12-10")  # expired, within the 30-day grace period
    request = _request(journey, number, "renewals")
    assert request.status_code == 201, request.text
    renewal = _follow(journey, request.json()["id"])
    assert renewal.decide("renewal_review", "reject", "ไม่ผ่านการตรวจสุขลักษณะ").status_code == 200
    assert renewal.view()["status"] == "rejected"
    record = client.get(f"/api/v1/issued-licences/{number}", headers=journey.applicant).json()
    assert record["status"] == "valid" and record["successor"] is None
    assert _verify(client, number, journey.applicant)["status"] == "expired"
    assert _request(journey, number, "renewals").status_code == 201  # the request is closed: ask again


# --- amendment and cancellation ---------------------------------------------------------------------------


def test_amendment_issues_a_replacement_with_the_new_details(journey: Journey, client: TestClient,
                                                             clock: Any) -> None:
    old = _issue(journey)
    old_signature = _signature(client, old, journey.applicant)
    clock.advance(days=20)
    created = _request(journey, old, "amendments", {"business_name": "ร้านข้าวมันไก่ประตูน้ำ",
                                                     "reason": "เปลี่ยนชื่อร้าน"})
    assert created.status_code == 201, created.text
    (case,) = created.json()["licences"]
    assert case["kind"] == "amendment" and case["request"] == {
        "reason": "เปลี่ยนชื่อร้าน", "changes": {"business_name": "ร้านข้าวมันไก่ประตูน้ำ"}}
    amendment = _follow(journey, created.json()["id"])
    assert amendment.decide("amendment_review", "approve").status_code == 200
    done = amendment.view()
    assert done["status"] == "issued" and done["invoices"] == []  # an amendment raises no fee
    new = done["licences"][0]["licence_number"]

    replacement = client.get(f"/api/v1/issued-licences/{new}", headers=journey.applicant).json()
    assert replacement["business_name"] == "ร้านข้าวมันไก่ประตูน้ำ" and replacement["valid_until"] == VALID_UNTIL
    pdf = client.get(f"/api/v1/issued-licences/{new}/pdf", headers=journey.applicant).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert "ร้านข้าวมันไก่ประตูน้ำ" in text and new in text
    verdict = client.get(f"/api/v1/verify/{old}", params={"s": old_signature}).json()
    assert verdict["status"] == "replaced" and verdict["successor_number"] == new
    assert _verify(client, new, journey.applicant)["status"] == "valid"
    assert [e["number"] for e in client.get("/api/v1/register", params={"q": "ข้าวมันไก่"}).json()] == [new]
    assert client.get(f"/api/v1/issued-licences/{old}", headers=journey.applicant).json()["status"] == "replaced"


def test_cancellation_is_acknowledged_and_verification_says_cancelled(journey: Journey, client: TestClient,
                                                                      engine: LicensingEngine) -> None:
    number = _issue(journey)
    pdf = client.get(f"/api/v1/issued-licences/{number}/pdf", headers=journey.applicant).content
    signature = _signature(client, number, journey.applicant)
    created = _request(journey, number, "cancellations", {"reason": "ปิดกิจการ"})
    assert created.status_code == 201, created.text
    cancellation = _follow(journey, created.json()["id"])
    task = cancellation.task("cancellation_acknowledgement")
    assert task["kind"] == "cancellation"
    assert client.get(f"/api/v1/issued-licences/{number}", headers=journey.applicant).json()["status"] == "valid"
    assert cancellation.decide("cancellation_acknowledgement", "approve", "รับทราบ").status_code == 200

    done = cancellation.view()
    assert done["status"] == "cancelled" and done["licences"][0]["status"] == "cancelled"
    assert "licence.cancelled" in [e["event"] for e in done["timeline"]]
    assert client.get(f"/api/v1/verify/{number}", params={"s": signature}).json()["status"] == "cancelled"
    assert "ยกเลิก" in client.get(f"/verify/{number}", params={"s": signature}).text
    uploaded = client.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")}).json()
    assert uploaded["authentic"] is True and uploaded["status"] == "cancelled"
    assert client.get("/api/v1/register", params={"q": "ข้าวมันไก่"}).json() == []
    log = client.get(f"/api/v1/applications/{cancellation.id}/notifications", headers=journey.applicant).json()
    assert sorted(entry["event"] for entry in log) == ["application_submitted", "licence_cancelled"]
    assert _request(journey, number, "renewals").status_code == 409
    revoke = client.post(f"/api/v1/issued-licences/{number}/revoke", json={"reason": "ภายหลัง"}, headers=journey.officer)
    assert revoke.status_code == 409  # nothing left to revoke


# --- who may ask, and what is refused ------------------------------------------------------------------------


def test_only_the_holder_or_a_counter_officer_with_their_id_may_ask(journey: Journey, auth: Auth) -> None:
    number = _issue(journey)
    for kind, body in [("renewals", {}), ("amendments", {"business_name": "x", "reason": "เปลี่ยนชื่อ"}),
                       ("cancellations", {"reason": "ปิดกิจการ"})]:
        assert _request(journey, number, kind, body, auth("applicant", "mallory")).status_code == 404
        assert _request(journey, "LAO-2569-999999", kind, body).status_code == 404
        assert _request(journey, number, kind, body, journey.officer).status_code == 403
        low = _request(journey, number, kind, body, auth("applicant", "alice", ial="1.3", aal="1"))
        assert low.status_code == 403 and low.json()["error"]["details"]["acr_values"] == "ial2 aal2"
    counter = journey.counter
    missing = _request(journey, number, "cancellations", {"reason": "ปิดกิจการ"}, counter)
    assert missing.status_code == 422 and missing.json()["error"]["details"]["field"] == "holder_id_number"
    wrong = _request(journey, number, "cancellations", {"reason": "ปิดกิจการ", "holder_id_number": "3100600123450"},
                     counter)
    assert wrong.status_code == 404
    holders = {"reason": "ปิดกิจการ", "holder_id_number": "1101700203395"}
    unconsented = _request(journey, number, "cancellations", holders, counter)
    assert unconsented.status_code == 422 and unconsented.json()["error"]["details"]["field"] == "consent"
    by_letter = {**COUNTER_CONSENT, "method": "signed_authorisation", "given_by_id_number": "3100600123450",
                 "given_by_name": "สมใจ"}
    letter = _request(journey, number, "cancellations", {**holders, "consent": by_letter}, counter)
    assert letter.status_code == 422 and letter.json()["error"]["details"]["field"] == "consent.method"
    filed = _request(journey, number, "cancellations", {**holders, "consent": COUNTER_CONSENT}, counter)
    assert filed.status_code == 201 and filed.json()["licences"][0]["kind"] == "cancellation"
    assert filed.json()["timeline"][0]["actor"] == "counter_officer:carl"
    assert filed.json()["consent"]["licences"] == [LICENCE] and filed.json()["filed_by"]["role"] == "counter_officer"
    # The request is the holder's: she follows it too.
    followed = journey.client.get(f"/api/v1/applications/{filed.json()['id']}", headers=journey.applicant)
    assert followed.status_code == 200


def test_renewal_is_refused_with_a_reason_and_a_hint(journey: Journey, client: TestClient, auth: Auth,
                                                     clock: Any) -> None:
    number = _issue(journey)
    early = _request(journey, number, "renewals")
    assert early.status_code == 409
    assert early.json()["error"]["details"] == {"renewal_opens_on": "2027-09-01"}
    _at(clock, "2027-12-31")  # past the grace period
    late = _request(journey, number, "renewals")
    assert late.status_code == 409 and "POST /api/v1/applications" in late.json()["error"]["hint"]

    _at(clock, "2027-10-01")
    client.post(f"/api/v1/issued-licences/{number}/revoke", json={"reason": "ละเมิดเงื่อนไข"}, headers=journey.officer)
    revoked = _request(journey, number, "renewals")
    assert revoked.status_code == 409 and "revoked" in revoked.json()["error"]["message"]
    assert revoked.json()["error"]["hint"]

    # A licence without an expiry (commercial registration, BMA) is never renewed.
    journey.create(licences=["commercial_registration_local"])
    journey.submit()
    journey.approve_everything(auth("agency_officer", "bob", "BMA", OFFICE))
    permanent = journey.view()["licences"][0]["licence_number"]
    refused = _request(journey, permanent, "renewals")
    assert refused.status_code == 409 and "does not expire" in refused.json()["error"]["message"]
    assert refused.json()["error"]["hint"]


def test_bad_bodies_are_422_naming_the_field(journey: Journey) -> None:
    number = _issue(journey)

    def fields(response: Any) -> set[str]:
        assert response.status_code == 422, response.text
        details = response.json()["error"]["details"]
        return {d["field"] for d in details} if isinstance(details, list) else {details["field"]}

    assert fields(_request(journey, number, "renewals", {"notes": "typo"})) == {"notes"}
    assert fields(_request(journey, number, "cancellations", {})) == {"reason"}
    assert fields(_request(journey, number, "renewals", {"holder_id_number": "1234"})) == {"holder_id_number"}
    nothing = _request(journey, number, "amendments", {"reason": "เปลี่ยนแปลง"})
    assert nothing.status_code == 422 and "business_name" in nothing.json()["error"]["message"]
    assert fields(_request(journey, number, "amendments", {"holder_name": "บริษัท ใหม่ จำกัด",
                                                            "reason": "เปลี่ยนชื่อ"})) == {"holder_name"}
    assert fields(_request(journey, number, "amendments", {"business_name": "ร้านข้าวมันไก่น้ำใจ",
                                                            "reason": "เหมือนเดิม"})) == {"business_name"}


def test_an_amended_address_stays_in_the_licence_district(journey: Journey) -> None:
    number = _issue(journey)  # a shop in Khlong Toei, Bangkok
    moved = _request(journey, number, "amendments", {"business_address": "Somewhere, เขตบางรัก",
                                                       "reason": "ย้ายร้าน"})
    assert moved.status_code == 422, moved.text
    assert moved.json()["error"]["details"] == {"field": "business_address", "districts_named": ["บางรัก"]}
    assert "new licence" in moved.json()["error"]["hint"]
    english = _request(journey, number, "amendments", {"business_address": "12 Silom Road, Bang Rak District",
                                                         "reason": "moving"})
    assert english.status_code == 422 and english.json()["error"]["details"]["districts_named"] == ["บางรัก"]
    stated = _request(journey, number, "amendments", {"business_address": "12 ถนนสีลม", "business_district": "Bang Rak",
                                                        "reason": "ย้ายร้าน"})
    assert stated.status_code == 422 and stated.json()["error"]["details"] == {"field": "business_district"}
    same = _request(journey, number, "amendments", {"business_address": "99 ถนนพระรามสี่ แขวงคลองเตย เขตคลองเตย",
                                                      "business_district": "Khlong Toei", "reason": "เลขที่ใหม่"})
    assert same.status_code == 201, same.text


def test_two_requests_at_once_open_one(journey: Journey, clock: Any) -> None:
    number = _issue(journey)
    _at(clock, "2027-10-01")
    start = threading.Barrier(2)
    statuses: list[int] = []

    def ask() -> None:
        start.wait()
        statuses.append(_request(journey, number, "renewals").status_code)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]


def test_an_assessed_renewal_fee_is_set_when_the_renewal_is_approved(journey: Journey, clock: Any) -> None:
    journey.create(licences=["hh_car_wash_care"])  # health-hazard business: the local office assesses the fee
    journey.submit()
    journey.approve_everything(journey.officer)
    number = journey.view()["licences"][0]["licence_number"]
    _at(clock, "2027-11-01")
    created = _request(journey, number, "renewals")
    assert created.status_code == 201, created.text
    renewal = _follow(journey, created.json()["id"])
    task = renewal.task("renewal_review")
    assert task["sets_fee"] is not None and task["kind"] == "renewal"
    unset = renewal.decide("renewal_review", "approve")
    assert unset.status_code == 422 and unset.json()["error"]["details"]["field"] == "fee_satang"
    fee = task["sets_fee"]["min_satang"]
    approved = journey.client.post(f"/api/v1/tasks/{task['id']}/complete",
                                   json={"action": "approve", "fee_satang": fee}, headers=journey.officer)
    assert approved.status_code == 200, approved.text
    (invoice,) = renewal.view()["invoices"]
    assert invoice["licence"] == "hh_car_wash_care" and 0 < invoice["amount_satang"] <= fee


def test_a_company_amends_its_name_and_address(journey: Journey, client: TestClient) -> None:
    company = {"kind": "juristic", "id_number": "0105556123453", "name": "บริษัท น้ำใจ จำกัด"}
    # No company registry here: the counter checked the company's letter authorising Alice.
    authorised = client.post("/api/v1/companies/0105556123453/representatives", headers=journey.counter,
                             json={"id_number": ALICE_ID, "name": "สมหญิง ใจดี", "valid_until": "2028-12-31"})
    assert authorised.status_code == 201, authorised.text
    number = _issue(journey, applicant=company)
    created = _request(journey, number, "amendments", {
        "holder_name": "บริษัท น้ำใจฟู้ดส์ จำกัด", "business_address": "101 ถนนพระราม 4 แขวงคลองเตย เขตคลองเตย",
        "reason": "จดทะเบียนเปลี่ยนชื่อบริษัทและเลขที่ตั้ง"})
    assert created.status_code == 201, created.text
    amendment = _follow(journey, created.json()["id"])
    assert amendment.decide("amendment_review", "approve").status_code == 200
    new = amendment.view()["licences"][0]["licence_number"]
    verdict = _verify(client, new, journey.applicant)
    assert verdict["status"] == "valid" and verdict["holder_name"] == "บริษัท น้ำใจฟู้ดส์ จำกัด"
    assert verdict["valid_until"] == VALID_UNTIL
    pdf = client.get(f"/api/v1/issued-licences/{new}/pdf", headers=journey.applicant).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert "น้ำใจฟู้ดส์" in text and "ถนนพระราม4" in text
