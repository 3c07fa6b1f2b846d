"""The agency officer's inbox, task page and the supervisors' escalations over HTTP (no browser): what each page
shows, the filters and paging, claim and release, the decision form's success and each of its errors (re-rendered
with the error summary, nothing written), a task done meanwhile, other agencies' and offices' tasks (404), the
wrong role (403 page), both languages. The same journey in a real browser: test_inbox_browser.py.

Staff sign in with the session cookie of a staff sign-in (the provider's issuer, checked against the staff
register on every request), as after signing in at the staff provider.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.page_labels import LABELS
from bizportal.api.pages import inbox
from bizportal.api.sessions import SESSION_COOKIE, session_token
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Principal, Role
from support.helpers import OFFICE, Auth, Journey, id_number_of
from support.oidc_provider import OidcProviderProcess
from support.uploads import png_with_location, upload

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PLAN, ESTABLISH = "vet_facility_plan_approval", "vet_facility_establishment_licence"
TH, EN = LABELS["th"], LABELS["en"]


@pytest.fixture
def client(settings: Settings, engine: LicensingEngine, oidc_provider: OidcProviderProcess) -> Iterator[TestClient]:
    """The app with the staff provider configured (staff cookies name its issuer)."""
    with TestClient(create_app(settings.model_copy(update={
            "staff_oidc_issuer": oidc_provider.issuer, "staff_oidc_client_id": "bizportal-staff-test",
            "staff_oidc_client_secret": SecretStr("staff-secret")}), engine=engine)) as test_client:
        yield test_client


class Staff:
    """Registers staff in the register and signs one in on the test client (the cookie of a staff sign-in)."""

    def __init__(self, client: TestClient, auth: Auth, issuer: str) -> None:
        self.client, self.admin, self.issuer = client, auth("admin", "root"), issuer

    def sign_in(self, subject: str, role: str, agency: str | None = None, office: str | None = None) -> None:
        added = self.client.post("/api/v1/staff", headers=self.admin, json={
            "issuer": self.issuer, "subject": subject, "role": role, "agency": agency, "office": office})
        assert added.status_code in (201, 409), added.text
        key = self.client.app.state.signing_key  # type: ignore[attr-defined]
        cookie = session_token(key, Principal(subject, Role(role)), staff_issuer=self.issuer)
        self.client.cookies.set(SESSION_COOKIE, cookie)

    def olivia(self) -> None:
        """The Khlong Toei office's officer (the same person as the journey's `officer` bearer token)."""
        self.sign_in("olivia", "agency_officer", "LAO", OFFICE)


@pytest.fixture
def staff(client: TestClient, auth: Auth, oidc_provider: OidcProviderProcess) -> Staff:
    return Staff(client, auth, oidc_provider.issuer)


@pytest.fixture
def origin(client: TestClient) -> dict[str, str]:
    """What a browser sends with the pages' own form posts (the session cookie's CSRF rule)."""
    return {"Origin": client.app.state.public_base_url.rstrip("/")}  # type: ignore[attr-defined]


def _submitted(journey: Journey, **body: Any) -> dict[str, Any]:
    journey.create(**body)
    journey.submit()
    return journey.task("document_check")


def test_the_inbox_lists_the_officers_tasks_with_deadlines_and_filters(
        client: TestClient, staff: Staff, journey: Journey, clock: Any, engine: LicensingEngine) -> None:
    first = _submitted(journey)
    first_number = journey.view()["tracking_number"]
    clock.advance(days=20)
    engine.fire_due_timers_and_notices()  # the first task is overdue by now
    second = _submitted(journey)
    second_number = journey.view()["tracking_number"]
    staff.olivia()
    page = client.get("/inbox")
    assert page.status_code == 200 and TH["inbox_title"] in page.text
    assert page.headers["cache-control"] == "no-store"
    assert 'href="/inbox" aria-current="page"' in page.text  # the navigation's entry
    rows = re.findall(r'<a href="/inbox/([0-9a-f-]+)">', page.text)
    assert rows == [first["id"], second["id"]]  # overdue first
    assert TH["inbox_overdue_tag"] in page.text and "inbox-row-late" in page.text
    assert "สมหญิง ใจดี" in page.text and "ร้านข้าวมันไก่น้ำใจ" in page.text
    assert re.search(TH["inbox_days_left"].replace("%s", r"\d+"), page.text)

    only_late = client.get("/inbox?overdue=1").text
    assert first_number in only_late and second_number not in only_late
    by_number = client.get(f"/inbox?number={second_number.lower()}").text  # its start, any case
    assert second_number in by_number and first_number not in by_number
    assert TH["inbox_empty_filtered"] in client.get("/inbox?licence=liquor_sale_licence").text
    assert TH["inbox_empty_filtered"] in client.get("/inbox?assigned=me").text
    english = client.get("/inbox?lang=en&step=document_check")
    assert EN["inbox_title"] in english.text and second_number in english.text
    assert client.get("/inbox?assigned=everyone").status_code == 422  # a page, not a 500


def test_paging_keeps_the_filters(client: TestClient, staff: Staff, journey: Journey, clock: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "PAGE_SIZE", 1)
    first = _submitted(journey)
    clock.advance(hours=1)
    second = _submitted(journey)
    staff.olivia()
    page = client.get("/inbox?step=document_check").text
    assert f'href="/inbox/{first["id"]}"' in page and f'href="/inbox/{second["id"]}"' not in page
    assert TH["inbox_count"] % (1, 1, 2) in page and 'rel="first"' not in page
    (following,) = re.findall(r'href="(/inbox\?[^"]+)" rel="next"', page)
    following = following.replace("&amp;", "&")
    assert following.startswith("/inbox?step=document_check&cursor=") and following.endswith("&at=2")
    clock.advance(hours=1)
    third = _submitted(journey)  # added meanwhile: it comes after the two, and neither moves
    later = client.get(following).text
    assert f'href="/inbox/{second["id"]}"' in later and TH["inbox_count"] % (2, 2, 3) in later
    assert 'href="/inbox?step=document_check" rel="first"' in later  # back to the first page, filters kept
    (last,) = re.findall(r'href="(/inbox\?[^"]+)" rel="next"', later)
    final = client.get(last.replace("&amp;", "&")).text
    assert f'href="/inbox/{third["id"]}"' in final and 'rel="next"' not in final
    garbled = client.get("/inbox?cursor=not-a-cursor")
    assert garbled.status_code == 400 and "the cursor is damaged" in garbled.text  # the error page, not a 500


def test_an_empty_inbox_says_so(client: TestClient, staff: Staff) -> None:
    staff.olivia()
    page = client.get("/inbox?lang=en")
    assert page.status_code == 200 and EN["inbox_empty"] in page.text and "<table" not in page.text


def test_staff_pages_send_visitors_to_sign_in_and_refuse_other_roles(client: TestClient, staff: Staff) -> None:
    visitor = client.get("/inbox", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"] == "/auth/staff/login?next=%2Finbox"
    key = client.app.state.signing_key  # type: ignore[attr-defined]
    client.cookies.set(SESSION_COOKIE, session_token(key, Principal("alice", Role.APPLICANT, name="Alice")))
    refused = client.get("/inbox")
    assert refused.status_code == 403 and TH["forbidden_title"] in refused.text
    assert 'href="/inbox"' not in refused.text  # no navigation entry for an applicant
    staff.olivia()
    assert client.get("/escalations").status_code == 403  # supervisors only


def test_claim_and_release_from_the_list(client: TestClient, staff: Staff, journey: Journey,
                                         origin: dict[str, str]) -> None:
    task = _submitted(journey)
    staff.olivia()
    claimed = client.post(f"/inbox/{task['id']}/claim", data={"back": "/inbox?step=document_check"},
                          headers=origin, follow_redirects=False)
    assert claimed.status_code == 303
    assert claimed.headers["location"] == "/inbox?step=document_check&done=claimed"
    page = client.get(claimed.headers["location"]).text
    assert TH["inbox_claimed_banner"] in page and f'action="/inbox/{task["id"]}/release"' in page
    assert journey.task("document_check")["assignee"] == "agency_officer:LAO:BKK-KHLONG-TOEI:olivia"
    assert TH["inbox_claimed_by_me"] in client.get("/inbox?assigned=me").text
    away = client.post(f"/inbox/{task['id']}/release", data={"back": "https://evil.example/"}, headers=origin,
                       follow_redirects=False)
    assert away.headers["location"] == "/inbox?done=released"  # only this service's own paths
    assert journey.task("document_check")["assignee"] is None
    # Another officer's claim: releasing it is refused with a page that says whose it is.
    staff.sign_in("oscar", "agency_officer", "LAO", OFFICE)
    client.post(f"/inbox/{task['id']}/claim", headers=origin)
    staff.olivia()
    refused = client.post(f"/inbox/{task['id']}/claim", headers=origin)
    assert refused.status_code == 409 and TH["inbox_claimed_by_other"] % "oscar" in refused.text
    assert client.post(f"/inbox/{task['id']}/claim", headers={"Origin": "https://evil.example"},
                       follow_redirects=False).status_code == 303  # not signed in for a foreign origin
    assert journey.task("document_check")["assignee"].endswith(":oscar")


def test_the_task_page_shows_the_application_and_its_documents_in_the_page(
        client: TestClient, staff: Staff, journey: Journey) -> None:
    journey.create()
    providable = journey.providable_documents("food_premises_notice_small")
    journey.submit()
    task = journey.task("document_check")
    staff.olivia()
    page = client.get(f"/inbox/{task['id']}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "สมหญิง ใจดี" in text and "ร้านข้าวมันไก่น้ำใจ" in text and "99/9 ถนนสุขุมวิท" in text
    assert all(field["label_th"] in text for field in task["form"])
    assert TH["inbox_task_clock"] in text and TH["inbox_task_timeline"] in text
    assert TH["inbox_event_application_submitted"] in text
    frames = re.findall(r'<iframe class="inbox-pdf" src="(/inbox/[^"]+)"', text)
    assert frames, text
    shown = client.get(frames[0])
    assert shown.status_code == 200 and shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]  # the page itself is not framed
    download = re.search(r'<a href="(/api/v1/documents/[^"]+/content)" download>', text)
    assert download and client.get(download.group(1)).headers["content-disposition"].startswith("attachment")
    assert [f'value="{code}"' in text for code in providable] == [True] * len(providable)  # the codes to ask for
    assert 'name="action" value="request_documents"' in text and 'name="fee"' not in text  # no fee set here
    claimed = client.post(f"/inbox/{task['id']}/claim", data={"back": f"/inbox/{task['id']}"},
                          headers={"Origin": client.app.state.public_base_url.rstrip("/")})  # type: ignore[attr-defined]
    assert claimed.status_code == 200 and TH["inbox_claimed_banner"] in claimed.text  # back on the task page
    assert f'action="/inbox/{task["id"]}/release"' in claimed.text
    english = client.get(f"/inbox/{task['id']}?lang=en").text
    assert EN["inbox_decision"] in english and task["form"][0]["label_en"] in english


def test_an_image_document_is_an_img_and_another_applications_document_is_404(
        client: TestClient, staff: Staff, journey: Journey, auth: Auth) -> None:
    journey.create()
    code = journey.providable_documents("food_premises_notice_small")[0]
    assert upload(client, journey.id, code, journey.applicant, content=png_with_location()).status_code == 201
    journey.submit()
    task = journey.task("document_check")
    other = Journey(client, auth("applicant", "bob"), journey.officer, journey.counter)
    other.create(id_number=id_number_of("bob"))
    other.submit()
    other_documents = client.get(f"/api/v1/applications/{other.id}/documents", headers=other.applicant).json()
    foreign = next(d["current"]["id"] for d in other_documents if d["current"])
    staff.olivia()
    text = client.get(f"/inbox/{task['id']}").text
    image = re.search(r'<img class="inbox-image" src="(/inbox/[^"]+)" alt="([^"]+)"', text)
    assert image and client.get(image.group(1)).headers["content-type"] == "image/png"
    missing = client.get(f"/inbox/{task['id']}/documents/{foreign}")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


def test_another_agencys_or_offices_task_is_a_404_page(client: TestClient, staff: Staff, journey: Journey) -> None:
    task = _submitted(journey)
    staff.sign_in("dara", "agency_officer", "DLD")
    assert client.get(f"/inbox/{task['id']}").status_code == 404
    staff.sign_in("bert", "agency_officer", "LAO", "BKK-BANG-RAK")  # the same agency, another office
    page = client.get(f"/inbox/{task['id']}")
    assert page.status_code == 404 and TH["error_404"] in page.text
    assert client.post(f"/inbox/{task['id']}/decision", data={"action": "approve"},
                       headers={"Origin": client.app.state.public_base_url.rstrip("/")}  # type: ignore[attr-defined]
                       ).status_code == 404
    assert client.get("/inbox/no-such-task").status_code == 404


def test_rejecting_without_a_reason_is_refused_beside_the_field(client: TestClient, staff: Staff,
                                                                journey: Journey, origin: dict[str, str]) -> None:
    task = _submitted(journey)
    staff.olivia()
    page = client.post(f"/inbox/{task['id']}/decision", data={"action": "reject", "comment": "  "}, headers=origin)
    assert page.status_code == 400
    assert 'class="error-summary"' in page.text and TH["inbox_error_comment"] in page.text
    assert 'href="#comment"' in page.text and 'aria-invalid="true"' in page.text
    assert 'aria-describedby="comment-hint comment-error"' in page.text
    assert 'value="reject" checked' in page.text  # what was sent is kept
    assert journey.task("document_check")["id"] == task["id"]  # nothing written: still open
    nothing = client.post(f"/inbox/{task['id']}/decision?lang=en", data={}, headers=origin)
    assert nothing.status_code == 400 and EN["inbox_error_action"] in nothing.text
    assert 'href="#action-approve"' in nothing.text


def test_requesting_documents_needs_the_codes_then_returns_to_the_inbox(
        client: TestClient, staff: Staff, journey: Journey, origin: dict[str, str]) -> None:
    task = _submitted(journey)
    code = journey.providable_documents("food_premises_notice_small")[0]
    staff.olivia()
    url = f"/inbox/{task['id']}/decision"
    none = client.post(url, data={"action": "request_documents", "comment": "ภาพถ่ายไม่ชัด"}, headers=origin)
    assert none.status_code == 400 and TH["inbox_error_documents"] in none.text
    assert 'href="#document-0"' in none.text
    wrong = client.post(url, data={"action": "request_documents", "comment": "x", "document": "no_such"},
                        headers=origin)
    assert wrong.status_code == 400 and TH["inbox_error_documents_wrong"] in wrong.text
    done = client.post(url, data={"action": "request_documents", "comment": "ภาพถ่ายไม่ชัด", "document": code},
                       headers=origin, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/inbox?done=decided&app=")
    banner = client.get(done.headers["location"]).text
    assert TH["inbox_decided_banner"] % journey.view()["tracking_number"] in banner
    request = journey.view()["licences"][0]["document_request"]
    assert [d["code"] for d in request["documents"]] == [code] and request["comment"] == "ภาพถ่ายไม่ชัด"


def test_an_assessed_fee_is_asked_for_with_its_bounds(client: TestClient, staff: Staff, journey: Journey,
                                                      auth: Auth, origin: dict[str, str]) -> None:
    dld = auth("agency_officer", "dara", "DLD")
    journey.applicant = auth("applicant", "alice", ial="3", aal="3")  # the establishment licence asks for it
    journey.create(licences=[PLAN, ESTABLISH])
    journey.submit()
    journey.approve_everything(dld, licence=PLAN)
    (check,) = journey.open_tasks(dld)
    journey.approve(check, dld)
    (inspection,) = journey.open_tasks(dld)
    staff.sign_in("dara", "agency_officer", "DLD")
    url = f"/inbox/{inspection['id']}/decision"
    page = client.get(f"/inbox/{inspection['id']}").text
    assert 'id="fee"' in page and TH["inbox_decision_fee_hint"] % ("600 บาท", "2,000 บาท") in page
    low = client.post(url, data={"action": "approve", "fee": "599.99"}, headers=origin)
    assert low.status_code == 400 and TH["inbox_error_fee"] % ("600 บาท", "2,000 บาท") in low.text
    assert 'href="#fee"' in low.text and 'value="599.99"' in low.text
    assert client.post(url, data={"action": "approve", "fee": "2000.01"}, headers=origin).status_code == 400
    assert client.post(url, data={"action": "approve"}, headers=origin).status_code == 400  # the fee is needed
    bad = client.post(url, data={"action": "approve", "fee": "พันห้า"}, headers=origin)
    assert bad.status_code == 400 and TH["inbox_error_fee_number"] in bad.text
    assert journey.open_tasks(dld)[0]["id"] == inspection["id"]  # nothing written
    done = client.post(url, data={"action": "approve", "fee": "1,500"}, headers=origin, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert [i["amount_satang"] for i in journey.view()["invoices"]] == [150_000]


def test_a_task_decided_meanwhile_says_so(client: TestClient, staff: Staff, journey: Journey,
                                          origin: dict[str, str], auth: Auth) -> None:
    task = _submitted(journey)
    staff.olivia()
    first = client.post(f"/inbox/{task['id']}/decision", data={"action": "approve"}, headers=origin,
                        follow_redirects=False)
    assert first.status_code == 303
    again = client.post(f"/inbox/{task['id']}/decision", data={"action": "approve"}, headers=origin,
                        follow_redirects=False)
    assert again.status_code == 303  # the same officer's resend: recorded once, the same answer
    second = journey.task("consideration")
    colleague = auth("agency_officer", "oscar", "LAO", OFFICE)
    assert client.post(f"/api/v1/tasks/{second['id']}/complete", json={"action": "approve"},
                       headers=colleague).status_code == 200
    late = client.post(f"/inbox/{second['id']}/decision", data={"action": "reject", "comment": "x"},
                       headers=origin)
    assert late.status_code == 409 and TH["inbox_done_title"] in late.text
    assert TH["inbox_done_by_other"] % ("oscar", TH["inbox_action_approve"]) in late.text
    opened = client.get(f"/inbox/{second['id']}?lang=en")
    assert opened.status_code == 409 and EN["inbox_done_title"] in opened.text


def test_supervisors_see_escalated_cases_and_overdue_work(client: TestClient, staff: Staff, journey: Journey,
                                                          engine: LicensingEngine, clock: Any) -> None:
    task = _submitted(journey)
    staff.sign_in("suda", "agency_supervisor", "LAO", OFFICE)
    calm = client.get("/escalations")
    assert calm.status_code == 200 and TH["inbox_escalations_empty"] in calm.text
    assert 'href="/escalations" aria-current="page"' in calm.text
    clock.advance(days=60)
    engine.fire_due_timers_and_notices()
    page = client.get("/escalations")
    assert page.status_code == 200 and journey.view()["tracking_number"] in page.text
    assert f'href="/inbox/{task["id"]}"' in page.text and TH["inbox_unclaimed"] in page.text
    english = client.get("/escalations?lang=en").text
    assert EN["inbox_escalations_title"] in english and EN["inbox_overdue_tag"] in english
    # The supervisor opens the task page: no decision form, no claim button (they oversee).
    seen = client.get(f"/inbox/{task['id']}")
    assert seen.status_code == 200 and 'action="/inbox/' not in seen.text
    inbox_page = client.get("/inbox").text
    assert f'href="/inbox/{task["id"]}"' in inbox_page and "/claim" not in inbox_page
