"""The account pages over HTTP (no browser): paying an invoice (PromptPay QR, waiting, paid with the receipt, the
counter slip, card only when Stripe is configured), my licences with renew / amend / cancel, my consents with
withdraw, the survey, and my data with its download; each form's errors re-rendered with nothing written, and
another person's things as the 404 page. The journey in a real browser: test_account_browser.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.page_labels import LABELS
from bizportal.api.sessions import SESSION_COOKIE, session_token
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Principal, Role
from support.fake_stripe import API_KEY, start_fake_stripe
from support.helpers import ALICE_ID, COUNTER_CONSENT, Auth, Journey, application_body
from support.pages import providers_configured

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BANK_SECRET = "bank-webhook-secret-0123456789"
ALICE = Principal("alice", Role.APPLICANT, name="สมหญิง ใจดี", id_number=ALICE_ID, ial="2.3", aal="2")
BOB = Principal("bob", Role.APPLICANT, name="Bob", id_number="3100600123450", ial="2.3", aal="2")
TH, EN = LABELS["th"], LABELS["en"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """PromptPay configured (to a PromptPay id), as a deployment that takes QR payments."""
    return settings.model_copy(update={"promptpay_id": "0812345678",
                                       "promptpay_webhook_secret": SecretStr(BANK_SECRET)})


def _as(client: TestClient, principal: Principal) -> None:
    key = client.app.state.signing_key  # type: ignore[attr-defined]
    client.cookies.set(SESSION_COOKIE, session_token(key, principal))


def _origin(client: TestClient) -> dict[str, str]:
    return {"Origin": client.app.state.public_base_url.rstrip("/")}  # type: ignore[attr-defined]


def _post(client: TestClient, path: str, data: dict[str, str] | None = None) -> Any:
    return client.post(path, data=data or {}, headers=_origin(client), follow_redirects=False)


def _awaiting_payment(journey: Journey) -> dict[str, Any]:
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    return journey.view()["invoices"][0]


def _bank_pays(client: TestClient, reference: str, amount: str, clock: Any) -> None:
    timestamp = int(clock.now().timestamp())
    body = json.dumps({"event_id": f"bank-{reference}", "transaction_id": "T1", "ref1": reference,
                       "amount": amount, "currency": "764", "paid_at": clock.now().isoformat()}).encode()
    headers = {"X-Bank-Timestamp": str(timestamp),
               "X-Bank-Signature": sign_bank_notification(BANK_SECRET, timestamp, body)}
    assert client.post("/api/v1/payments/webhooks/promptpay", content=body, headers=headers).json() == {
        "outcome": "applied"}


def test_the_invoice_page_pays_by_promptpay_and_then_shows_the_receipt(journey: Journey, client: TestClient,
                                                                       clock: Any) -> None:
    providers_configured(client)  # visitors are sent through sign-in
    invoice = _awaiting_payment(journey)
    page_url = f"/applications/{journey.id}/invoices/{invoice['id']}"
    assert client.get(page_url, follow_redirects=False).status_code == 303  # sign in first
    _as(client, ALICE)
    page = client.get(page_url)
    assert page.status_code == 200 and TH["pay_title"] in page.text and "500 บาท" in page.text
    assert TH["invoice_status_open"] in page.text and 'action="' + page_url + '/promptpay?lang=th"' in page.text
    assert "data:image/png" not in page.text  # no payment started by looking
    assert TH["pay_card"] not in page.text  # Stripe has no key here

    started = _post(client, page_url + "/promptpay?lang=en")
    assert started.status_code == 303 and started.headers["location"] == page_url + "?lang=en#promptpay"
    again = _post(client, page_url + "/promptpay")  # a second click: the same payment, the same QR
    assert again.status_code == 303
    shown = client.get(page_url + "?lang=en").text
    assert 'src="data:image/png;base64,' in shown and EN["pay_waiting"] in shown
    assert 'data-invoice="' + invoice["id"] + '"' in shown and "account-payment.js" in shown
    (reference,) = set(re.findall(r'class="reference">(BP[A-Z0-9]+)<', shown))
    assert reference in client.get(page_url).text  # the same payment on every look

    _bank_pays(client, reference, "500.00", clock)
    paid = client.get(page_url + "?lang=en").text
    assert EN["pay_paid_title"] in paid and EN["invoice_status_paid"] in paid and "data:image/png" not in paid
    receipts = client.get(f"/api/v1/applications/{journey.id}/receipts", headers=journey.applicant).json()
    assert receipts and f'href="/api/v1/receipts/{receipts[0]["number"]}/pdf"' in paid
    assert client.get(f"/api/v1/receipts/{receipts[0]['number']}/pdf").status_code == 200  # by the cookie
    assert _post(client, page_url + "/promptpay").status_code == 409  # nothing left to pay: said on the page


def test_the_counter_slip_is_printable_and_another_persons_invoice_is_not_found(journey: Journey,
                                                                                client: TestClient) -> None:
    invoice = _awaiting_payment(journey)
    page_url = f"/applications/{journey.id}/invoices/{invoice['id']}"
    _as(client, ALICE)
    slip = client.get(page_url + "/slip?lang=en")
    assert slip.status_code == 200 and EN["slip_title"] in slip.text and invoice["id"] in slip.text
    assert EN["baht"] % "500" in slip.text and EN["slip_where"] in slip.text
    css = client.get(re.search(r'href="(/static/account\.css\?v=[0-9a-f]+)"', slip.text).group(1))  # type: ignore[union-attr]
    assert "@media print" in css.text

    _as(client, BOB)
    for path in (page_url, page_url + "/slip", f"/applications/{journey.id}/invoices/no-such-invoice"):
        refused = client.get(path)
        assert refused.status_code == 404 and TH["error_404"] in refused.text, path
    assert _post(client, page_url + "/promptpay").status_code == 404
    _as(client, ALICE)
    assert client.get(f"/applications/{journey.id}/invoices/no-such-invoice").status_code == 404


def test_card_payment_is_offered_only_when_stripe_is_configured(journey: Journey, client: TestClient,
                                                                settings: Settings, engine: LicensingEngine) -> None:
    invoice = _awaiting_payment(journey)
    _as(client, ALICE)
    page_url = f"/applications/{journey.id}/invoices/{invoice['id']}"
    assert EN["pay_card"] not in client.get(page_url + "?lang=en").text  # no Stripe key here
    assert _post(client, page_url + "/card").status_code == 404
    assert "js.stripe.com" not in client.get(page_url).headers["content-security-policy"]

    base_url, state, stop = start_fake_stripe()
    configured = settings.model_copy(update={"stripe_secret_key": SecretStr(API_KEY), "stripe_api_base": base_url,
                                             "stripe_publishable_key": "pk_test_bizportal"})
    try:
        with TestClient(create_app(configured, engine=engine_from(configured, clock=engine.ctx.clock))) as cards:
            _as(cards, ALICE)
            page = cards.get(page_url + "?lang=en")
            assert EN["pay_card"] in page.text and f'action="{page_url}/card?lang=en"' in page.text
            assert "js.stripe.com" not in page.text + page.headers["content-security-policy"]  # not on this page
            started = _post(cards, page_url + "/card?lang=en")
            assert started.status_code == 303 and started.headers["location"] == page_url + "/card?lang=en"
            assert _post(cards, page_url + "/card").status_code == 303  # a second click: the same intent
            assert len(state.intents) == 1
            card = cards.get(page_url + "/card?lang=en")
            (intent,) = state.intents.values()
            assert card.status_code == 200 and 'src="https://js.stripe.com/v3/"' in card.text
            assert f'data-client-secret="{intent["client_secret"]}"' in card.text
            assert 'data-publishable-key="pk_test_bizportal"' in card.text and EN["pay_card_needs_js"] in card.text
            policy = card.headers["content-security-policy"]
            assert "script-src 'self' https://js.stripe.com;" in policy and "frame-ancestors 'none'" in policy
    finally:
        stop()


def _issued(journey: Journey) -> str:
    number, _ = journey.issue()
    return number


def test_my_licences_lists_the_licence_and_renewal_before_its_window_shows_the_engines_reason(
        journey: Journey, client: TestClient) -> None:
    number = _issued(journey)
    _as(client, ALICE)
    listing = client.get("/my-licences")
    assert listing.status_code == 200 and number in listing.text and TH["held_title"] in listing.text
    assert f'href="/api/v1/issued-licences/{number}/pdf"' in listing.text
    assert 'href="/my-licences"' in listing.text  # the applicant's menu entry
    page = client.get(f"/my-licences/{number}?lang=en")
    assert page.status_code == 200 and EN["held_renew"] in page.text and 'name="idempotency_key"' in page.text
    assert f'href="/applications/{journey.id}/licences/food_premises_notice_small/survey"' in page.text

    key = re.search(r'action="/my-licences/[^"]+/renewal\?lang=en"[^>]*>\s*<input type="hidden" '
                    r'name="idempotency_key" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    refused = _post(client, f"/my-licences/{number}/renewal?lang=en", {"note": "", "idempotency_key": key})
    assert refused.status_code == 409 and EN["error_summary"] in refused.text
    assert "renewal of licence" in refused.text and 'href="#renew-note"' in refused.text
    assert len(journey.client.get("/api/v1/applications", headers=journey.applicant).json()) == 1  # nothing new

    _as(client, BOB)
    assert client.get(f"/my-licences/{number}").status_code == 404
    assert number not in client.get("/my-licences").text
    assert _post(client, f"/my-licences/{number}/renewal", {"note": ""}).status_code == 404


def test_renewing_in_the_window_opens_the_request_once_and_goes_to_the_new_application(
        journey: Journey, client: TestClient, clock: Any) -> None:
    number = _issued(journey)
    clock.current = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)  # within 90 days of 30 Nov 2027
    _as(client, ALICE)
    form = {"note": "ต่ออายุตามปกติ", "idempotency_key": "renew-key-1"}
    first = _post(client, f"/my-licences/{number}/renewal", form)
    assert first.status_code == 303 and first.headers["location"].startswith("/applications/")
    second = _post(client, f"/my-licences/{number}/renewal", form)  # a resend: the same request
    assert second.status_code == 303 and second.headers["location"] == first.headers["location"]


def test_amending_needs_a_change_and_a_reason_and_cancelling_asks_to_confirm(journey: Journey,
                                                                             client: TestClient) -> None:
    number = _issued(journey)
    _as(client, ALICE)
    nothing = _post(client, f"/my-licences/{number}/amendment?lang=en", {"reason": "เปลี่ยนชื่อร้าน"})
    assert nothing.status_code == 400 and EN["amend_form_error"] in nothing.text
    assert 'href="#amend-business_name"' in nothing.text and "เปลี่ยนชื่อร้าน" in nothing.text  # kept
    short = _post(client, f"/my-licences/{number}/amendment?lang=en", {"business_name": "ใหม่", "reason": "x"})
    assert short.status_code == 400 and EN["amend_reason_error"] in short.text
    assert 'href="#amend-reason"' in short.text and 'aria-invalid="true"' in short.text
    same = _post(client, f"/my-licences/{number}/amendment?lang=en",
                 {"business_name": "ร้านข้าวมันไก่น้ำใจ", "reason": "ชื่อเดิม"})  # the engine: nothing changes
    assert same.status_code == 409 and "is already" in same.text and 'href="#amend-business_name"' in same.text
    amended = _post(client, f"/my-licences/{number}/amendment",
                    {"business_name": "ร้านข้าวมันไก่น้ำใจ สาขา 2", "reason": "เปลี่ยนชื่อร้าน",
                     "idempotency_key": "amend-1"})
    assert amended.status_code == 303 and amended.headers["location"].startswith("/applications/")

    second = _post(client, f"/my-licences/{number}/cancellation?lang=en", {"reason": "เลิกกิจการ"})
    assert second.status_code == 200 and EN["held_cancel_confirm_title"] in second.text  # first: confirm
    assert 'name="confirm" value="yes"' in second.text
    open_request = _post(client, f"/my-licences/{number}/cancellation?lang=en",
                         {"reason": "เลิกกิจการ", "confirm": "yes", "idempotency_key": "cancel-1"})
    assert open_request.status_code == 409 and EN["error_summary"] in open_request.text  # the amendment is open
    short = _post(client, f"/my-licences/{number}/cancellation", {"reason": "x"})
    assert short.status_code == 400 and TH["cancel_reason_error"] in short.text


def test_consents_list_and_withdraw_with_confirmation(journey: Journey, client: TestClient, auth: Auth) -> None:
    filed = client.post("/api/v1/applications", json=application_body(consent=COUNTER_CONSENT),
                        headers=journey.counter)
    assert filed.status_code == 201, filed.text
    _as(client, ALICE)
    assert EN["reps_none"] in client.get("/account/consents?lang=en").text
    authorised = client.post("/api/v1/companies/0105556123453/representatives", headers=journey.counter,
                             json={"id_number": ALICE_ID, "name": "สมหญิง ใจดี", "valid_until": "2028-12-31"})
    assert authorised.status_code == 201, authorised.text
    page = client.get("/account/consents?lang=en")
    assert page.status_code == 200 and EN["consent_state_in_force"] in page.text
    assert EN["reps_others"] % "0105556123453" in page.text and EN["reps_only_you"] in page.text
    assert EN["data_basis_verified_at_counter"] in page.text
    assert EN["consent_method_identity_checked_in_person"] in page.text
    (consent_id,) = set(re.findall(r'href="/account/consents/([0-9a-f-]{36})/withdraw"', page.text))
    confirm = client.get(f"/account/consents/{consent_id}/withdraw?lang=en")
    assert confirm.status_code == 200 and EN["consent_withdraw_title"] in confirm.text

    _as(client, BOB)
    assert client.get(f"/account/consents/{consent_id}/withdraw").status_code == 404
    assert _post(client, f"/account/consents/{consent_id}/withdraw").status_code == 404
    assert consent_id not in client.get("/account/consents").text

    _as(client, ALICE)
    done = _post(client, f"/account/consents/{consent_id}/withdraw?lang=en")
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert EN["consent_withdrawn_done"] in after and EN["consent_state_withdrawn"] in after
    assert f"/account/consents/{consent_id}/withdraw" not in after
    assert _post(client, f"/account/consents/{consent_id}/withdraw").status_code == 303  # twice: no error
    consents = client.get("/api/v1/consents", headers=journey.applicant).json()
    assert consents[0]["withdrawn_at"] is not None


def test_the_survey_waits_for_the_decision_checks_the_rating_and_is_answered_once(journey: Journey,
                                                                                  client: TestClient) -> None:
    invoice = _awaiting_payment(journey)
    survey = f"/applications/{journey.id}/licences/{invoice['licence']}/survey"
    _as(client, ALICE)
    early = client.get(survey + "?lang=en")
    assert early.status_code == 200 and EN["survey_not_decided"] in early.text and 'name="rating"' not in early.text
    too_early = _post(client, survey + "?lang=en", {"rating": "4"})
    assert too_early.status_code == 409 and "can be rated once it is decided" in too_early.text

    journey.pay()
    form = client.get(survey).text
    assert '<fieldset' in form and 'name="rating"' in form and TH["survey_question"] in form
    for bad in ("0", "6", "", "five"):
        refused = _post(client, survey, {"rating": bad, "comment": "ดีมาก"})
        assert refused.status_code == 400 and TH["survey_rating_error"] in refused.text, bad
        assert 'href="#survey-rating"' in refused.text and "ดีมาก" in refused.text  # the comment kept
    sent = _post(client, survey + "?lang=en", {"rating": "5", "comment": "รวดเร็วมาก"})
    assert sent.status_code == 303
    thanks = client.get(sent.headers["location"]).text
    assert EN["survey_thanks"] in thanks and "รวดเร็วมาก" in thanks and "5 out of 5" in thanks
    twice = _post(client, survey + "?lang=en", {"rating": "1"})
    assert twice.status_code == 409 and "rated already" in twice.text and "5 out of 5" in twice.text
    assert EN["survey_already"] in client.get(survey + "?lang=en").text

    _as(client, BOB)
    assert client.get(survey).status_code == 404
    _as(client, ALICE)
    assert client.get(f"/applications/{journey.id}/licences/no_such_licence/survey").status_code == 404


def test_my_data_shows_the_sections_and_downloads_the_whole_as_json(journey: Journey, client: TestClient) -> None:
    providers_configured(client)  # visitors are sent through sign-in
    number = _issued(journey)
    _as(client, ALICE)
    page = client.get("/account/data?lang=en")
    assert page.status_code == 200 and EN["data_title"] in page.text and number in page.text
    assert EN["data_applications"] in page.text and 'href="/account/data/download"' in page.text
    download = client.get("/account/data/download")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/json")
    assert download.headers["content-disposition"] == 'attachment; filename="bizportal-my-data-2026-12-01.json"'
    data = download.json()
    assert data["person"]["id_number"] == ALICE_ID and data["licences"][0]["number"] == number

    _as(client, Principal("olivia", Role.AGENCY_OFFICER, agency="LAO", name="Olivia"))  # staff: not their pages
    for path in ("/my-licences", "/account/consents", "/account/data", f"/my-licences/{number}"):
        refused = client.get(path)
        assert refused.status_code == 403 and TH["forbidden_title"] in refused.text, path
    assert 'href="/my-licences"' not in client.get("/").text  # nor their menu entry
    _as(client, ALICE)
    account = client.get("/account").text
    for link in ("/my-licences", "/account/consents", "/account/data"):
        assert f'href="{link}"' in account
    client.cookies.clear()
    assert client.get("/account/data", follow_redirects=False).status_code == 303
