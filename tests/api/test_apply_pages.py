"""The application journey's pages over HTTP (no browser): start from the finder's or the catalogue's link, the
shared data entered once, the task list, each licence's form, the documents, check your answers and submit, the
confirmation; every refusal as a page (the error summary linking to the field, nothing written), another person's
draft as the 404 page, sign-in and roles. The same journey in a real browser: test_apply_browser.py."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from bizportal.api.page_labels import LABELS
from bizportal.api.sessions import SESSION_COOKIE, session_token
from bizportal.api.settings import Settings
from bizportal.engine.principal import Principal, Role
from support.helpers import COUNTER_CONSENT, Auth, application_body, catalogue
from support.pages import providers_configured
from support.uploads import WINDOWS_EXE, pdf

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FILE_LIMIT = 200_000  # a document's limit here, so a test can pass it

SOMCHAI = Principal("somchai", Role.APPLICANT, name="Somchai Jaidee", id_number="1101700203450", ial="2.3", aal="2")
MALEE = Principal("malee", Role.APPLICANT, name="Malee Rakthai", id_number="3100600123450", ial="2.3", aal="2")
FOOD, LIQUOR = "food_premises_notice_small", "liquor_sale_licence"
COUNTER_ONLY = "clinic_operator_licence"
BUSINESS = {"email": "somchai@example.com", "language": "th", "business.name": "ร้านข้าวมันไก่น้ำใจ",
            "business.address": "99/9 ถนนสุขุมวิท แขวงคลองเตย", "business.province": "กรุงเทพมหานคร",
            "business.district": "คลองเตย", "business.area_m2": "80"}
FOOD_FORM = {"premises_kind": "restaurant", "seats": "20", "workers": "", "opening_hours": ""}
LIQUOR_FORM = {"licence_class": "", "opening_hours": "10:00-22:00", "seats": "", "near_school": "no"}
TH, EN = LABELS["th"], LABELS["en"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_document_bytes": FILE_LIMIT})


def _sign_in(client: TestClient, principal: Principal) -> None:
    client.cookies.set(SESSION_COOKIE, session_token(client.app.state.signing_key, principal))  # type: ignore[attr-defined]


def _post(client: TestClient, path: str, data: dict[str, Any], files: dict[str, Any] | None = None,
          origin: str | None = None) -> Response:
    """A form post from the service's own pages (their Origin passes the session cookie's CSRF rule)."""
    own = client.app.state.public_base_url.rstrip("/")  # type: ignore[attr-defined]
    return client.post(path, data=data, files=files, headers={"Origin": origin or own}, follow_redirects=False)


def _value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, f"no {name} in the page"
    return found.group(1)


def _create(client: TestClient, licences: tuple[str, ...] = (FOOD, LIQUOR), **changes: str) -> str:
    page = client.get("/apply/details", params={"licence": list(licences)}).text
    response = _post(client, "/apply", {"licence": list(licences), **BUSINESS, **changes,
                                        "idempotency_key": _value(page, "idempotency_key")})
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _view(client: TestClient, application_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/applications/{application_id}")  # the API reads the same session cookie
    assert response.status_code == 200, response.text
    return response.json()


def _save_form(client: TestClient, application_id: str, code: str, values: dict[str, str]) -> Response:
    page = client.get(f"/apply/{application_id}/licences/{code}").text
    return _post(client, f"/apply/{application_id}/licences/{code}", {**values, "version": _value(page, "version")})


def _upload(client: TestClient, application_id: str, document: str, content: bytes,
            filename: str = "plan.pdf") -> Response:
    return _post(client, f"/apply/{application_id}/documents", {"document": document},
                 files={"file": (filename, content, "application/pdf")})


def test_the_start_page_needs_sign_in_and_comes_back_to_the_same_address(client: TestClient) -> None:
    providers_configured(client)  # visitors are sent through sign-in
    address = f"/apply?licences={FOOD}%2C{LIQUOR}&business_type=restaurant"
    response = client.get(address, follow_redirects=False)
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/auth/login" and parse_qs(target.query)["next"] == [f"/apply?licences={FOOD}%2C{LIQUOR}"
                                                                               "&business_type=restaurant"]


def test_the_start_page_shows_the_chosen_licences_and_offers_the_catalogue(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    page = client.get("/apply", params={"licences": f"{FOOD},{LIQUOR},{COUNTER_ONLY},no_such_licence",
                                        "business_type": "restaurant"})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    for code in (FOOD, LIQUOR):  # ticked, with agency, fee and time
        assert f'id="licence-{code}" name="licence" value="{code}" checked' in text
    assert f'value="{COUNTER_ONLY}" checked' not in text and "ต้องยื่นด้วยตนเองที่" in text  # where to go instead
    assert 'value="no_such_licence"' not in text
    assert TH["apply_agency"] in text and "วันทำการ" in text and "บาท" in text
    assert TH["apply_for_business"] % "ธุรกิจร้านอาหารและเครื่องดื่ม" in text  # the finder's business type
    assert 'action="/apply/details"' in text and "<details class=\"catalogue\" id=\"catalogue\">" in text

    empty = client.get("/apply?lang=en").text  # nothing chosen: the catalogue by agency, open
    assert '<details class="catalogue" id="catalogue" open>' in empty and "<legend>" in empty
    assert 'id="add-liquor_sale_licence"' in empty and EN["apply_counter_tag"] in empty
    searched = client.get("/apply", params={"q": "liquor", "lang": "en"}).text
    assert 'id="add-liquor_sale_licence"' in searched and f'id="add-{FOOD}"' not in searched
    assert TH["apply_search_none"] in client.get("/apply", params={"q": "zzzz"}).text


def test_a_licence_manual_links_to_apply_or_says_where_to_go(client: TestClient) -> None:
    assert f'href="/apply?licences={FOOD}"' in client.get(f"/licences/{FOOD}").text
    counter = client.get(f"/licences/{COUNTER_ONLY}?lang=en").text
    assert "/apply?licences=" not in counter and "cannot be applied for online" in counter


def test_the_shared_data_page_refuses_bad_input_beside_each_field_and_creates_nothing(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    none = client.get("/apply/details")
    assert none.status_code == 400 and 'href="#catalogue"' in none.text and TH["apply_error_no_licence"] in none.text

    page = client.get("/apply/details", params={"licence": [FOOD]}).text
    assert "1-1017-xxxxx-xx-0" in page and "Somchai Jaidee" in page  # from the sign-in, not a field
    assert 'name="id_number"' not in page
    bad = _post(client, "/apply", {"licence": [FOOD], **BUSINESS, "business.name": "", "business.area_m2": "lots",
                                   "email": "not-an-email", "idempotency_key": _value(page, "idempotency_key")})
    assert bad.status_code == 400
    for field, label in (("f-business-name", "business_error_name"), ("f-business-area-m2", "business_error_area_m2"),
                         ("email", "apply_error_email")):
        assert f'href="#{field}"' in bad.text and f'id="{field}-error"' in bad.text
        assert TH[label] in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert 'aria-describedby="f-business-area-m2-hint f-business-area-m2-error"' in bad.text
    assert 'value="lots"' in bad.text  # what was typed stays
    nowhere = _post(client, "/apply", {"licence": [FOOD], **BUSINESS, "business.province": "Atlantis",
                                       "idempotency_key": _value(page, "idempotency_key")})
    assert nowhere.status_code == 400 and TH["business_error_route"] in nowhere.text
    assert client.get("/api/v1/applications").json() == []


def test_creating_the_draft_is_idempotent_and_opens_its_task_list(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    page = client.get("/apply/details", params={"licence": [FOOD, LIQUOR]}).text
    key = _value(page, "idempotency_key")
    too_large = _post(client, "/apply", {"licence": [FOOD, LIQUOR], **BUSINESS, "business.area_m2": "1,250",
                                         "idempotency_key": key})  # beyond the small food shop's fee bands
    assert too_large.status_code == 400 and 'href="#f-business-area-m2"' in too_large.text
    assert TH["business_error_area_fee"] % catalogue().licence(FOOD).name_th in too_large.text
    form = {"licence": [FOOD, LIQUOR], **BUSINESS, "business.area_m2": "150.5", "idempotency_key": key}
    first, again = _post(client, "/apply", form), _post(client, "/apply", form)  # a double click
    assert first.status_code == again.status_code == 303 and first.headers["location"] == again.headers["location"]
    application_id = first.headers["location"].rsplit("/", 1)[1]
    view = _view(client, application_id)
    assert view["applicant"]["id_number"] == SOMCHAI.id_number and view["applicant"]["name"] == "Somchai Jaidee"
    assert view["business"]["area_m2"] == 150.5 and view["business"]["district"] == "คลองเตย"
    assert len(client.get("/api/v1/applications").json()) == 1
    # Back to the sent form, changed and sent again: the key is the first draft's, so the page says so.
    resent = _post(client, "/apply", {**form, "business.name": "ร้านที่สอง"})
    assert resent.status_code == 409 and TH["apply_error_resent"] in resent.text
    assert _value(resent.text, "idempotency_key") != key
    assert _post(client, "/apply", {**form, "business.name": "ร้านที่สอง",
                                    "idempotency_key": _value(resent.text, "idempotency_key")}).status_code == 303
    assert len(client.get("/api/v1/applications").json()) == 2

    tasks = client.get(f"/apply/{application_id}?lang=en").text
    states = re.findall(r'class="tag task-([a-z_]+)"', tasks)
    assert states == ["done", "not_started", "not_started", "not_started", "cannot_start"]
    assert f'href="/apply/{application_id}/licences/{FOOD}"' in tasks and f"/apply/{application_id}/check" not in tasks
    assert EN["apply_tasks_progress"] % (1, 5) in tasks


def test_a_licence_form_is_typed_and_refuses_values_beside_the_field(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    page = client.get(f"/apply/{application_id}/licences/{LIQUOR}").text
    assert 'type="radio" id="f-near_school" name="near_school" value="yes"' in page  # yes/no in a fieldset
    assert "<legend" in page and 'inputmode="decimal"' in page and TH["unit_seats"] in page

    bad = _save_form(client, application_id, LIQUOR, {**LIQUOR_FORM, "seats": "lots"})
    assert bad.status_code == 400 and 'href="#f-seats"' in bad.text and 'id="f-seats-error"' in bad.text
    assert "กรอกจำนวนที่นั่งเป็นจำนวนเต็มตั้งแต่ 0 ถึง 10,000 ที่นั่ง" in bad.text and 'value="lots"' in bad.text
    half = _save_form(client, application_id, LIQUOR, {**LIQUOR_FORM, "seats": "10.5", "licence_class": "zzz"})
    assert half.status_code == 400 and 'href="#f-seats"' in half.text and 'href="#f-licence_class"' in half.text
    assert _view(client, application_id)["form"] == {}  # nothing written

    saved = _save_form(client, application_id, LIQUOR, {**LIQUOR_FORM, "seats": "1,000"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/apply/{application_id}"
    assert _view(client, application_id)["form"][LIQUOR] == {"opening_hours": "10:00-22:00", "seats": 1000,
                                                             "near_school": False}
    again = client.get(f"/apply/{application_id}/licences/{LIQUOR}").text
    assert 'value="1000"' in again and 'value="no" checked' in again
    states = re.findall(r'class="tag task-([a-z_]+)"', client.get(f"/apply/{application_id}").text)
    assert states[2] == "in_progress"  # licence_class is still missing
    assert client.get(f"/apply/{application_id}/licences/{COUNTER_ONLY}").status_code == 404


def test_a_change_made_meanwhile_is_shown_instead_of_being_overwritten(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    opened = client.get(f"/apply/{application_id}/licences/{FOOD}").text
    assert _save_form(client, application_id, FOOD, FOOD_FORM).status_code == 303  # another tab saves first
    stale = _post(client, f"/apply/{application_id}/licences/{FOOD}",
                  {**FOOD_FORM, "seats": "99", "version": _value(opened, "version")})
    assert stale.status_code == 409 and TH["apply_stale_notice"] in stale.text
    assert 'value="20"' in stale.text and 'value="99"' not in stale.text  # the current values, to save again
    assert _view(client, application_id)["form"][FOOD]["seats"] == 20

    business = client.get(f"/apply/{application_id}/business").text
    assert _save_form(client, application_id, FOOD, {**FOOD_FORM, "seats": "30"}).status_code == 303
    old = _post(client, f"/apply/{application_id}/business", {**BUSINESS, "business.name": "ร้านใหม่",
                                                               "version": _value(business, "version")})
    assert old.status_code == 409 and TH["apply_error_stale"] in old.text
    assert _view(client, application_id)["business"]["name"] == BUSINESS["business.name"]


def test_the_business_page_changes_the_shared_data(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    page = client.get(f"/apply/{application_id}/business?lang=en").text
    assert 'value="ร้านข้าวมันไก่น้ำใจ"' in page and 'value="80"' in page
    bad = _post(client, f"/apply/{application_id}/business", {**BUSINESS, "business.area_m2": "0",
                                                               "version": _value(page, "version")})
    assert bad.status_code == 400 and 'href="#f-business-area-m2"' in bad.text
    done = _post(client, f"/apply/{application_id}/business", {**BUSINESS, "business.area_m2": "95", "language": "en",
                                                                "version": _value(page, "version")})
    assert done.status_code == 303
    view = _view(client, application_id)
    assert view["business"]["area_m2"] == 95 and view["applicant"]["language"] == "en"


def test_documents_upload_with_the_engines_refusals_beside_the_field(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    page = client.get(f"/apply/{application_id}/documents").text
    assert 'id="doc-premises_map_and_floor_plan"' in page and 'id="doc-sale_location_map"' in page
    assert 'enctype="multipart/form-data"' in page and TH["apply_exchanged"] in page
    assert 'id="file-applicant_id_card"' not in page  # the state looks it up: never uploaded
    assert page.count('id="doc-power_of_attorney"') == 1  # asked by both licences: one line

    wrong = _upload(client, application_id, "sale_location_map", WINDOWS_EXE, "scan.pdf")
    assert wrong.status_code == 415 and 'href="#file-sale_location_map"' in wrong.text
    assert TH["apply_error_file_type"] in wrong.text and 'id="file-sale_location_map-error"' in wrong.text
    broken = _upload(client, application_id, "sale_location_map", b"%PDF-1.4\n1 0 obj <<", "broken.pdf")
    assert broken.status_code == 422 and "ใช้ไฟล์นี้ไม่ได้" in broken.text
    too_big = _upload(client, application_id, "sale_location_map", pdf(padding=FILE_LIMIT))
    assert too_big.status_code == 413 and TH["apply_error_too_big"] % "195 KB" in too_big.text
    nothing = _post(client, f"/apply/{application_id}/documents", {"document": "sale_location_map"})
    assert nothing.status_code == 400 and TH["apply_error_no_file"] in nothing.text
    assert client.get(f"/api/v1/applications/{application_id}/documents").json()[0]["current"] is None

    uploaded = _upload(client, application_id, "sale_location_map", pdf(), "map.pdf")
    assert uploaded.status_code == 303
    listed = client.get(f"/apply/{application_id}/documents").text
    upload_id = re.search(r'/api/v1/documents/([0-9a-f-]+)/content', listed)
    assert upload_id is not None and "map.pdf" in listed
    assert client.get(f"/api/v1/documents/{upload_id.group(1)}/content").content.startswith(b"%PDF")
    removed = _post(client, f"/apply/{application_id}/documents/{upload_id.group(1)}/remove", {})
    assert removed.status_code == 303 and "map.pdf" not in client.get(f"/apply/{application_id}/documents").text


def test_check_your_answers_refuses_what_is_missing_then_submits(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    assert _save_form(client, application_id, FOOD, FOOD_FORM).status_code == 303
    assert _save_form(client, application_id, LIQUOR, LIQUOR_FORM).status_code == 303  # licence_class missing
    check = client.get(f"/apply/{application_id}/check?lang=en").text
    assert f'href="/apply/{application_id}/licences/{FOOD}#f-seats"' in check and "20 seats" in check
    assert EN["apply_missing"] in check and EN["apply_fees"] in check and 'scope="row"' in check
    assert EN["apply_total_known"] in check and "500 THB" in check  # the liquor licence's fee is the agency's

    undeclared = _post(client, f"/apply/{application_id}/check", {})
    assert undeclared.status_code == 400 and 'href="#declaration"' in undeclared.text
    missing = _post(client, f"/apply/{application_id}/check", {"declaration": "yes"})
    assert missing.status_code == 400
    assert f'href="/apply/{application_id}/documents#doc-premises_map_and_floor_plan"' in missing.text
    assert _view(client, application_id)["status"] == "draft"
    for document in ("premises_map_and_floor_plan", "sale_location_map"):
        assert _upload(client, application_id, document, pdf()).status_code == 303
    fields = _post(client, f"/apply/{application_id}/check", {"declaration": "yes"})
    assert fields.status_code == 400
    assert f'href="/apply/{application_id}/licences/{LIQUOR}#f-licence_class"' in fields.text

    assert _save_form(client, application_id, LIQUOR, {**LIQUOR_FORM, "licence_class": "class1"}).status_code == 303
    states = re.findall(r'class="tag task-([a-z_]+)"', client.get(f"/apply/{application_id}").text)
    assert states == ["done", "done", "done", "done", "not_started"]
    submitted = _post(client, f"/apply/{application_id}/check", {"declaration": "yes"})
    assert submitted.status_code == 303 and submitted.headers["location"] == f"/apply/{application_id}/done"
    done = client.get(f"/apply/{application_id}/done?lang=en").text
    number = _view(client, application_id)["tracking_number"]
    assert number.startswith("BP-") and number in done and f'href="/applications/{application_id}"' in done
    # Submitted: the task list and the forms lead to the tracking page; a second submit shows the confirmation.
    for path in ("", "/business", f"/licences/{FOOD}", "/documents", "/check"):
        moved = client.get(f"/apply/{application_id}{path}", follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"] == f"/applications/{application_id}"
    assert _post(client, f"/apply/{application_id}/check", {"declaration": "yes"}).headers["location"].endswith("/done")
    late = _post(client, f"/apply/{application_id}/business", {**BUSINESS, "version": ""})
    assert late.status_code == 303 and late.headers["location"] == f"/applications/{application_id}"


def test_another_persons_draft_is_the_404_page_and_nothing_changes(client: TestClient) -> None:
    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    _sign_in(client, MALEE)
    for path in ("", "/business", f"/licences/{FOOD}", "/documents", "/check", "/done"):
        page = client.get(f"/apply/{application_id}{path}")
        assert page.status_code == 404 and '<html lang="th">' in page.text and TH["error_404"] in page.text
    assert _post(client, f"/apply/{application_id}/business", {**BUSINESS, "version": ""}).status_code == 404
    assert _post(client, f"/apply/{application_id}/licences/{FOOD}", FOOD_FORM).status_code == 404
    assert _upload(client, application_id, "premises_map_and_floor_plan", pdf()).status_code == 404
    assert _post(client, f"/apply/{application_id}/check", {"declaration": "yes"}).status_code == 404
    _sign_in(client, SOMCHAI)
    assert _view(client, application_id)["form"] == {} and _view(client, application_id)["status"] == "draft"


def test_roles_sign_in_and_the_csrf_rule(client: TestClient, auth: Auth) -> None:
    providers_configured(client)  # visitors are sent through sign-in
    _sign_in(client, Principal("olivia", Role.AGENCY_OFFICER, agency="LAO"))
    assert client.get("/apply").status_code == 403  # whose page it is, as a page
    assert client.get("/apply/some-id").status_code == 403
    client.cookies.clear()
    visitor = client.get("/apply/some-id/documents", follow_redirects=False)  # the entrepreneur's or the counter's
    assert visitor.status_code == 200 and TH["signin_choice_title"] in visitor.text
    assert 'href="/auth/staff/login?next=%2Fapply%2Fsome-id%2Fdocuments"' in visitor.text

    _sign_in(client, SOMCHAI)
    application_id = _create(client)
    foreign = _post(client, f"/apply/{application_id}/business", {**BUSINESS, "business.name": "Evil", "version": ""},
                    origin="https://evil.example")
    assert foreign.status_code in (200, 303, 403)  # to sign-in (a page offering it), or refused: nothing changes
    assert _view(client, application_id)["business"]["name"] == BUSINESS["business.name"]


def test_a_counter_officer_continues_a_draft_filed_with_consent_on_the_same_pages(client: TestClient,
                                                                                 auth: Auth) -> None:
    body = application_body([FOOD], id_number=str(SOMCHAI.id_number), consent=COUNTER_CONSENT, form={})
    created = client.post("/api/v1/applications", json=body, headers=auth("counter_officer", "carl"))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    _sign_in(client, Principal("carl", Role.COUNTER_OFFICER))
    tasks = client.get(f"/apply/{application_id}")
    assert tasks.status_code == 200 and TH["apply_filed_at_counter"] in tasks.text
    assert _save_form(client, application_id, FOOD, FOOD_FORM).status_code == 303
    assert _view(client, application_id)["form"][FOOD]["premises_kind"] == "restaurant"
    assert client.get("/apply").status_code == 403  # a new application is the counter's own page's to start


def test_a_sign_in_below_the_licences_level_is_told_at_submit(client: TestClient) -> None:
    _sign_in(client, Principal("malee", Role.APPLICANT, name="Malee Rakthai", id_number=MALEE.id_number, ial="1.1",
                               aal="1"))
    application_id = _create(client, (FOOD,))
    refused = _post(client, f"/apply/{application_id}/check", {"declaration": "yes"})
    assert refused.status_code == 400 and TH["apply_error_assurance"] in refused.text
    assert _view(client, application_id)["status"] == "draft"
