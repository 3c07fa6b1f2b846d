"""The officer's inbox in a real browser (headless Debian chromium, tests/support/browser.py): the officer signs in
at the test staff provider, filters the inbox, claims a task, opens it, sees a document in the page, requests
documents, then approves another application setting its fee (an out-of-bounds fee first: the error summary);
then, as a supervisor, with the engine's clock moved so a case is overdue, opens the escalations. Each page
passes axe-core and leaves a screenshot in Thai and English at a phone's width (without sideways scrolling).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bizportal.api.page_labels import LABELS
from bizportal.engine.assembly import LicensingEngine
from support.browser import (
    DESK,
    PHONE,
    assert_accessible,
    chromium_path,
    new_page,
    no_horizontal_overflow,
    screenshot,
)
from support.helpers import OFFICE, Auth, Journey
from support.oidc_provider import OLIVIA, OidcProviderProcess

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

EN = LABELS["en"]
LARGE = "food_premises_licence_large"  # a Khlong Toei office licence whose fee the officer sets




def _until(journey: Journey, step: str) -> dict[str, Any]:
    """Approve the application's agency tasks (by API, as the officer) until `step` is open; that task."""
    while True:
        (task,) = journey.open_tasks(journey.officer)
        if task["step"] == step:
            return task
        journey.approve(task, journey.officer)


def _resize(page: Page, size: dict[str, int]) -> None:
    page.set_viewport_size({"width": size["width"], "height": size["height"]})


def _check(page: Page, name: str, path: str) -> None:
    """The page in both languages at a phone's width: axe, no sideways scrolling, a screenshot each."""
    for lang in ("th", "en"):
        page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert_accessible(page)
        assert no_horizontal_overflow(page), f"{name} overflows a phone's width"
        screenshot(page, f"inbox-{name}-{lang}-phone")


def test_the_officer_and_supervisor_journey(browser: Browser, served: str, journey: Journey, auth: Auth,
                                            engine: LicensingEngine, clock: Any,
                                            oidc_provider: OidcProviderProcess) -> None:
    admin = auth("admin", "root")
    added = journey.client.post("/api/v1/staff", headers=admin, json={
        "issuer": oidc_provider.issuer, "subject": OLIVIA.sub, "role": "agency_officer", "agency": "LAO",
        "office": OFFICE, "name": OLIVIA.name})
    assert added.status_code == 201, added.text
    member = added.json()["id"]
    journey.create()
    journey.submit()
    small = journey.view()["tracking_number"]
    journey.create(licences=[LARGE], area_m2=300)
    journey.submit()
    large = journey.view()["tracking_number"]
    inspection = _until(journey, "premises_inspection")

    page = new_page(browser, DESK)
    page.goto(f"{served}/inbox?lang=en")
    page.click(f"button[name=sub][value={OLIVIA.sub}]")  # the staff provider's sign-in page
    page.wait_for_url(f"{served}/inbox?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == EN["inbox_title"]
    assert_accessible(page)
    screenshot(page, "inbox-list-en-desk")

    # Filter: the document checks only.
    page.get_by_label(EN["inbox_filter_step"]).select_option("document_check")
    page.get_by_role("button", name=EN["inbox_apply_filters"]).click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and small in rows.inner_text() and large not in page.locator("main").inner_text()
    # Claim it from the list: back to the same filtered list, with a banner.
    page.get_by_role("button", name=EN["inbox_claim_for"] % small).click()
    assert "step=document_check" in page.url and EN["inbox_claimed_banner"] in page.locator("main").inner_text()
    assert EN["inbox_claimed_by_me"] in rows.inner_text()

    # The task page: the document in the page, then a request for documents.
    page.get_by_role("link", name=small).click()
    frame = page.locator("iframe.inbox-pdf").first
    source = frame.get_attribute("src") or ""
    shown = page.request.get(served + source)
    assert shown.ok and shown.headers["content-type"] == "application/pdf"
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
    assert_accessible(page)
    page.get_by_label(EN["inbox_action_request_documents"]).check()
    page.get_by_label(EN["inbox_decision_comment"]).fill("The floor plan is not legible")
    page.locator("input[name=document]").first.check()
    page.get_by_role("button", name=EN["inbox_decision_send"]).click()
    assert page.url.startswith(f"{served}/inbox?done=decided")
    assert EN["inbox_decided_banner"] % small in page.locator("main").inner_text()

    # The large premises: the fee out of its bounds, then within.
    page.goto(f"{served}/inbox/{inspection['id']}?lang=en")
    page.get_by_label(EN["inbox_action_approve"]).check()
    page.get_by_label(EN["inbox_decision_fee"]).fill("100")
    page.get_by_role("button", name=EN["inbox_decision_send"]).click()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "2,000" in summary.inner_text() and "3,000" in summary.inner_text()
    assert_accessible(page)
    _resize(page, PHONE)
    screenshot(page, "inbox-task-error-en-phone")
    _resize(page, DESK)
    page.get_by_label(EN["inbox_decision_fee"]).fill("2500")
    page.get_by_role("button", name=EN["inbox_decision_send"]).click()
    assert EN["inbox_decided_banner"] % large in page.locator("main").inner_text()

    # Every page at a phone's width, in Thai and English.
    journey.create()
    journey.submit()
    open_task = journey.task("document_check")
    _resize(page, PHONE)
    _check(page, "list", f"{served}/inbox")
    _check(page, "task", f"{served}/inbox/{open_task['id']}")
    _check(page, "empty", f"{served}/inbox?assigned=me")

    # A supervisor, weeks later: the escalated case and the overdue work.
    changed = journey.client.patch(f"/api/v1/staff/{member}", headers=admin, json={"role": "agency_supervisor"})
    assert changed.status_code == 200, changed.text
    clock.advance(days=60)
    engine.fire_due_timers_and_notices()
    page.goto(f"{served}/escalations?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == EN["inbox_escalations_title"]
    assert journey.view()["tracking_number"] in page.locator("main").inner_text()
    _check(page, "escalations", f"{served}/escalations")
    page.context.close()
