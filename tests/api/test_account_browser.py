"""The account pages in a real browser (headless chromium, tests/support/browser.py) at a phone's width: Somchai
signs in at the test OpenID provider on his invoice, opens the card form (Stripe.js itself is not loaded: no
Internet here), shows the PromptPay QR, the bank's notification arrives and
the page turns to paid with the receipt by itself; then the counter slip, my licences -> renew -> the new
application, consents -> withdraw, the survey, my data -> download. axe-core on every page, and screenshots of
each in Thai and English (var/screenshots/account-<page>-<lang>-phone.png)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
from bizportal.api.page_labels import LABELS
from bizportal.api.settings import Settings
from support.browser import PHONE, assert_accessible, chromium_path, new_page, screenshot
from support.fake_stripe import API_KEY, start_fake_stripe
from support.helpers import COUNTER_CONSENT, OFFICE, Auth, Journey, application_body
from support.oidc_provider import SOMCHAI

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

BANK_SECRET = "bank-webhook-secret-0123456789"
TH, EN = LABELS["th"], LABELS["en"]


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[str]:
    base_url, _, stop = start_fake_stripe()
    yield base_url
    stop()


@pytest.fixture
def settings(settings: Settings, fake_stripe: str) -> Settings:
    """PromptPay, and Stripe (against the local stand-in) with a publishable key: every way to pay is offered."""
    return settings.model_copy(update={
        "promptpay_id": "0812345678", "promptpay_webhook_secret": SecretStr(BANK_SECRET),
        "stripe_secret_key": SecretStr(API_KEY), "stripe_api_base": fake_stripe,
        "stripe_publishable_key": "pk_test_bizportal"})




def _somchai(client: TestClient, auth: Auth) -> Journey:
    return Journey(client, auth("applicant", SOMCHAI["sub"], id_number=SOMCHAI["pid"]),
                   auth("agency_officer", "olivia", "LAO", OFFICE), auth("counter_officer", "carl"))


def _body() -> dict[str, Any]:
    body = application_body(id_number=SOMCHAI["pid"])
    body["applicant"] = {**body["applicant"], "name": SOMCHAI["name"]}  # type: ignore[dict-item]
    return body


def _file(journey: Journey) -> None:
    created = journey.client.post("/api/v1/applications", json=_body(), headers=journey.applicant)
    assert created.status_code == 201, created.text
    journey.id = created.json()["id"]
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")


def _both(page: Page, url: str, name: str, check: bool = True) -> None:
    """The page in Thai and English at phone width: a screenshot of each, axe on the Thai one."""
    for lang in ("th", "en"):
        page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
        screenshot(page, f"account-{name}-{lang}-phone")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} overflows"
        if check and lang == "th":
            assert_accessible(page)


def test_the_account_journey_in_a_browser(browser: Browser, served: str, client: TestClient, auth: Auth,
                                          clock: Any) -> None:
    # A licence issued a year ago (up for renewal now), a licence waiting for its fee, a counter's consent.
    clock.current = datetime(2025, 12, 15, 2, 0, tzinfo=UTC)
    held = _somchai(client, auth)
    _file(held)
    held.pay()
    number = held.view()["licences"][0]["licence_number"]
    clock.current = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    paying = _somchai(client, auth)
    _file(paying)
    invoice = paying.view()["invoices"][0]
    consent = client.post("/api/v1/applications", json={**_body(), "consent": COUNTER_CONSENT},
                          headers=held.counter)
    assert consent.status_code == 201, consent.text

    page = new_page(browser, PHONE)
    invoice_url = f"{served}/applications/{paying.id}/invoices/{invoice['id']}"
    page.goto(invoice_url + "?lang=en")
    page.click(f"button[name=sub][value={SOMCHAI['sub']}]")  # the test provider's sign-in
    page.wait_for_url(invoice_url + "?lang=en")
    _both(page, invoice_url, "invoice")
    page.route("https://js.stripe.com/**", lambda route: route.abort())  # no Internet here: the form's own page
    page.get_by_role("button", name=EN["pay_card_start"]).click()
    page.wait_for_url(invoice_url + "/card?lang=en")
    _both(page, invoice_url + "/card", "card")
    expect(page.get_by_text(EN["pay_card_unavailable"])).to_be_visible()  # Stripe.js did not load: said so
    page.goto(invoice_url + "?lang=en")
    page.get_by_role("button", name=EN["pay_promptpay_start"]).click()
    qr = page.get_by_role("img", name=re.compile("PromptPay"))
    expect(qr).to_be_visible()
    reference = page.locator(".reference").inner_text()
    _both(page, invoice_url, "promptpay")
    _both(page, invoice_url + "/slip", "slip")
    page.goto(invoice_url + "?lang=en")  # waiting for the payment
    expect(page.get_by_text(EN["pay_waiting"])).to_be_visible()

    timestamp = int(clock.now().timestamp())
    body = json.dumps({"event_id": "bank-1", "transaction_id": "T1", "ref1": reference, "amount": "500.00",
                       "currency": "764", "paid_at": clock.now().isoformat()}).encode()
    notified = client.post("/api/v1/payments/webhooks/promptpay", content=body, headers={
        "X-Bank-Timestamp": str(timestamp), "X-Bank-Signature": sign_bank_notification(BANK_SECRET, timestamp, body)})
    assert notified.json() == {"outcome": "applied"}
    expect(page.get_by_role("heading", name=EN["pay_paid_title"])).to_be_visible(timeout=10_000)  # the script
    expect(page.get_by_role("link", name=re.compile("receipt", re.I))).to_be_visible()
    _both(page, invoice_url, "paid")

    _both(page, f"{served}/my-licences", "my-licences")
    page.get_by_role("link", name=number, exact=True).click()
    _both(page, f"{served}/my-licences/{number}", "licence")
    page.get_by_label(EN["held_note"]).fill("ต่ออายุตามปกติ")
    page.get_by_role("button", name=EN["held_renew_button"]).click()
    page.wait_for_url(re.compile(r"/applications/[0-9a-f-]{36}$"))
    renewal_id = page.url.rsplit("/", 1)[1]
    kinds = {item["kind"] for item in client.get(f"/api/v1/applications/{renewal_id}",
                                                 headers=held.applicant).json()["licences"]}
    assert kinds == {"renewal"}

    _both(page, f"{served}/account/consents", "consents")
    page.get_by_role("link", name=re.compile(EN["consent_withdraw"])).first.click()
    _both(page, page.url.split("?")[0], "consent-withdraw")
    page.get_by_role("button", name=EN["consent_withdraw_yes"]).click()
    expect(page.get_by_text(EN["consent_withdrawn_done"])).to_be_visible()

    survey_url = f"{served}/applications/{held.id}/licences/{held.view()['licences'][0]['code']}/survey"
    _both(page, survey_url, "survey")
    page.get_by_role("button", name=EN["survey_send"]).click()  # no rating: the error summary, then the field
    expect(page.get_by_role("alert")).to_contain_text(EN["survey_rating_error"])
    screenshot(page, "account-survey-error-en-phone")
    assert_accessible(page)
    page.get_by_role("alert").get_by_role("link").click()
    assert page.evaluate("document.activeElement.name") == "rating"
    page.get_by_label(re.compile("^5")).check()
    page.get_by_label(EN["survey_comment"]).fill("รวดเร็วมาก")
    page.get_by_role("button", name=EN["survey_send"]).click()
    expect(page.get_by_role("heading", name=EN["survey_thanks"])).to_be_visible()
    _both(page, survey_url, "survey-answered")

    _both(page, f"{served}/account/data", "my-data")
    with page.expect_download() as download:
        page.get_by_role("link", name=EN["data_download"]).click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["person"]["id_number"] == SOMCHAI["pid"] and data["ratings"][0]["rating"] == 5
    _both(page, f"{served}/account", "account")
    page.context.close()
