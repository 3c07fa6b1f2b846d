"""The entrepreneur's journey in a real browser (headless Debian chromium through Playwright, tests/support/browser.py),
at a phone's width: from the finder's result through sign-in at the development OpenID provider, the shared data,
two licences' forms, the documents, check your answers and submit, to the confirmation; then the tracking page
while the local office works on the case (its request for documents answered on the page), the fee paid by
PromptPay, and the e-licence downloaded. Every page passes axe-core
(in Thai; with its errors shown too) and leaves a screenshot in Thai and English (var/screenshots/apply-*). The main
path works with JavaScript off.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, FilePayload, Page, expect
from pydantic import SecretStr

from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
from bizportal.api.page_labels import LABELS
from bizportal.api.settings import Settings
from support.browser import (
    PHONE,
    assert_accessible,
    chromium_path,
    new_page,
    no_horizontal_overflow,
    screenshot,
)
from support.clock import MovableClock
from support.helpers import OFFICE, Auth
from support.oidc_provider import SOMCHAI
from support.uploads import pdf

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

FOOD, LIQUOR = "food_premises_notice_small", "liquor_sale_licence"
TH, EN = LABELS["th"], LABELS["en"]
PDF = FilePayload(name="plan.pdf", mimeType="application/pdf", buffer=pdf())
FLOOR_PLAN = "premises_map_and_floor_plan"
BANK_SECRET = "bank-webhook-secret-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Fees are paid by PromptPay here; the bank signs its notifications with `BANK_SECRET`."""
    return settings.model_copy(update={"promptpay_id": "0812345678",
                                       "promptpay_webhook_secret": SecretStr(BANK_SECRET)})




def _check(page: Page, name: str, both: bool = True) -> None:
    """axe and a screenshot of the page as it is (Thai); with `both`, a screenshot of the same address in English
    too, then back in Thai. axe runs once per page: the English page has the same structure (kept lean: each run
    takes about a second)."""
    assert page.locator("html").get_attribute("lang") == "th"
    assert_accessible(page)
    assert no_horizontal_overflow(page), f"{page.url} overflows a phone's width"
    screenshot(page, f"apply-{name}-th-phone")
    if not both:
        return
    here = page.url.split("#")[0]
    page.goto(here + ("&" if "?" in here else "?") + "lang=en")
    assert page.locator("html").get_attribute("lang") == "en" and no_horizontal_overflow(page)
    screenshot(page, f"apply-{name}-en-phone")
    page.goto(here + ("&" if "?" in here else "?") + "lang=th")


def _finder_to_result(page: Page, served: str) -> None:
    """The finder for a restaurant that sells alcohol, answering no (or none, or 80) to everything else."""
    page.goto(f"{served}/finder?lang=th")
    page.locator("input[name=type][value=restaurant]").check()
    page.get_by_role("button", name=TH["continue"]).click()
    for _ in range(30):
        if page.locator("h1").inner_text() == TH["finder_result_title"]:
            return
        if page.locator("input[type=radio][name=q_sells_alcohol]").count():
            page.locator("input[type=radio][name=q_sells_alcohol][value=yes]").check()
        elif page.locator("input[type=radio][value=no]").count():
            page.locator("input[type=radio][value=no]").check()
        elif page.locator("input[type=checkbox][value=none]").count():
            page.locator("input[type=checkbox][value=none]").check()
        elif page.locator("input.input[type=text]").count():
            page.locator("input.input[type=text]").fill("80")
        else:
            page.locator("input[type=radio]").first.check()
        page.get_by_role("button", name=TH["continue"]).click()
    raise AssertionError("the finder did not reach its result")


def _keep_only(page: Page, codes: tuple[str, ...]) -> None:
    ticked = [box.get_attribute("value") for box in page.locator("input[name=licence]:checked").all()]
    for code in ticked:
        if code not in codes:
            page.locator(f"#licence-{code}").uncheck()


def test_the_entrepreneurs_whole_journey_on_a_phone(browser: Browser, served: str, client: TestClient, auth: Auth,
                                                    clock: MovableClock) -> None:
    """Finds the licences, applies for two, uploads, answers a request for documents, pays by PromptPay, watches
    the status move live and downloads the e-licence."""
    page = new_page(browser, PHONE)
    _finder_to_result(page, served)
    page.get_by_role("button", name=TH["finder_apply"]).click()
    page.click(f"button[name=sub][value={SOMCHAI['sub']}]")  # sign in at the provider, and back to /apply
    page.wait_for_url(f"{served}/apply?licences=*")
    assert page.locator(f"#licence-{LIQUOR}").is_checked()
    _check(page, "start")
    _keep_only(page, (FOOD, LIQUOR))
    page.get_by_role("button", name=TH["continue"]).click()

    assert page.locator("h1").inner_text() == TH["apply_details_title"]
    _check(page, "details")
    page.get_by_label(TH["apply_email"]).fill("somchai@example.com")
    page.get_by_label(TH["business_name"]).fill("ร้านข้าวมันไก่น้ำใจ")
    page.get_by_label(TH["business_address"]).fill("99/9 ถนนสุขุมวิท แขวงคลองเตย")
    page.get_by_label(TH["business_province"]).fill("กรุงเทพมหานคร")
    page.get_by_label(TH["business_district"]).fill("คลองเตย")
    page.get_by_role("button", name=TH["apply_create"]).click()  # the area is missing: the error summary
    summary = page.locator(".error-summary")
    assert summary.is_visible() and TH["business_error_area_m2"] in summary.inner_text()
    _check(page, "details-error", both=False)
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "f-business-area-m2"  # the summary's link goes to the field
    page.locator("#f-business-area-m2").fill("80")
    page.get_by_role("button", name=TH["apply_create"]).click()

    assert page.locator("h1").inner_text() == TH["apply_tasks_title"]
    task_list = page.url
    _check(page, "tasks")
    page.get_by_role("link", name=TH["apply_task_form"] % _licence_name(page, FOOD)).click()
    _check(page, "form")
    page.locator("#f-premises_kind").check()
    page.get_by_label("จำนวนที่นั่ง").fill("lots")
    page.get_by_role("button", name=TH["apply_save"]).click()  # not a number: beside the field
    assert page.locator("#f-seats-error").is_visible()
    _check(page, "form-error", both=False)
    page.get_by_label("จำนวนที่นั่ง").fill("20")
    page.get_by_role("button", name=TH["apply_save"]).click()
    page.wait_for_url(task_list)

    page.get_by_role("link", name=TH["apply_task_form"] % _licence_name(page, LIQUOR)).click()
    page.locator("#f-licence_class").check()
    page.locator("#f-opening_hours").fill("10:00-22:00")
    page.locator("#f-near_school-no").check()
    page.get_by_role("button", name=TH["apply_save"]).click()
    page.wait_for_url(task_list)

    page.get_by_role("link", name=TH["apply_task_documents"]).click()
    _check(page, "documents")
    for document in ("premises_map_and_floor_plan", "sale_location_map"):
        page.locator(f"#file-{document}").set_input_files(PDF)
        page.locator(f"#doc-{document}").get_by_role("button", name=TH["apply_upload"]).click()
        assert "plan.pdf" in page.locator(f"#doc-{document}").inner_text()
    _check(page, "documents-uploaded", both=False)
    page.get_by_role("link", name=TH["apply_back_to_tasks"]).click()
    assert page.locator(".task-done").count() == 4

    page.get_by_role("link", name=TH["apply_task_check"]).click()
    _check(page, "check")
    page.get_by_role("button", name=TH["apply_submit"]).click()  # the declaration is not ticked
    assert page.locator(".error-summary").is_visible()
    _check(page, "check-error", both=False)
    page.get_by_label(TH["apply_declaration"]).check()
    page.get_by_role("button", name=TH["apply_submit"]).click()

    assert page.locator("h1").inner_text() == TH["apply_done_title"]
    assert page.locator(".tracking-number").inner_text().startswith("BP-")
    _check(page, "done")
    page.get_by_role("link", name=TH["apply_follow"]).click()
    _follow_to_the_e_licence(page, client, auth, clock)

    page.goto(f"{served}/apply")  # nothing chosen: the catalogue by agency, open, with its search
    assert page.locator("#catalogue").get_attribute("open") is not None
    _check(page, "catalogue")
    page.get_by_label(TH["apply_search"]).fill("สุรา")
    page.get_by_role("button", name=TH["search"]).click()
    assert page.locator(f"#add-{LIQUOR}").is_visible() and page.locator(f"#add-{FOOD}").count() == 0
    page.context.close()


def _open_tasks(client: TestClient, officer: dict[str, str], application_id: str) -> list[dict[str, Any]]:
    tasks = client.get("/api/v1/tasks", headers=officer).json()
    return [task for task in tasks if task["application_id"] == application_id and task["licence"] == FOOD]


def _follow_to_the_e_licence(page: Page, client: TestClient, auth: Auth, clock: MovableClock) -> None:
    """The tracking page while the local office works on the food licence through the API: its request for the
    floor plan appears live and is answered on the page, the approval shows the fee live, the fee is paid by
    PromptPay (the bank's signed notification), and the issued e-licence downloads."""
    page.wait_for_url(re.compile(r"/applications/[0-9a-f-]{36}$"))
    application_id = page.url.rsplit("/", 1)[1]
    officer = auth("agency_officer", "olivia", "LAO", OFFICE)
    deadline = time.monotonic() + 10  # the first task opens in a job that runs after the submission's answer
    while not (tasks := _open_tasks(client, officer, application_id)):
        assert time.monotonic() < deadline, "the food licence's first task did not open"
        time.sleep(0.05)
    (check,) = tasks
    asked = client.post(f"/api/v1/tasks/{check['id']}/complete", headers=officer, json={
        "action": "request_documents", "comment": "แผนผังไม่ชัด", "documents": [FLOOR_PLAN]})
    assert asked.status_code == 200, asked.text
    expect(page.locator(f"#file-{FOOD}-{FLOOR_PLAN}")).to_be_visible(timeout=10_000)  # live, without a reload
    page.locator(f"#file-{FOOD}-{FLOOR_PLAN}").set_input_files(PDF)
    page.locator(f"form.trk-upload:has(#file-{FOOD}-{FLOOR_PLAN}) button").click()
    page.get_by_role("button", name=TH["trk_answer_button"]).click()
    expect(page.locator(".trk-notice")).to_have_text(TH["trk_done_answered"])

    while tasks := _open_tasks(client, officer, application_id):  # the recheck and the consideration
        for task in tasks:
            assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=officer,
                               json={"action": "approve"}).status_code == 200
    pay = page.get_by_role("link", name=re.compile(TH["trk_pay_button"]))
    expect(pay).to_be_visible(timeout=10_000)  # the fee appears live
    pay.click()
    page.get_by_role("button", name=TH["pay_promptpay_start"]).click()
    expect(page.get_by_role("img", name=re.compile("พร้อมเพย์"))).to_be_visible()
    _check(page, "journey-promptpay", both=False)
    invoice = next(item for item in client.get(f"/api/v1/applications/{application_id}",
                                               headers=auth("admin", "root")).json()["invoices"]
                   if item["licence"] == FOOD)
    timestamp = int(clock.now().timestamp())
    amount = f"{invoice['amount_satang'] / 100:.2f}"
    body = json.dumps({"event_id": "bank-journey-1", "transaction_id": "T-journey-1", "currency": "764",
                       "ref1": page.locator(".reference").inner_text(), "amount": amount,
                       "paid_at": clock.now().isoformat()}).encode()
    notified = client.post("/api/v1/payments/webhooks/promptpay", content=body, headers={
        "X-Bank-Timestamp": str(timestamp), "X-Bank-Signature": sign_bank_notification(BANK_SECRET, timestamp, body)})
    assert notified.json() == {"outcome": "applied"}, notified.text
    expect(page.get_by_role("heading", name=TH["pay_paid_title"])).to_be_visible(timeout=10_000)

    page.goto(page.url.split("/invoices/")[0])
    expect(page.locator("a[href*='/issued-licences/']")).to_have_count(1, timeout=10_000)  # issued, live
    with page.expect_download() as download:
        page.locator("a[href*='/issued-licences/']").click()
    assert download.value.suggested_filename.endswith(".pdf")
    _check(page, "journey-issued", both=False)


def _licence_name(page: Page, code: str) -> str:
    """The licence's Thai name, as the task list writes it (read from the page's own link to its form)."""
    link = page.locator(f"a[href$='/licences/{code}']")
    return link.inner_text().split(": ", 1)[1]


def test_the_main_path_works_without_javascript(browser: Browser, served: str) -> None:
    page = new_page(browser, PHONE, javascript=False)
    page.goto(f"{served}/apply?licences={FOOD}&lang=en")
    page.click(f"button[name=sub][value={SOMCHAI['sub']}]")
    page.wait_for_url(f"{served}/apply?licences={FOOD}&lang=en")
    page.get_by_role("button", name=EN["continue"]).click()
    page.get_by_label(EN["business_name"]).fill("Noodle shop")
    page.get_by_label(EN["business_address"]).fill("1 Sukhumvit Road")
    page.get_by_label(EN["business_province"]).fill("กรุงเทพมหานคร")
    page.get_by_label(EN["business_district"]).fill("คลองเตย")
    page.get_by_label(EN["business_area"]).fill("40")
    page.get_by_role("button", name=EN["apply_create"]).click()
    page.get_by_role("link", name=EN["apply_task_form"] % "", exact=False).first.click()
    page.locator("#f-premises_kind").check()
    page.get_by_role("button", name=EN["apply_save"]).click()
    page.get_by_role("link", name=EN["apply_task_documents"]).click()
    page.locator("#file-premises_map_and_floor_plan").set_input_files(PDF)
    page.locator("#doc-premises_map_and_floor_plan").get_by_role("button", name=EN["apply_upload"]).click()
    page.get_by_role("link", name=EN["apply_back_to_tasks"]).click()
    page.get_by_role("link", name=EN["apply_task_check"]).click()
    page.get_by_label(EN["apply_declaration"]).check()
    page.get_by_role("button", name=EN["apply_submit"]).click()
    assert page.locator("h1").inner_text() == EN["apply_done_title"]
    screenshot(page, "apply-done-en-phone-nojs")
    page.context.close()
