"""The entrepreneur's applications over HTTP (no browser): the list, the tracking page, answering a request for
documents with an upload, withdrawing, the sign-in and ownership rules, both languages. The same journey in a
real browser, with the live status, the diagram, the accessibility check and screenshots: test_tracking_browser.py.
"""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlmodel import select

from bizportal.api.app import create_app
from bizportal.api.page_labels import LABELS
from bizportal.api.pages import tracking
from bizportal.api.pages.signin import staff_page
from bizportal.api.sessions import SESSION_COOKIE, session_token
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Principal, Role
from bizportal.storage.database import transaction
from bizportal.storage.notifications import NotificationRow
from support.clock import MovableClock
from support.helpers import ALICE_ID, Journey
from support.pages import providers_configured
from support.uploads import pdf as one_page_pdf

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FLOOR_PLAN = "premises_map_and_floor_plan"
ALICE = Principal("alice", Role.APPLICANT, name="สมหญิง ใจดี", id_number=ALICE_ID)


def _sign_in(client: TestClient, principal: Principal = ALICE) -> dict[str, str]:
    """The session cookie of `principal`, as the browser sign-in sets it; returns the Origin header its forms send."""
    client.cookies.set(SESSION_COOKIE, session_token(client.app.state.signing_key, principal))  # type: ignore[attr-defined]
    return {"Origin": client.app.state.public_base_url.rstrip("/")}  # type: ignore[attr-defined]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_list_is_empty_then_shows_each_application_with_what_it_asks(client: TestClient, journey: Journey,
                                                                         clock: MovableClock,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _sign_in(client)
    empty = client.get("/applications")
    assert empty.status_code == 200 and LABELS["th"]["trk_list_empty"] in empty.text
    assert 'href="/finder"' in empty.text
    assert 'href="/applications" aria-current="page"' in empty.text  # the applicant's navigation entry

    draft = journey.create()["id"]
    clock.advance(minutes=5)
    journey.create()
    journey.submit()
    journey.decide("document_check", "request_documents", "แผนผังไม่ชัด")
    page = client.get("/applications?lang=en")
    assert page.status_code == 200
    text = _text(page.text)
    number = journey.view()["tracking_number"]
    assert f'href="/applications/{journey.id}"' in page.text and number in text
    assert f'href="/apply/{draft}"' in page.text and "Draft (not submitted)" in text
    assert "Waiting for your documents" in text and "Send more documents" in text
    assert page.text.index(number) < page.text.index(f"/apply/{draft}")  # newest first

    monkeypatch.setattr(tracking, "PAGE_SIZE", 1)  # paged: one a page
    first = client.get("/applications?lang=en")
    assert number in first.text and f"/apply/{draft}" not in first.text and 'href="/applications?page=2"' in first.text
    second = client.get("/applications?page=2&lang=en")
    assert f"/apply/{draft}" in second.text and 'href="/applications?page=1"' in second.text
    assert 'href="/applications?page=3"' not in second.text


def test_the_tracking_page_shows_status_steps_clock_and_timeline(client: TestClient, journey: Journey) -> None:
    journey.create()
    journey.submit()
    _sign_in(client)
    page = client.get(f"/applications/{journey.id}?lang=en")
    assert page.status_code == 200, page.text
    text = _text(page.text)
    assert journey.view()["tracking_number"] in text
    assert "Checking documents" in text  # the status in words
    assert 'aria-current="step"' in page.text and "Receive the notification and check the documents" in text
    assert re.search(r"0 of 7 working days used, 7 left", text), text
    assert "Application submitted" in text and "1 Dec 2026" in text
    assert f'data-stream="/api/v1/applications/{journey.id}/status-stream"' in page.text
    assert f'/api/v1/applications/{journey.id}/licences/food_premises_notice_small/process' in page.text
    thai = client.get(f"/applications/{journey.id}?lang=th")
    assert LABELS["th"]["trk_status_document_check"] in thai.text and "2569" in thai.text


def test_answering_a_request_for_documents_on_the_page(client: TestClient, journey: Journey) -> None:
    journey.create()
    journey.submit()
    assert journey.decide("document_check", "request_documents", "แผนผังไม่ชัด",
                          documents=[FLOOR_PLAN]).status_code == 200
    origin = _sign_in(client)
    page = client.get(f"/applications/{journey.id}?lang=en")
    assert "แผนผังไม่ชัด" in page.text and 'id="file-food_premises_notice_small-premises_map_and_floor_plan"' in page.text
    assert "PDF, JPEG or PNG, up to 20 MB" in page.text  # the engine's limit

    # Sending the answer before uploading: the engine refuses, the page says so beside the file input.
    task = re.search(r'name="task" value="([^"]+)"', page.text)
    assert task is not None
    refused = client.post(f"/applications/{journey.id}/licences/food_premises_notice_small/answer?lang=en",
                          data={"task": task.group(1)}, headers=origin)
    assert refused.status_code == 422 and 'class="error-summary"' in refused.text
    assert '#file-food_premises_notice_small-premises_map_and_floor_plan' in refused.text

    # No file chosen; a file that is not a PDF or an image: re-rendered with the error, nothing stored.
    form = {"document": FLOOR_PLAN, "licence": "food_premises_notice_small"}
    empty = client.post(f"/applications/{journey.id}/documents?lang=en", data=form, headers=origin)
    assert empty.status_code == 422 and LABELS["en"]["trk_error_no_file"] in empty.text
    assert 'aria-invalid="true"' in empty.text
    wrong = client.post(f"/applications/{journey.id}/documents?lang=en", data=form, headers=origin,
                        files={"file": ("plan.txt", b"just text", "text/plain")})
    assert wrong.status_code == 415 and 'class="error-summary"' in wrong.text
    assert journey.view()["licences"][0]["document_request"]["answers"] == []

    uploaded = client.post(f"/applications/{journey.id}/documents?lang=en", data=form, headers=origin,
                           files={"file": ("plan.pdf", one_page_pdf(), "application/pdf")}, follow_redirects=False)
    assert uploaded.status_code == 303, uploaded.text
    location = f"/applications/{journey.id}?done=uploaded#request-food_premises_notice_small"
    assert uploaded.headers["location"] == location
    shown = client.get(uploaded.headers["location"].split("#")[0] + "&lang=en")
    assert "The document is uploaded" in shown.text and "plan.pdf (version 2)" in _text(shown.text)

    answered = client.post(f"/applications/{journey.id}/licences/food_premises_notice_small/answer",
                           data={"task": task.group(1)}, headers=origin, follow_redirects=False)
    assert answered.status_code == 303
    assert journey.view()["licences"][0]["status"] == "document_check"  # the officer re-checks
    again = client.post(f"/applications/{journey.id}/licences/food_premises_notice_small/answer?lang=en",
                        data={"task": task.group(1)}, headers=origin, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/applications/{journey.id}"  # a resend
    forged = client.post(f"/applications/{journey.id}/licences/food_premises_notice_small/answer?lang=en",
                         data={"task": "no-such-task"}, headers=origin)
    assert forged.status_code == 404 and '<html lang="en">' in forged.text


def test_a_fee_to_pay_links_to_its_payment_page(client: TestClient, journey: Journey) -> None:
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    (invoice,) = journey.view()["invoices"]
    _sign_in(client)
    page = client.get(f"/applications/{journey.id}?lang=en")
    assert f'href="/applications/{journey.id}/invoices/{invoice["id"]}"' in page.text
    assert "Waiting for payment" in page.text and "Fee to pay: 500 THB" in _text(page.text)
    listed = _text(client.get("/applications?lang=en").text)
    assert "Pay the fee of 500 THB" in listed


def test_downloads_and_links_after_the_licence_is_issued(client: TestClient, journey: Journey) -> None:
    number, _ = journey.issue()
    _sign_in(client)
    page = client.get(f"/applications/{journey.id}?lang=en")
    assert f'href="/api/v1/issued-licences/{number}/pdf"' in page.text
    assert f'href="/my-licences/{number}"' in page.text
    assert f'href="/applications/{journey.id}/licences/food_premises_notice_small/survey"' in page.text
    assert 'href="/account/consents"' in page.text
    receipt = re.search(r'href="(/api/v1/receipts/[^"]+/pdf)"', page.text)
    assert receipt is not None
    # The downloads answer the browser's session cookie.
    pdf = client.get(f"/api/v1/issued-licences/{number}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(receipt.group(1)).content.startswith(b"%PDF")
    assert "/withdraw" not in page.text  # nothing left to withdraw


def test_withdrawing_asks_for_confirmation_and_a_reason(client: TestClient, journey: Journey) -> None:
    journey.create()
    journey.submit()
    origin = _sign_in(client)
    page = client.get(f"/applications/{journey.id}?lang=en")
    assert f'href="/applications/{journey.id}/withdraw"' in page.text
    confirm = client.get(f"/applications/{journey.id}/withdraw?lang=en")
    assert confirm.status_code == 200 and "Withdraw the application" in confirm.text
    refused = client.post(f"/applications/{journey.id}/withdraw?lang=en",
                          data={"reason": "", "licences": ["food_premises_notice_small"]}, headers=origin)
    assert refused.status_code == 422 and LABELS["en"]["trk_error_withdraw_reason"] in refused.text
    assert 'href="#withdraw-reason"' in refused.text and 'aria-invalid="true"' in refused.text
    none_chosen = client.post(f"/applications/{journey.id}/withdraw?lang=en", data={"reason": "เปลี่ยนใจ"},
                              headers=origin)
    assert none_chosen.status_code == 422 and LABELS["en"]["trk_error_withdraw_licences"] in none_chosen.text
    assert journey.view()["status"] == "document_check"  # nothing written
    done = client.post(f"/applications/{journey.id}/withdraw", headers=origin, follow_redirects=False,
                       data={"reason": "เปลี่ยนใจ ไม่เปิดร้านแล้ว", "licences": ["food_premises_notice_small"]})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=withdrawn")
    assert journey.view()["status"] == "cancelled"
    after = client.get(done.headers["location"] + "&lang=en")
    assert "The application is withdrawn" in after.text and "Cancelled" in after.text
    assert client.get(f"/applications/{journey.id}/withdraw", follow_redirects=False).status_code == 303
    resent = client.post(f"/applications/{journey.id}/withdraw", headers=origin, follow_redirects=False,
                         data={"reason": "เปลี่ยนใจ ไม่เปิดร้านแล้ว", "licences": ["food_premises_notice_small"]})
    assert resent.status_code == 303 and resent.headers["location"] == f"/applications/{journey.id}"


def test_a_post_from_another_site_changes_nothing(client: TestClient, journey: Journey) -> None:
    journey.create()
    journey.submit()
    _sign_in(client)
    providers_configured(client)
    response = client.post(f"/applications/{journey.id}/withdraw", headers={"Origin": "https://evil.example"},
                           data={"reason": "เปลี่ยนใจ", "licences": ["food_premises_notice_small"]},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/login")
    assert journey.view()["status"] == "document_check"


def test_sign_in_role_and_ownership(client: TestClient, journey: Journey) -> None:
    journey.create()
    journey.submit()
    providers_configured(client)
    for path in ("/applications", f"/applications/{journey.id}", f"/applications/{journey.id}/withdraw"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/auth/login?next=")
    _sign_in(client, Principal("olivia", Role.AGENCY_OFFICER, agency="LAO"))
    assert client.get("/applications").status_code == 403
    _sign_in(client, Principal("bob", Role.APPLICANT, id_number="3100600123450"))
    other = client.get(f"/applications/{journey.id}?lang=en")
    assert other.status_code == 404 and '<html lang="en">' in other.text  # the 404 page, not JSON
    assert client.get(f"/applications/{journey.id}/withdraw").status_code == 404
    assert client.get("/applications/no-such-id").status_code == 404
    assert str(escape(journey.view()["tracking_number"])) not in client.get("/applications").text


def test_without_a_sign_in_provider_a_page_says_signing_in_is_not_available(client: TestClient,
                                                                            journey: Journey) -> None:
    """The test app has no OpenID provider: a page that needs sign-in says so, instead of the API's JSON 404."""
    for path, words in (("/applications?lang=en", "signin_off_text"), ("/account?lang=en", "signin_off_text")):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert LABELS["en"]["signin_off_title"] in page.text and LABELS["en"][words] in page.text
    thai = client.get("/applications")
    assert thai.status_code == 503 and LABELS["th"]["signin_off_title"] in thai.text
    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/test-inbox")
    def inbox(principal: Annotated[Principal, Depends(staff_page(Role.AGENCY_OFFICER))]) -> str:  # a staff page
        return principal.subject

    staff = client.get("/test-inbox?lang=en")
    assert staff.status_code == 503 and LABELS["en"]["signin_off_staff"] in staff.text


def test_every_email_to_the_applicant_links_to_a_page_they_can_open(client: TestClient, journey: Journey,
                                                                    engine: LicensingEngine,
                                                                    clock: MovableClock) -> None:
    """Each kind of notification an application's story sends carries links to its tracking page (not a JSON
    route): they answer 200 to the owner signed in, and send anyone else through sign-in."""
    applicant = {"kind": "individual", "id_number": ALICE_ID, "name": "สมหญิง ใจดี", "email": "somying@example.co.th"}

    def applied() -> Journey:
        story = Journey(client, journey.applicant, journey.officer, journey.counter)
        story.create(applicant=applicant)
        story.submit()
        return story

    issued = applied()  # documents asked for, sent, approved, paid: the licence issued
    issued.decide("document_check", "request_documents", "แผนผังไม่ชัด")
    issued.decide("submit_documents", "submit", headers=journey.applicant)
    issued.decide("document_recheck", "approve")
    issued.decide("consideration", "approve")
    assert issued.pay().status_code == 200
    number = issued.view()["licences"][0]["licence_number"]
    refused = applied()
    refused.decide("document_check", "reject", "ไม่ใช่สถานที่จำหน่ายอาหาร")
    unpaid = applied()
    unpaid.decide("document_check", "approve")
    unpaid.decide("consideration", "approve")
    applied()  # left waiting past the manual's time: the Section 10 notices
    cancelled = client.post(f"/api/v1/issued-licences/{number}/cancellations", json={"reason": "ปิดกิจการ"},
                            headers=journey.applicant)
    assert cancelled.status_code == 201, cancelled.text
    cancellation = Journey(client, journey.applicant, journey.officer, journey.counter)
    cancellation.id = cancelled.json()["id"]
    cancellation.decide("cancellation_acknowledgement", "approve", "รับทราบ")
    engine.opdc_email = "opdc@example.go.th"  # Section 10 notices go with a copy to OPDC
    clock.advance(days=45)
    engine.fire_due_timers_and_notices()

    with transaction(engine.db) as session:
        sent = [(row.event, row.body, row.links) for row in session.exec(select(NotificationRow))]
    assert {event for event, _, _ in sent} >= {"application_submitted", "documents_requested", "licence_decided",
                                               "payment_due", "payment_expired", "licence_issued",
                                               "section10_notice", "licence_cancelled"}
    base = client.app.state.public_base_url.rstrip("/")  # type: ignore[attr-defined]
    providers_configured(client)
    for event, body, links in sent:
        assert links, event
        for link in links:
            assert link["url"] in body and link["url"].startswith(base + "/applications/"), (event, link)
            path = link["url"].removeprefix(base).split("#")[0]
            client.cookies.clear()
            visitor = client.get(path, follow_redirects=False)
            assert visitor.status_code == 303 and visitor.headers["location"].startswith("/auth/login"), event
            _sign_in(client)
            assert client.get(path).status_code == 200, (event, path)


def test_the_page_upload_may_be_as_large_as_a_document(settings: Settings, engine: LicensingEngine,
                                                       journey: Journey) -> None:
    """The page's upload form has the documents' size limit, not the smaller one of other multipart bodies."""
    journey.create()
    journey.submit()
    journey.decide("document_check", "request_documents", "แผนผังไม่ชัด", documents=[FLOOR_PLAN])
    small_multipart = settings.model_copy(update={"max_upload_bytes": 2000})
    with TestClient(create_app(small_multipart, engine=engine)) as client:
        origin = _sign_in(client)
        document = one_page_pdf(padding=4000)
        assert len(document) > 2000
        uploaded = client.post(f"/applications/{journey.id}/documents", headers=origin, follow_redirects=False,
                               data={"document": FLOOR_PLAN, "licence": "food_premises_notice_small"},
                               files={"file": ("plan.pdf", document, "application/pdf")})
        assert uploaded.status_code == 303, uploaded.text
