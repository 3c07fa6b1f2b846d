"""The entrepreneur's applications in a real browser (headless chromium, tests/support/browser.py), at a phone's
width with JavaScript on: signed in at the test OpenID provider, the list, then the tracking page while an
officer works on the case through the API: the request for documents appears live, is answered by an upload on
the page, the approval and the payment appear live, the diagram marks the current step, the e-licence downloads.
axe-core on each page and screenshots in Thai and English (var/screenshots/tracking-*.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from bizportal.api.page_labels import LABELS
from support.browser import (
    DESK,
    PHONE,
    assert_accessible,
    chromium_path,
    new_page,
    no_horizontal_overflow,
    screenshot,
)
from support.helpers import Auth, Journey
from support.oidc_provider import SOMCHAI
from support.uploads import pdf

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
LICENCE = "food_premises_notice_small"
FLOOR_PLAN = "premises_map_and_floor_plan"
EN, TH = LABELS["en"], LABELS["th"]




@pytest.fixture
def somchai(journey: Journey, auth: Auth) -> Journey:
    """The journey's applicant is Somchai, who signs in at the provider in the browser."""
    journey.applicant = auth("applicant", SOMCHAI["sub"], id_number=SOMCHAI["pid"], name=SOMCHAI["name"])
    return journey


def _sign_in(page: Page, served: str, path: str) -> None:
    page.goto(f"{served}{path}")
    page.click(f"button[name=sub][value={SOMCHAI['sub']}]")
    page.wait_for_url(f"{served}{path}")


def _look(page: Page, name: str) -> None:
    """axe, no sideways scrolling at a phone's width, and a screenshot."""
    assert_accessible(page)
    assert no_horizontal_overflow(page), f"{page.url} overflows a phone's width"
    screenshot(page, name)


def _diagram_under_the_real_csp(browser: Browser, signed_in: Page, url: str) -> None:
    """The harness bypasses the Content-Security-Policy (to inject axe); here it applies: bpmn-js draws (its inline
    SVG styles are within `style-src 'unsafe-inline'`), the stream connects, and nothing is refused."""
    context = browser.new_context(viewport=PHONE, storage_state=signed_in.context.storage_state())  # type: ignore[arg-type]
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(url)
    expect(page.locator(".trk-canvas .djs-element.step-current")).to_have_count(1)
    expect(page.locator("[data-live-note]")).to_be_visible()
    assert refused == []
    context.close()


def test_following_an_application_live_from_documents_to_licence(browser: Browser, served: str, somchai: Journey,
                                                                 tmp_path: Path) -> None:
    journey = somchai
    journey.create(id_number=SOMCHAI["pid"])
    journey.submit()
    page = new_page(browser, PHONE)
    _sign_in(page, served, "/applications?lang=en")
    number = journey.view()["tracking_number"]
    _look(page, "tracking-list-en-phone")
    page.goto(f"{served}/applications?lang=th")
    _look(page, "tracking-list-th-phone")
    page.get_by_role("link", name=number).click()
    page.wait_for_url(f"{served}/applications/{journey.id}")
    status = page.locator("#trk-status")
    expect(status).to_have_text(TH["trk_status_document_check"])
    # The diagram: drawn by bpmn-js with the step the case waits at marked.
    expect(page.locator(".trk-canvas .djs-element.step-current")).to_have_count(1)
    expect(page.locator(".trk-canvas")).to_have_attribute("data-current", "document_check")
    _look(page, "tracking-application-th-phone")
    _diagram_under_the_real_csp(browser, page, f"{served}/applications/{journey.id}")

    # The officer asks for the floor plan: the page shows it without a reload, and says so.
    assert journey.decide("document_check", "request_documents", "แผนผังไม่ชัด",
                          documents=[FLOOR_PLAN]).status_code == 200
    expect(status).to_have_text(TH["trk_status_documents_requested"], timeout=10_000)
    expect(page.locator("#trk-announce")).to_contain_text(TH["trk_status_documents_requested"])
    expect(page.locator(".trk-canvas .djs-element.step-current")).to_have_count(1)
    page.goto(f"{served}/applications/{journey.id}?lang=en")
    _look(page, "tracking-request-en-phone")

    # Answered on the page: the upload, then the answer sent to the agency.
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(pdf())
    page.get_by_label("Location map and floor plan of the premises", exact=True).set_input_files(plan)
    page.get_by_role("button", name=f"{EN['trk_upload_button']}: Location map and floor plan of the premises").click()
    expect(page.locator(".trk-notice")).to_have_text(EN["trk_done_uploaded"])
    expect(page.locator("main")).to_contain_text("plan.pdf (version 2)")
    page.get_by_role("button", name=EN["trk_answer_button"]).click()
    expect(page.locator(".trk-notice")).to_have_text(EN["trk_done_answered"])
    status = page.locator("#trk-status")
    expect(status).to_have_text(EN["trk_status_document_check"])

    # The officer approves; then the fee is paid at a counter: each move shows live.
    journey.decide("document_recheck", "approve")
    journey.decide("consideration", "approve")
    expect(status).to_have_text(EN["trk_status_awaiting_payment"], timeout=10_000)
    expect(page.get_by_role("link", name=EN["trk_pay_button"], exact=False)).to_be_visible()
    assert journey.pay().status_code == 200
    expect(status).to_have_text(EN["trk_status_issued"], timeout=10_000)
    _look(page, "tracking-application-en-phone")
    page.set_viewport_size(ViewportSize(width=DESK["width"], height=DESK["height"]))
    page.wait_for_timeout(400)  # the diagram is framed again once the resizing settles
    screenshot(page, "tracking-application-en-desk")
    page.set_viewport_size(ViewportSize(width=PHONE["width"], height=PHONE["height"]))

    licence_number = journey.view()["licences"][0]["licence_number"]
    with page.expect_download() as download:
        page.get_by_role("link", name=EN["trk_download_licence"] % licence_number).click()
    assert download.value.suggested_filename == f"{licence_number}.pdf"
    page.goto(f"{served}/applications/{journey.id}?lang=th")
    _look(page, "tracking-application-issued-th-phone")
    page.context.close()


def test_withdrawing_in_the_browser(browser: Browser, served: str, somchai: Journey) -> None:
    somchai.create(id_number=SOMCHAI["pid"])
    somchai.submit()
    page = new_page(browser, PHONE)
    _sign_in(page, served, f"/applications/{somchai.id}/withdraw?lang=en")
    page.get_by_role("button", name=EN["trk_withdraw_confirm"]).click()  # no reason: the error summary
    expect(page.locator(".error-summary")).to_contain_text(EN["trk_error_withdraw_reason"])
    _look(page, "tracking-withdraw-en-phone")
    page.goto(f"{served}/applications/{somchai.id}/withdraw?lang=th")
    _look(page, "tracking-withdraw-th-phone")
    page.get_by_label(TH["trk_withdraw_reason"]).fill("เปลี่ยนใจ ไม่เปิดร้านแล้ว")
    page.get_by_role("button", name=TH["trk_withdraw_confirm"]).click()
    expect(page.locator(".trk-notice")).to_have_text(TH["trk_done_withdrawn"])
    expect(page.locator("#trk-status")).to_have_text(TH["trk_status_cancelled"])
    page.context.close()
