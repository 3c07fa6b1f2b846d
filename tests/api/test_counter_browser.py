"""The counter officer's journey in a real browser (headless Debian chromium, tests/support/browser.py): Carl signs
in at the staff provider, finds Somchai by his ID number, files for him with his consent and lands on
/apply/{id} (the apply pages finish the filing: here the API does), the case is approved to payment, Carl takes
the cash, sees the receipt and finds the application in what his office filed. Every page passes axe-core and
leaves a screenshot at a phone's width in Thai and English; the desk width must not scroll sideways either.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect

from bizportal.api.page_labels import LABELS
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import SYSTEM
from bizportal.engine.staff import register
from bizportal.engine.staff.register import StaffInput, StaffRole
from bizportal.storage.database import transaction
from support.browser import (
    DESK,
    PHONE,
    assert_accessible,
    chromium_path,
    new_page,
    no_horizontal_overflow,
    screenshot,
)
from support.helpers import LICENCE, OFFICE, Auth, Journey
from support.oidc_provider import CARL, SOMCHAI, OidcProviderProcess
from support.uploads import pdf

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
TH, EN = LABELS["th"], LABELS["en"]
PLAN = FilePayload(name="plan.pdf", mimeType="application/pdf", buffer=pdf())


@pytest.fixture
def served(served: str, engine: LicensingEngine, oidc_provider: OidcProviderProcess) -> str:
    """The service on a real server (tests/conftest.py), where Carl is a counter officer of the Khlong Toei office
    in the staff register."""
    with transaction(engine.db) as session:
        register.add(engine.ctx, session, SYSTEM, StaffInput(issuer=oidc_provider.issuer, subject=CARL.sub,
                                                             role=StaffRole.COUNTER_OFFICER, office=OFFICE))
    return served


def _check(page: Page, name: str, lang: str) -> None:
    """axe-core, no sideways scrolling, and the screenshot `counter-<name>-<lang>-phone|desk`."""
    width = "phone" if page.viewport_size == ViewportSize(width=PHONE["width"], height=PHONE["height"]) else "desk"
    assert page.locator("html").get_attribute("lang") == lang
    assert_accessible(page)
    assert no_horizontal_overflow(page), f"{page.url} overflows a {width}'s width"
    screenshot(page, f"counter-{name}-{lang}-{width}")


def _approve_to_payment(journey: Journey, admin: dict[str, str]) -> None:
    """The office approves every step until the fee is due. The submitted page answers before the jobs that open
    the first task have run (they run after the response), so this waits for them."""
    deadline = time.monotonic() + 10
    while not any(invoice["status"] == "open" for invoice in journey.client.get(
            f"/api/v1/applications/{journey.id}", headers=admin).json()["invoices"]):
        assert time.monotonic() < deadline, "the application did not reach its fee"
        for task in journey.open_tasks(journey.officer):
            journey.approve(task, journey.officer)
        time.sleep(0.05)


def test_a_counter_officer_files_for_somchai_takes_cash_and_prints_the_receipt(
        browser: Browser, served: str, journey: Journey, auth: Auth) -> None:
    page = new_page(browser, PHONE)
    page.set_default_timeout(10_000)
    page.goto(f"{served}/counter")
    assert "oauth2/authorize" in page.url  # the staff provider's sign-in
    page.click(f"button[name=sub][value={CARL.sub}]")
    page.wait_for_url(f"{served}/counter")
    assert CARL.name in page.locator("header").inner_text()
    _check(page, "find", "th")

    page.get_by_label(TH["counter_find_title"]).fill("1101700203451")  # one digit wrong
    page.get_by_role("button", name=TH["counter_find_button"]).click()
    assert TH["counter_error_check_digit"] in page.locator(".error-summary").inner_text()
    _check(page, "find-error", "th")
    page.get_by_label(TH["counter_find_title"]).fill("1-1017-00203-45-0")
    page.get_by_role("button", name=TH["counter_find_button"]).click()
    page.wait_for_url(f"{served}/counter/entrepreneurs/{SOMCHAI['pid']}")
    assert TH["counter_no_registry"] in page.locator("main").inner_text()
    _check(page, "entrepreneur", "th")

    page.get_by_role("link", name=TH["counter_file_button"]).click()
    page.get_by_role("button", name=TH["counter_create_button"]).click()  # nothing filled in: the summary
    summary = page.locator(".error-summary")
    assert TH["counter_err_licences"] in summary.inner_text()
    _check(page, "file-error", "th")
    summary.get_by_role("link", name=TH["counter_err_licences"]).click()  # the link reaches the first licence
    page.get_by_role("searchbox", name=TH["counter_licence_search"]).fill("จำหน่ายหรือสะสมอาหาร")
    page.get_by_role("button", name=TH["counter_licence_search_button"]).click()
    page.locator(f"input[name=licences][value={LICENCE}]").check()
    page.get_by_label(TH["counter_applicant_name"]).fill("สมชาย ใจดี")
    page.get_by_label(TH["business_name"]).fill("ร้านข้าวมันไก่สมชาย")
    page.get_by_label(TH["business_address"]).fill("99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร")
    page.get_by_label(TH["business_province"]).fill("กรุงเทพมหานคร")
    page.get_by_label(TH["business_district"]).fill("คลองเตย")
    page.get_by_label(TH["business_area"]).fill("60")
    _check(page, "file", "th")
    page.get_by_role("button", name=TH["counter_create_button"]).click()
    page.wait_for_url(re.compile(r".*/apply/[0-9a-f-]{36}$"))  # the apply pages take it from here
    journey.id = page.url.rsplit("/", 1)[1]

    # The apply pages, as the counter officer: the licence's form, the documents, check and submit.
    page.goto(f"{served}/apply/{journey.id}/licences/{LICENCE}")
    page.locator("#f-premises_kind").check()
    page.get_by_label("จำนวนที่นั่ง").fill("20")
    page.get_by_role("button", name=TH["apply_save"]).click()
    page.wait_for_url(f"{served}/apply/{journey.id}")
    page.get_by_role("link", name=TH["apply_task_documents"]).click()
    page.locator("#file-premises_map_and_floor_plan").set_input_files(PLAN)
    page.locator("#doc-premises_map_and_floor_plan").get_by_role("button", name=TH["apply_upload"]).click()
    expect(page.locator("#doc-premises_map_and_floor_plan")).to_contain_text("plan.pdf")
    page.goto(f"{served}/apply/{journey.id}/check")
    page.get_by_label(TH["apply_declaration"]).check()
    page.get_by_role("button", name=TH["apply_submit"]).click()
    expect(page.locator("h1")).to_have_text(TH["apply_done_title"])
    tracking = page.locator(".tracking-number").inner_text()
    _approve_to_payment(journey, auth("admin", "root"))

    page.goto(f"{served}/counter")  # back through the counter's tabs
    page.get_by_role("navigation", name=TH["counter_tabs"]).get_by_role("link", name=TH["counter_tab_payments"]).click()
    page.wait_for_url(f"{served}/counter/payments")
    assert tracking in page.locator("main").inner_text()
    _check(page, "payments", "th")
    page.get_by_role("button", name=TH["counter_take_cash_button"]).click()  # not confirmed: the summary
    assert TH["counter_cash_error_confirm"] in page.locator(".error-summary").inner_text()
    _check(page, "payments-error", "th")
    page.locator("input[name=received]").check()
    page.get_by_role("button", name=TH["counter_take_cash_button"]).click()
    page.wait_for_url(re.compile(r".*/counter/payments/[0-9a-f-]{36}/receipt$"))
    pdf_link = page.get_by_role("link", name=TH["counter_receipt_pdf"])
    assert re.fullmatch(r"/api/v1/receipts/BP-R-\d+-\d+/pdf", pdf_link.get_attribute("href") or "")
    assert page.get_by_role("button", name=TH["counter_print"]).is_visible()  # the script shows the print button
    _check(page, "receipt", "th")
    page.emulate_media(media="print")  # on paper: the receipt alone
    assert not page.get_by_role("navigation", name=TH["counter_tabs"]).is_visible()
    assert not pdf_link.is_visible() and page.get_by_text(tracking).first.is_visible()
    screenshot(page, "counter-receipt-th-print")
    page.emulate_media(media="screen")
    pdf = page.request.get(served + (pdf_link.get_attribute("href") or ""))  # the session cookie reads it
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    receipt_path = page.url.removeprefix(served)

    page.get_by_role("navigation", name=TH["counter_tabs"]).get_by_role("link", name=TH["counter_tab_filed"]).click()
    assert page.get_by_role("link", name=tracking).get_attribute("href") == f"/applications/{journey.id}"
    _check(page, "filed", "th")

    # Every page in English, and at a desk's width.
    english = {"find": "/counter", "entrepreneur": f"/counter/entrepreneurs/{SOMCHAI['pid']}",
               "file": f"/counter/entrepreneurs/{SOMCHAI['pid']}/file?licences={LICENCE}",
               "payments": "/counter/payments", "receipt": receipt_path, "filed": "/counter/filed"}
    for name, path in english.items():
        page.goto(f"{served}{path}{'&' if '?' in path else '?'}lang=en")
        _check(page, name, "en")
    page.set_viewport_size(ViewportSize(width=DESK["width"], height=DESK["height"]))
    for name, path in english.items():
        page.goto(f"{served}{path}")
        _check(page, name, "en")  # the language is remembered
    page.context.close()
