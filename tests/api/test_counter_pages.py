"""The counter officer's pages over HTTP (no browser): find the entrepreneur by ID number (the check digit, the
registry's answers), file on their behalf with the consent (each refusal re-rendered on its field, nothing
written), take cash and print the receipt, and what the office filed. The journey in a real browser:
test_counter_browser.py; the same journey over the JSON API: test_counter_filing.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.page_labels import LABELS
from bizportal.api.sessions import SESSION_COOKIE, session_token
from bizportal.api.settings import Settings
from bizportal.api.stack.ports import free_port
from bizportal.engine.errors import Forbidden
from bizportal.engine.principal import SYSTEM, Principal, Role
from bizportal.engine.staff import register
from bizportal.engine.staff.register import StaffInput, StaffRole, staff_principal
from bizportal.storage.database import transaction
from support.fake_registry import API_KEY, PERSON, UNREGISTERED_PERSON, start_registry_server
from support.helpers import (
    ALICE_ID,
    COUNTER_CONSENT,
    LICENCE,
    OFFICE,
    VALID_IDS,
    Auth,
    Journey,
    application_body,
    catalogue,
    sample_form,
)
from support.uploads import upload_required

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the rules are the engine's

STAFF_ISSUER = "https://staff.bizportal.test"  # a staff provider the cookie names; never asked (no sign-in here)
CARL = Principal("carl", Role.COUNTER_OFFICER, office=OFFICE, name="Carl Boonmee")
BILL = Principal("bill", Role.COUNTER_OFFICER, office="BKK-BANG-RAK", name="Bill")  # another office's counter
EN, TH = LABELS["en"], LABELS["th"]
ORIGIN = {"Origin": "https://bizportal.test"}  # the settings' public base URL: the pages' own forms
BUSINESS = {"business.name": "ร้านข้าวมันไก่น้ำใจ", "business.address": "99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย",
            "business.province": "กรุงเทพมหานคร", "business.district": "คลองเตย", "business.area_m2": "80"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"staff_oidc_issuer": STAFF_ISSUER, "staff_oidc_client_id": "pages-staff"})


def _sign_in(client: TestClient, principal: Principal = CARL) -> None:
    """A session cookie as the staff sign-in sets it; staff are read from the register on every page (office and
    role come from there), so a counter officer is registered first."""
    app: Any = client.app
    if principal.role == Role.COUNTER_OFFICER:
        with transaction(app.state.engine.db) as session:
            if staff_principal_or_none(session, principal) is None:
                register.add(app.state.engine.ctx, session, SYSTEM, StaffInput(
                    issuer=STAFF_ISSUER, subject=principal.subject, role=StaffRole.COUNTER_OFFICER,
                    office=principal.office, name=principal.name))
        token = session_token(app.state.signing_key, principal, staff_issuer=STAFF_ISSUER)
    else:
        token = session_token(app.state.signing_key, principal)
    client.cookies.set(SESSION_COOKIE, token)


def staff_principal_or_none(session: Any, principal: Principal) -> Principal | None:
    try:
        return staff_principal(session, STAFF_ISSUER, principal.subject, principal.name)
    except Forbidden:
        return None


def _filing(**changes: Any) -> dict[str, Any]:
    """The filing form as an officer sends it: Alice in person, the sample licence and business."""
    form: dict[str, Any] = {"licences": ["food_premises_notice_small"], "idempotency_key": "key-1",
                            "consent.method": "identity_checked_in_person", "consent.valid_until": "2027-06-30",
                            "applicant.name": "สมหญิง ใจดี", "applicant.email": "", "applicant.language": "th",
                            **BUSINESS}
    form.update(changes)
    return form


def _file(client: TestClient, id_number: str = ALICE_ID, **changes: Any) -> Any:
    return client.post(f"/counter/entrepreneurs/{id_number}/file?lang=en", data=_filing(**changes), headers=ORIGIN,
                       follow_redirects=False)


def _nothing_filed(client: TestClient, auth: Auth) -> bool:
    return client.get("/api/v1/applications", headers=auth("admin", "root")).json() == []


def test_only_a_counter_officer_opens_the_counter(client: TestClient) -> None:
    visitor = client.get("/counter", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"] == "/auth/staff/login?next=%2Fcounter"
    _sign_in(client, Principal("alice", Role.APPLICANT, id_number=ALICE_ID, name="Alice"))
    for path in ("/counter", "/counter/payments", "/counter/filed", f"/counter/entrepreneurs/{ALICE_ID}/file"):
        refused = client.get(path)
        assert refused.status_code == 403 and TH["forbidden_title"] in refused.text
        assert TH["role_counter_officer"] in refused.text
    assert 'href="/counter"' not in client.get("/").text  # no counter entry in an applicant's navigation
    _sign_in(client)
    page = client.get("/counter")
    assert page.status_code == 200 and TH["counter_find_title"] in page.text
    assert 'href="/counter" aria-current="page"' in page.text  # the navigation's entry
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("typed", "label"), [
    ("12345", "counter_error_digits"), ("๑๑๐๑๗๐๐๒๐๓๓๙๕", "counter_error_digits"),
    ("1101700203394", "counter_error_check_digit"), ("9000000000004", "counter_error_not_thai"),
])
def test_a_wrong_id_number_is_told_on_its_field(client: TestClient, typed: str, label: str) -> None:
    _sign_in(client)
    page = client.get("/counter", params={"id_number": typed, "lang": "en"})
    assert page.status_code == 400 and 'class="error-summary"' in page.text
    assert str(escape(EN[label])) in page.text and 'href="#id_number"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert 'aria-describedby="id_number-lead id_number-hint id_number-error"' in page.text
    assert f'value="{escape(typed)}"' in page.text  # what was typed stays
    path = client.get("/counter/entrepreneurs/1101700203394?lang=en")  # an edited address: the same answer
    assert path.status_code == 400 and EN["counter_error_check_digit"] in path.text
    assert client.get("/counter/entrepreneurs/12345").status_code == 422


def test_a_valid_number_leads_to_the_entrepreneur_without_a_registry(client: TestClient) -> None:
    _sign_in(client)
    found = client.get("/counter", params={"id_number": "1-1017-00203-39-5"}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/counter/entrepreneurs/{ALICE_ID}"
    for lang in ("th", "en"):
        page = client.get(f"/counter/entrepreneurs/{ALICE_ID}?lang={lang}")
        assert page.status_code == 200 and "1-1017-xxxxx-xx-5" in page.text and ALICE_ID not in page.text.replace(
            f"/counter/entrepreneurs/{ALICE_ID}", "")  # the number itself only in the links
        assert LABELS[lang]["counter_no_registry"] in page.text
        assert LABELS[lang]["counter_consents_none"] in page.text
        assert f'href="/counter/entrepreneurs/{ALICE_ID}/file"' in page.text
    company = client.get(f"/counter/entrepreneurs/{VALID_IDS[2]}?lang=en").text
    assert EN["counter_kind_juristic"] in company


@pytest.fixture
def registry_url() -> Iterator[str]:
    base_url, stop = start_registry_server()
    yield base_url
    stop()


def _with_registry(settings: Settings, clock: object, url: str) -> TestClient:
    configured = settings.model_copy(update={"registry_url": url, "registry_api_key": SecretStr(API_KEY)})
    return TestClient(create_app(configured, engine=engine_from(configured, clock=clock)))  # type: ignore[arg-type]


def test_the_registry_names_the_entrepreneur_or_says_why_not(settings: Settings, clock: object,
                                                             registry_url: str) -> None:
    with _with_registry(settings, clock, registry_url) as client:
        _sign_in(client)
        page = client.get(f"/counter/entrepreneurs/{PERSON}?lang=en")
        assert page.status_code == 200 and "สมหญิง ใจดี" in page.text and "99/1 ถนนสุขุมวิท" in page.text
        assert EN["counter_lookup_note"] in page.text
        unknown = client.get(f"/counter/entrepreneurs/{UNREGISTERED_PERSON}?lang=en")
        assert unknown.status_code == 404 and str(escape(EN["counter_error_unknown"])) in unknown.text
        assert 'class="error-summary"' in unknown.text
        refused = _file(client, UNREGISTERED_PERSON)  # the engine looks the applicant up again when filing
        assert refused.status_code == 422 and 'href="#f-applicant-id-number"' in refused.text
        assert EN["counter_err_applicant_id_number"] in refused.text
    with _with_registry(settings, clock, f"http://127.0.0.1:{free_port()}") as down:
        _sign_in(down)
        answer = down.get(f"/counter/entrepreneurs/{PERSON}?lang=en")
        assert answer.status_code == 503 and EN["counter_error_registry_down"] in answer.text
        unfiled = _file(down, PERSON)
        assert unfiled.status_code == 503 and 'href="#f-applicant-id-number"' in unfiled.text
        assert EN["counter_err_registry"] in unfiled.text


def test_the_filing_form_shows_the_catalogue_and_ticks_licences_from_the_address(client: TestClient) -> None:
    _sign_in(client)
    page = client.get(f"/counter/entrepreneurs/{ALICE_ID}/file?lang=en&licences=food_premises_notice_small,nope")
    assert page.status_code == 200 and EN["counter_file_title"] in page.text
    assert re.search(r'value="food_premises_notice_small" checked', page.text)
    assert page.text.count('name="licences"') > 20  # the catalogue's licences
    assert 'value="2027-05-30"' in page.text  # the consent proposed for 180 days from the engine's today
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', page.text)
    narrowed = client.get(f"/counter/entrepreneurs/{ALICE_ID}/file",
                          params={"lang": "en", "q": "liquor", "licences": "food_premises_notice_small"})
    boxes = re.findall(r'name="licences" value="([^"]+)"', narrowed.text)
    assert "food_premises_notice_small" in boxes and any("liquor" in code for code in boxes) and len(boxes) < 10
    nothing = client.get(f"/counter/entrepreneurs/{ALICE_ID}/file?q=zzzz&lang=en")
    assert EN["counter_licences_none_found"] in nothing.text


@pytest.mark.parametrize(("changes", "field", "status"), [
    ({"licences": []}, "licences", 422),
    ({"applicant.name": ""}, "applicant-name", 422),
    ({"applicant.email": "not-an-address"}, "applicant-email", 422),
    ({"business.area_m2": "lots"}, "business-area-m2", 422),
    ({"consent.method": ""}, "method-identity_checked_in_person", 422),
    ({"consent.valid_until": "2026-11-30"}, "consent-valid-until", 422),  # engine: before today
    ({"consent.method": "signed_authorisation"}, "consent-given-by-id-number", 422),  # who brought it?
    ({"licences": ["no_such_licence"]}, "licences", 422),
])
def test_a_filing_refused_is_re_rendered_on_its_field_and_writes_nothing(
        client: TestClient, auth: Auth, changes: dict[str, Any], field: str, status: int) -> None:
    _sign_in(client)
    refused = _file(client, **changes)
    assert refused.status_code == status, refused.text[:500]
    assert 'class="error-summary"' in refused.text
    link = f'href="#f-{field}' if not field.startswith("method-") else f'href="#{field}"'
    assert link in refused.text
    assert 'value="ร้านข้าวมันไก่น้ำใจ"' in refused.text  # what was typed stays
    assert _nothing_filed(client, auth)


def test_the_business_is_refused_in_the_apply_pages_words(client: TestClient, auth: Auth) -> None:
    """The business's fields are the apply pages' (api/pages/business_form.py): the same messages, the engine's
    words under them, and an area written as people write it."""
    _sign_in(client)
    food = catalogue().licence(LICENCE).name_en
    too_large = _file(client, **{"business.area_m2": "1,250"})  # beyond the small food shop's fee bands
    assert too_large.status_code == 422 and 'href="#f-business-area-m2"' in too_large.text
    assert str(escape(EN["business_error_area_fee"] % food)) in too_large.text
    nowhere = _file(client, **{"business.province": "Atlantis"})
    assert nowhere.status_code == 422 and 'href="#f-business-province"' in nowhere.text
    assert EN["business_error_route"] in nowhere.text
    assert 'aria-describedby="f-business-province-hint f-business-province-error"' in nowhere.text
    assert _nothing_filed(client, auth)


def test_a_company_is_filed_through_the_person_who_acts_for_it(client: TestClient, auth: Auth) -> None:
    _sign_in(client)
    company, name = VALID_IDS[2], {"applicant.name": "บริษัท ตัวอย่าง จำกัด"}
    somying = {"consent.given_by_id_number": ALICE_ID, "consent.given_by_name": "สมหญิง ใจดี"}
    form = client.get(f"/counter/entrepreneurs/{company}/file?lang=en").text
    assert str(escape(EN["counter_letter_checked"])) in form and 'name="representative.valid_until"' in form
    nameless = _file(client, company, **name)
    assert nameless.status_code == 422 and 'href="#f-consent-given-by-id-number"' in nameless.text
    unknown = _file(client, company, **name, **somying)  # no registry lists her, and no letter was checked
    assert unknown.status_code == 403 and 'href="#f-consent-given-by-id-number"' in unknown.text
    assert "not represent the juristic person 0-1055-xxxxx-xx-3" in unknown.text  # the engine's words, beside it
    undated = _file(client, company, **name, **somying, **{"representative.letter_checked": "yes"})
    assert undated.status_code == 422 and 'href="#f-representative-valid-until"' in undated.text
    too_far = _file(client, company, **name, **somying, **{"representative.letter_checked": "yes",
                                                            "representative.valid_until": "2031-01-01"})
    assert too_far.status_code == 422 and 'href="#f-representative-valid-until"' in too_far.text
    assert _nothing_filed(client, auth)
    assert client.get(f"/api/v1/companies/{company}/representatives", headers=auth("admin", "root")).json() == []

    filed = _file(client, company, **name, **somying, **{"representative.letter_checked": "yes",
                                                          "representative.valid_until": "2027-12-31"})
    assert filed.status_code == 303 and filed.headers["location"].startswith("/apply/")
    (letter,) = client.get(f"/api/v1/companies/{company}/representatives", headers=auth("admin", "root")).json()
    assert (letter["basis"], letter["name"]) == ("verified_at_counter", "สมหญิง ใจดี")
    (consent,) = client.get("/api/v1/consents", headers=auth("applicant", "alice")).json()  # she acts for it
    assert consent["given_by_name"] == "สมหญิง ใจดี"


def test_filing_creates_the_draft_once_and_continues_at_apply(client: TestClient, auth: Auth) -> None:
    _sign_in(client)
    created = _file(client)
    assert created.status_code == 303, created.text[:500]
    target = created.headers["location"]
    assert re.fullmatch(r"/apply/[0-9a-f-]{36}", target)
    application = target.removeprefix("/apply/")
    again = _file(client)  # a double click, a resend: the same draft
    assert again.status_code == 303 and again.headers["location"] == target
    (mine,) = client.get("/api/v1/applications", headers=auth("applicant", "alice")).json()
    assert mine["id"] == application
    (consent,) = client.get("/api/v1/consents", headers=auth("applicant", "alice")).json()
    assert (consent["method"], consent["office"]) == ("identity_checked_in_person", OFFICE)

    page = client.get(f"/counter/entrepreneurs/{ALICE_ID}?lang=en")
    assert "สมหญิง ใจดี</h1>" in page.text  # no registry: the name the office filed under
    assert f'href="/apply/{application}"' in page.text and EN["counter_consent_in_force"] in page.text
    assert EN["counter_status_draft"] in page.text
    _sign_in(client, BILL)  # another office holds nothing of hers
    assert EN["counter_consents_none"] in client.get(f"/counter/entrepreneurs/{ALICE_ID}?lang=en").text
    assert EN["counter_filed_none"] in client.get("/counter/filed?lang=en").text


def test_a_post_from_another_site_files_nothing(client: TestClient, auth: Auth) -> None:
    _sign_in(client)
    response = client.post(f"/counter/entrepreneurs/{ALICE_ID}/file", data=_filing(),
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/staff/login")
    assert _nothing_filed(client, auth)


def _filed_to_payment(client: TestClient, auth: Auth, journey: Journey) -> str:
    """File for Alice at the counter, submit and approve with the API: her invoice is due."""
    _sign_in(client)
    journey.id = _file(client).headers["location"].removeprefix("/apply/")
    counter = auth("counter_officer", "carl", office=OFFICE)
    assert client.patch(f"/api/v1/applications/{journey.id}", json={"form": sample_form([LICENCE])},
                        headers=counter).status_code == 200  # the /apply pages' part
    upload_required(client, journey.id, counter)
    assert client.post(f"/api/v1/applications/{journey.id}/submit", headers=counter).status_code == 200
    view = journey.approve_until_payment(journey.officer)
    (invoice,) = view["invoices"]
    return str(invoice["id"])


def test_the_cash_desk_takes_cash_once_and_prints_the_receipt(client: TestClient, auth: Auth,
                                                              journey: Journey) -> None:
    invoice = _filed_to_payment(client, auth, journey)
    desk = client.get("/counter/payments?lang=en")
    assert desk.status_code == 200 and f'action="/counter/payments/{invoice}"' in desk.text
    amount = re.search(r'name="amount_satang" value="(\d+)"', desk.text)
    assert amount is not None
    unconfirmed = client.post(f"/counter/payments/{invoice}?lang=en", data={"amount_satang": amount.group(1)},
                              headers=ORIGIN)
    assert unconfirmed.status_code == 400 and f'href="#confirm-{invoice}"' in unconfirmed.text
    assert journey.view()["invoices"][0]["status"] == "open"
    paid = client.post(f"/counter/payments/{invoice}?lang=en", headers=ORIGIN, follow_redirects=False,
                       data={"amount_satang": amount.group(1), "received": "yes"})
    assert paid.status_code == 303 and paid.headers["location"] == f"/counter/payments/{invoice}/receipt"
    receipt = client.get(paid.headers["location"] + "?lang=en")
    number = re.search(r'href="/api/v1/receipts/(BP-R-\d+-\d+)/pdf"', receipt.text)
    assert receipt.status_code == 200 and number is not None
    assert client.get(f"/api/v1/receipts/{number.group(1)}/pdf").content.startswith(b"%PDF")  # the cookie reads it
    assert EN["counter_receipt_preparing"] not in receipt.text and 'http-equiv="refresh"' not in receipt.text
    assert EN["counter_payments_none"] in client.get("/counter/payments?lang=en").text

    twice = client.post(f"/counter/payments/{invoice}?lang=en", headers=ORIGIN,
                        data={"amount_satang": amount.group(1), "received": "yes"})
    assert twice.status_code == 409 and str(escape(EN["counter_cash_error_closed"])) in twice.text
    assert "is paid" in twice.text  # the engine's message

    _sign_in(client, BILL)
    other = client.get(f"/counter/payments/{invoice}/receipt?lang=en")
    assert other.status_code == 404 and EN["error_404"] in other.text  # another office's payment
    assert client.get("/counter/payments/not-an-invoice/receipt").status_code == 422


def test_the_receipt_says_it_is_being_prepared_until_the_worker_made_it(client: TestClient, auth: Auth,
                                                                        journey: Journey) -> None:
    invoice = _filed_to_payment(client, auth, journey)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    engine.dispatch = lambda: 0  # the worker has not run yet
    paid = client.post(f"/counter/payments/{invoice}?lang=th", headers=ORIGIN, follow_redirects=False,
                       data={"amount_satang": str(journey.view()["invoices"][0]["amount_satang"]), "received": "yes"})
    assert paid.status_code == 303
    waiting = client.get(paid.headers["location"])
    assert waiting.status_code == 200 and TH["counter_receipt_preparing"] in waiting.text
    assert '<meta http-equiv="refresh" content="3">' in waiting.text and "/api/v1/receipts/" not in waiting.text


def test_the_office_sees_what_it_filed_and_loses_sight_when_consent_is_withdrawn(
        client: TestClient, auth: Auth, journey: Journey) -> None:
    _filed_to_payment(client, auth, journey)
    filed = client.get("/counter/filed?lang=en")
    tracking = journey.view()["tracking_number"]
    assert filed.status_code == 200 and f'href="/applications/{journey.id}"' in filed.text and tracking in filed.text
    assert EN["counter_status_awaiting_payment"] in filed.text and EN["counter_consent_in_force"] in filed.text
    (consent,) = client.get("/api/v1/consents", headers=journey.applicant).json()
    assert client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=journey.applicant).status_code == 200
    after = client.get("/counter/filed?lang=en")
    assert EN["counter_consent_withdrawn"] in after.text and EN["counter_not_reachable"] in after.text
    assert journey.id not in after.text and tracking not in after.text
    assert EN["counter_payments_none"] in client.get("/counter/payments?lang=en").text
    assert 'rel="next"' not in after.text and client.get("/counter/filed?page=2").status_code == 200


def test_what_the_office_filed_is_paged_newest_first(client: TestClient, auth: Auth, clock: Any) -> None:
    carl = auth("counter_officer", "carl", office=OFFICE)
    for number in range(21):
        body = application_body(consent=COUNTER_CONSENT)
        body["business"]["name"] = f"ร้านที่ {number}"  # type: ignore[index]
        assert client.post("/api/v1/applications", json=body, headers=carl).status_code == 201
        clock.advance(minutes=1)
    _sign_in(client)
    first = client.get("/counter/filed?lang=en")
    assert first.text.count('<tr>') == 21  # the header row and 20 filings
    assert "ร้านที่ 20<" in first.text and "ร้านที่ 0<" not in first.text
    assert 'href="/counter/filed?page=2"' in first.text
    second = client.get("/counter/filed?page=2&lang=en")
    assert "ร้านที่ 0<" in second.text and 'href="/counter/filed?page=1"' in second.text
    assert 'rel="next"' not in second.text
