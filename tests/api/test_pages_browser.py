"""The pages for everyone in a real browser (headless Debian chromium through Playwright, tests/support/browser.py):
every page in Thai and English at a phone's and a desk's width passes axe-core (no serious or critical
violation) and leaves a screenshot in var/screenshots/; the finder journey with JavaScript off reaches the
licences and the apply link; the register search; the language switch; a page that needs sign-in goes through
the development OpenID provider and back.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from bizportal.api.page_labels import LABELS
from bizportal.api.pages.finder_flow import FinderState
from support.browser import (
    DESK,
    PHONE,
    SCREENSHOTS,
    assert_accessible,
    chromium_path,
    new_page,
    no_horizontal_overflow,
    screenshot,
)
from support.helpers import Journey, qr_link
from support.oidc_provider import SOMCHAI

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]




def _answered(business_type: str, journey: Journey) -> str:
    """The finder's address once every question of `business_type` is answered (the first choice, none ticked,
    or 120)."""
    app = journey.client.app
    state = FinderState(app.state.finder.business_type(business_type))  # type: ignore[attr-defined]
    while (question := state.next_question()) is not None:
        state.asked.append(question.id)
        state.answers[question.id] = (question.choices[0].id if question.type == "single"
                                      else [] if question.type == "multi" else 120.0)
    return state.url()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_every_public_page_in_both_languages_and_widths_passes_axe(browser: Browser, served: str,
                                                                   journey: Journey) -> None:
    number, pdf = journey.issue()  # a licence in the register, figures on /kpis, a verification link
    pages = {
        "home": "/", "finder-type": "/finder", "finder-question": "/finder?type=restaurant",
        "finder-error": "/finder?type=restaurant&at=sells_alcohol",
        "finder-number": "/finder?type=restaurant&asked=sells_alcohol,sells_tobacco&q_sells_alcohol=yes"
                         "&q_sells_tobacco=no",
        "finder-result": _answered("restaurant", journey),
        "licences": "/licences", "licence-manual": "/licences/food_premises_notice_small",
        "register": "/register?q=" + number, "kpis": "/kpis", "verify": _path(qr_link(pdf)),
        "not-found": "/licences/no_such_licence",
    }
    minor: list[str] = []
    for width_name, viewport in (("phone", PHONE), ("desk", DESK)):
        page = new_page(browser, viewport)
        for lang in ("th", "en"):
            for name, path in pages.items():
                response = page.goto(served + path + ("&" if "?" in path else "?") + f"lang={lang}")
                assert response is not None and response.status in (200, 400, 404), (path, response)
                assert page.locator("html").get_attribute("lang") == lang
                screenshot(page, f"{name}-{lang}-{width_name}")
                minor += [f"{name}-{lang}-{width_name}: {v['impact']} {v['id']} ({len(v['nodes'])})"
                          for v in assert_accessible(page)]
                assert no_horizontal_overflow(page), f"{path} overflows a {width_name}'s width"
        page.context.close()
    # The moderate and minor findings, for people to read beside the screenshots.
    (SCREENSHOTS / "axe-minor.txt").write_text("\n".join(minor) + "\n", encoding="utf-8")


def _choose_first_answer(page: Page) -> None:
    """Answer the question on the page: the first choice, or 10 in a number field."""
    number = page.locator("input.input[type=text]")
    if number.count():
        number.fill("10")
    else:
        page.locator("input[type=radio], input[type=checkbox]").first.check()
    page.get_by_role("button", name=LABELS["en"]["continue"]).click()


def test_the_finder_journey_works_without_javascript(browser: Browser, served: str) -> None:
    page = new_page(browser, PHONE, javascript=False)
    page.goto(f"{served}/finder?lang=en")
    page.get_by_role("button", name="Continue").click()  # nothing chosen: the error summary
    summary = page.locator(".error-summary")
    assert summary.is_visible() and LABELS["en"]["finder_error_type"] in summary.inner_text()
    first_field = page.locator("input[name=type]").first.get_attribute("id")
    assert summary.locator("a").get_attribute("href") == f"#{first_field}"
    page.get_by_label("Restaurant and beverage business").check()
    page.get_by_role("button", name="Continue").click()
    assert "Do you sell alcoholic drinks" in page.locator("h1").inner_text()
    page.get_by_label("Yes, my shop sells alcoholic drinks").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Back").click()  # back: the answer is still ticked
    assert page.get_by_label("Yes, my shop sells alcoholic drinks").is_checked()
    page.get_by_role("button", name="Continue").click()
    for _ in range(30):
        if page.locator("h1").inner_text() == LABELS["en"]["finder_result_title"]:
            break
        _choose_first_answer(page)
    assert page.locator("h1").inner_text() == LABELS["en"]["finder_result_title"]
    screenshot(page, "journey-finder-result-nojs")
    apply = page.get_by_role("button", name="Apply for these licences")
    href = apply.get_attribute("href") or ""
    assert href.startswith("/apply?licences=") and "liquor_sale_licence" in href and "business_type=restaurant" in href
    assert page.locator(".licence-result").count() == len(href.split("licences=")[1].split("&")[0].split("%2C"))
    page.context.close()


def test_the_register_search_and_the_language_switch(browser: Browser, served: str, journey: Journey) -> None:
    number, _ = journey.issue()
    page = new_page(browser, DESK)
    page.goto(f"{served}/")
    assert page.locator("html").get_attribute("lang") == "th"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Public register").click()
    assert page.locator("html").get_attribute("lang") == "en"  # remembered in the cookie
    assert any(c["name"] == "bizportal_lang" and c["value"] == "en" for c in page.context.cookies())
    page.get_by_label("Business name or licence number").fill("ข้าวมันไก่")
    page.get_by_role("button", name="Search").click()
    assert number in page.locator("table").inner_text()
    page.get_by_label("Province").fill("เชียงใหม่")
    page.get_by_role("button", name="Search").click()
    assert LABELS["en"]["register_none"] in page.locator("main").inner_text()
    page.get_by_role("link", name="ไทย").click()
    assert page.locator("html").get_attribute("lang") == "th"
    assert page.get_by_label(LABELS["th"]["register_province"]).input_value() == "เชียงใหม่"  # the search kept
    page.context.close()


def test_a_page_that_needs_sign_in_goes_through_the_provider_and_back(browser: Browser, served: str) -> None:
    page = new_page(browser, PHONE)
    page.goto(f"{served}/account?lang=en")
    assert "oauth2/authorize" in page.url  # sent to the provider's sign-in page
    page.click(f"button[name=sub][value={SOMCHAI['sub']}]")
    page.wait_for_url(f"{served}/account?lang=en")
    assert "Somchai Jaidee" in page.locator("main").inner_text()
    assert "1-1017-xxxxx-xx-0" in page.locator("main").inner_text()
    assert "Somchai Jaidee" in page.locator("header").inner_text()  # the header names who is signed in
    screenshot(page, "account-en-phone")
    assert_accessible(page)
    page.locator("header").get_by_role("button", name="Sign out").click()  # a form post: the CSRF rule passes
    page.wait_for_url(f"{served}/")
    assert "Somchai Jaidee" not in page.locator("header").inner_text()
    assert not any(c["name"] == "bizportal_session" for c in page.context.cookies())
    page.context.close()
