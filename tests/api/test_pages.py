"""The pages for everyone over HTTP (no browser): the layout, the language rule, the finder without JavaScript,
the register, the performance figures, the static files, and pages that send a visitor through sign-in.
The same journeys in a real browser, with the accessibility check and screenshots: test_pages_browser.py."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from bizportal.api.page_labels import LABELS
from bizportal.api.pages.signin import page_for, staff_page
from bizportal.api.sessions import SESSION_COOKIE, session_token
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Principal, Role
from support.helpers import Journey
from support.pages import providers_configured

OfficerPage = Annotated[Principal, Depends(staff_page(Role.AGENCY_OFFICER))]


def _signed_in(client: TestClient, principal: Principal) -> None:
    key = client.app.state.signing_key  # type: ignore[attr-defined]
    client.cookies.set(SESSION_COOKIE, session_token(key, principal))


def test_every_label_exists_in_both_languages() -> None:
    assert set(LABELS["th"]) == set(LABELS["en"])
    assert all(value.strip() for labels in LABELS.values() for value in labels.values())


def test_the_start_page_is_thai_by_default_and_remembers_english(client: TestClient) -> None:
    thai = client.get("/")
    assert thai.status_code == 200 and '<html lang="th">' in thai.text
    assert LABELS["th"]["home_title"] in thai.text and 'href="/finder"' in thai.text
    assert 'class="skip-link" href="#main"' in thai.text and 'id="main"' in thai.text
    assert "bizportal_lang" not in thai.headers.get("set-cookie", "")

    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and LABELS["en"]["home_title"] in english.text
    assert "bizportal_lang=en" in english.headers["set-cookie"] and "HttpOnly" in english.headers["set-cookie"]
    client.cookies.set("bizportal_lang", "en")  # as a browser keeps it (the test client drops Secure cookies)
    # Remembered: the next page without ?lang= is English, the catalogue too.
    assert '<html lang="en">' in client.get("/register").text
    assert '<html lang="en">' in client.get("/licences").text
    back = client.get("/kpis?lang=th")
    assert '<html lang="th">' in back.text and "bizportal_lang=th" in back.headers["set-cookie"]
    assert client.get("/?lang=fr").status_code == 422


def test_the_layout_links_the_stylesheet_and_the_thai_font_with_cache_headers(client: TestClient) -> None:
    page = client.get("/").text
    css_url = re.search(r'href="(/static/pages\.css\?v=[0-9a-f]{12})"', page)
    assert css_url is not None
    css = client.get(css_url.group(1))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "Noto Sans Thai Web" in css.text and "fonts/NotoSansThai-Regular.ttf" in css.text
    assert client.get("/static/pages.css").headers["cache-control"] == "public, max-age=3600"
    font = client.get("/static/fonts/NotoSansThai-Regular.ttf?v=1")
    assert font.status_code == 200 and font.content[:4] == b"\x00\x01\x00\x00"  # a TrueType font
    assert font.headers["cache-control"].startswith("public, max-age=31536000")
    assert client.get("/static/fonts/README.md").status_code == 404  # only the web fonts
    assert client.get("/static/fonts/../../app.py").status_code == 404
    assert client.get("/static/nothing.css").status_code == 404


def _form_query(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of the page's finder form."""
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)


def _answer(client: TestClient, page: str, *answers: tuple[str, str]) -> str:
    response = client.get("/finder", params=[*_form_query(page), *answers])
    assert response.status_code == 200, response.text
    return response.text


def test_the_finder_asks_one_question_per_page_and_answers_with_the_licences(client: TestClient,
                                                                              engine: LicensingEngine) -> None:
    client.cookies.set("bizportal_lang", "en")
    first = client.get("/finder").text
    assert 'name="type" value="restaurant"' in first
    missing = client.get("/finder", params={"chose": "type"})
    assert missing.status_code == 400 and 'class="error-summary"' in missing.text
    first_field = re.search(r'<input type="radio" id="([^"]+)"', missing.text)
    assert first_field is not None and f'href="#{first_field.group(1)}"' in missing.text  # the summary links the field

    page = client.get("/finder", params={"chose": "type", "type": "restaurant"}).text
    assert "Do you sell alcoholic drinks" in page and 'name="at" value="sells_alcohol"' in page
    assert 'href="/finder?was=restaurant"' in page  # back to the business types, restaurant ticked

    no_choice = client.get("/finder", params=[*_form_query(page)])
    assert no_choice.status_code == 400 and 'href="#q_sells_alcohol-yes"' in no_choice.text
    assert LABELS["en"]["finder_error_missing_choice"] in no_choice.text

    page = _answer(client, page, ("q_sells_alcohol", "yes"))
    assert "Do you sell tobacco" in page
    page = _answer(client, page, ("q_sells_tobacco", "no"))
    assert "LPG cooking gas" in page
    wrong = client.get("/finder", params=[*_form_query(page), ("q_lpg_kg", "lots")])
    assert wrong.status_code == 400 and LABELS["en"]["finder_error_number"] in wrong.text
    assert 'value="lots"' in wrong.text  # what was typed stays in the field
    page = _answer(client, page, ("q_lpg_kg", "120"))
    clash = client.get("/finder", params=[*_form_query(page), ("q_entertainment_services", "karaoke"),
                                          ("q_entertainment_services", "none")])
    assert clash.status_code == 400 and str(escape(LABELS["en"]["finder_error_exclusive"])) in clash.text
    page = _answer(client, page, ("q_entertainment_services", "karaoke"))

    # Answer every remaining question with its first choice (or 10), until the result.
    for _ in range(30):
        if "finder_result" in page or LABELS["en"]["finder_result_title"] in page:
            break
        at = re.search(r'name="at" value="([^"]+)"', page)
        assert at is not None, page
        field = "q_" + at.group(1)
        choice = re.search(rf'name="{field}" value="([^"]+)"', page)
        page = _answer(client, page, (field, choice.group(1) if choice else "10"))
    assert LABELS["en"]["finder_result_title"] in page

    expected = engine.finder.find("restaurant", {"sells_alcohol": "yes", "sells_tobacco": "no", "lpg_kg": 120,
                                                 "entertainment_services": ["karaoke"]})
    assert "liquor_sale_licence" in {item.code for item in expected}
    apply = re.search(r'href="(/apply\?[^"]+)"', page)
    assert apply is not None
    query = parse_qs(urlsplit(apply.group(1).replace("&amp;", "&")).query)
    assert query["business_type"] == ["restaurant"]
    found = query["licences"][0].split(",")
    assert {item.code for item in expected} <= set(found)  # the later answers may add licences, never drop these
    for code in found:
        assert f'href="/licences/{code}"' in page
    assert "Karaoke" in page and "120 kg" in page  # the answers, each with a change link
    assert page.count(">Change<") >= 5


def test_an_edited_finder_url_cannot_answer_a_question_that_was_not_asked(client: TestClient) -> None:
    page = client.get("/finder", params={"type": "restaurant", "asked": "sells_tobacco,nonsense",
                                         "q_sells_tobacco": "yes", "q_sells_alcohol": "yes"}).text
    # sells_tobacco was answered; sells_alcohol was not asked (only carried), so it is the question now.
    assert 'name="at" value="sells_alcohol"' in page and 'name="q_sells_tobacco" value="yes"' in page
    assert 'name="q_sells_alcohol"' not in re.sub(r'<input type="radio"[^>]*>', "", page)


def test_the_register_page_searches_the_public_register(journey: Journey, client: TestClient) -> None:
    empty = client.get("/register").text
    assert LABELS["th"]["register_empty"] in empty
    number, _ = journey.issue()
    page = client.get("/register", params={"q": "ข้าวมันไก่"}).text
    assert number in page and "คลองเตย" in page and LABELS["th"]["status_valid"] in page
    assert "1101700203395" not in page and "สมหญิง" not in page  # no personal data
    day = client.get(f"/api/v1/issued-licences/{number}", headers=journey.applicant).json()["issued_on"]
    year, month, date_of_month = (int(part) for part in day.split("-"))
    thai_months = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
    assert f"{date_of_month} {thai_months[month - 1]} {year + 543}" in page  # Thai months, the Buddhist era
    english = client.get("/register", params={"q": number, "lang": "en"}).text
    assert number in english and f" {year}<" in english
    none = client.get("/register", params={"province": "เชียงใหม่"}).text
    assert number not in none and LABELS["th"]["register_none"] in none
    assert client.get("/register", params={"q": "x" * 201}).status_code == 422


def test_the_performance_page_is_public_and_draws_its_charts_without_script(journey: Journey,
                                                                           client: TestClient) -> None:
    assert LABELS["th"]["kpis_none"] in client.get("/kpis").text
    assert client.get("/api/v1/kpis").status_code == 401  # the JSON stays for signed-in callers
    journey.issue()
    page = client.get("/kpis?lang=en").text
    assert 'class="bar-chart"' in page and 'class="bar-fill" style="width: 100%"' in page and "<script" not in page
    assert "100%" in page  # decided on time
    assert 'href="/licences/food_premises_notice_small"' in page


def test_a_page_that_needs_sign_in_sends_the_visitor_to_sign_in_and_back(client: TestClient) -> None:
    providers_configured(client)
    response = client.get("/account?lang=en", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=%2Faccount%3Flang%3Den"

    _signed_in(client, Principal("somchai", Role.APPLICANT, name="Somchai Jaidee", id_number="1101700203450",
                                 ial="2.3", aal="2"))
    page = client.get("/account")
    assert page.status_code == 200 and "Somchai Jaidee" in page.text and "1-1017-xxxxx-xx-0" in page.text
    assert page.headers["cache-control"] == "no-store"  # personal: never cached
    assert LABELS["th"]["role_applicant"] in page.text and 'action="/sign-out"' in page.text
    home = client.get("/").text
    assert "Somchai Jaidee" in home and LABELS["th"]["sign_out"] in home


def test_signing_out_is_a_form_under_the_csrf_rule(client: TestClient) -> None:
    _signed_in(client, Principal("somchai", Role.APPLICANT, name="Somchai Jaidee"))
    assert client.post("/sign-out", headers={"Origin": "https://evil.example"}).status_code == 403
    origin = client.app.state.public_base_url.rstrip("/")  # type: ignore[attr-defined]
    response = client.post("/sign-out", headers={"Origin": origin}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_staff_pages_send_visitors_to_the_staff_sign_in_and_refuse_other_roles(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/test-inbox")
    def inbox(principal: OfficerPage) -> str:  # a stand-in for a later staff page
        return principal.subject

    providers_configured(client)
    response = client.get("/test-inbox?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/staff/login?next=%2Ftest-inbox%3Fpage%3D2"
    _signed_in(client, Principal("alice", Role.APPLICANT, name="Alice"))
    refused = client.get("/test-inbox")
    assert refused.status_code == 403 and LABELS["th"]["forbidden_title"] in refused.text
    assert LABELS["th"]["role_agency_officer"] in refused.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_page_for_citizens_and_staff_lets_the_visitor_choose_the_sign_in(client: TestClient) -> None:
    """A draft is completed by the entrepreneur or by the counter that files for them: a visitor following its
    link chooses which sign-in, and comes back to it either way; with one provider only, straight to it."""
    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/test-draft")
    def draft(principal: Annotated[Principal, Depends(page_for(Role.APPLICANT, Role.COUNTER_OFFICER))]) -> str:
        return principal.subject

    providers_configured(client)
    choice = client.get("/test-draft?lang=en", follow_redirects=False)
    assert choice.status_code == 200 and LABELS["en"]["signin_choice_title"] in choice.text
    assert 'href="/auth/login?next=%2Ftest-draft%3Flang%3Den"' in choice.text
    assert 'href="/auth/staff/login?next=%2Ftest-draft%3Flang%3Den"' in choice.text
    app.state.staff_oidc = None
    only = client.get("/test-draft", follow_redirects=False)
    assert only.status_code == 303 and only.headers["location"] == "/auth/login?next=%2Ftest-draft"


def test_a_page_that_cannot_be_shown_is_a_page_not_a_json_error(client: TestClient) -> None:
    missing = client.get("/licences/no_such_licence?lang=en")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert LABELS["en"]["error_404"] in missing.text and "no_such_licence" in missing.text
    bad = client.get("/finder?lang=fr")
    assert bad.status_code == 422 and LABELS["th"]["error_422"] in bad.text  # in the default language
    assert "bizportal_lang" not in bad.headers.get("set-cookie", "")
    assert client.get("/api/v1/licences/no_such_licence").json()["error"]["code"] == "NotFound"  # the API's JSON
