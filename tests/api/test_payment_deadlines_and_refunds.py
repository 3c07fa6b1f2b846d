"""Payment deadlines, withdrawals and refunds over HTTP, on SQLite and PostgreSQL.

An unpaid invoice expires when its process's deadline timer fires; an applicant who withdraws before
the licence is issued gets the fee back: from Stripe (a real API call to the local Stripe server), or
owed by the agency for cash and PromptPay, recorded when an officer pays it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import select

from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
from bizportal.adapters.payments.stripe_provider import sign_webhook
from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.database import transaction
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.object_store import ObjectStoreUnavailable
from support.fake_stripe import API_KEY, FakeStripeState, start_fake_stripe
from support.helpers import LICENCE, OFFICE, VALID_IDS, Auth, Journey

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
WEBHOOK_SECRET = "whsec_test_" + "w" * 32


class DownStore:
    """An object store that refuses every write, as when MinIO is down: issuing waits."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def put(self, data: bytes, content_type: str) -> object:
        raise ObjectStoreUnavailable("object store down (test)")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _approve(journey: Journey, **body: Any) -> dict[str, Any]:
    journey.create(**body)
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    return journey.view()["invoices"][0]


def test_an_unpaid_invoice_expires_at_its_deadline(journey: Journey, client: TestClient, engine: LicensingEngine,
                                                   clock: Any) -> None:
    applicant = {"kind": "individual", "id_number": VALID_IDS[0], "name": "สมหญิง ใจดี", "email": "somying@example.co.th"}
    invoice = _approve(journey, applicant=applicant)
    assert invoice["status"] == "open" and invoice["due_at"] == "2027-01-04T16:59:59Z"

    clock.advance(days=33)  # 3 Jan 2027: a Sunday before the deadline
    assert engine.fire_due_timers_and_notices() == 0
    clock.advance(days=2)
    assert engine.fire_due_timers_and_notices() >= 1
    assert engine.fire_due_timers_and_notices() == 0  # fired once

    view = journey.view()
    assert view["status"] == "payment_expired" and view["licences"][0]["status"] == "payment_expired"
    assert view["invoices"][0]["status"] == "expired"
    assert "invoice.expired" in [e["event"] for e in view["timeline"]]
    late = journey.pay()
    assert late.status_code == 409 and "deadline" in late.json()["error"]["hint"]
    assert journey.open_tasks(journey.officer) == []
    log = client.get(f"/api/v1/applications/{journey.id}/notifications", headers=journey.applicant).json()
    events = [entry["event"] for entry in log]
    assert "payment_due" in events and events[-1] == "payment_expired"  # the fee-due mail gave the pay-by date


def test_withdrawing_before_payment_cancels_the_invoice(journey: Journey, client: TestClient, auth: Auth) -> None:
    _approve(journey)
    url = f"/api/v1/applications/{journey.id}/withdrawal"
    assert client.post(url, json={"reason": "changed plans"}, headers=auth("applicant", "mallory")).status_code == 404
    assert client.post(url, json={"reason": "changed plans"}, headers=journey.officer).status_code == 403
    bad = client.post(url, json={"reason": "x", "licences": ["no_such_licence"]}, headers=journey.applicant)
    assert bad.status_code == 422 and "reason" in bad.text
    unknown = client.post(url, json={"reason": "changed plans", "licences": ["no_such_licence"]},
                          headers=journey.applicant)
    assert unknown.status_code == 422 and LICENCE in unknown.json()["error"]["hint"]

    withdrawn = client.post(url, json={"reason": "changed plans"}, headers=journey.applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    view = withdrawn.json()
    assert view["status"] == "cancelled" and view["invoices"][0]["status"] == "cancelled"
    events = [e["event"] for e in view["timeline"]]
    assert "invoice.cancelled" in events and "application.withdrawn" in events
    assert journey.pay().status_code == 409
    again = client.post(url, json={"reason": "changed plans"}, headers=journey.applicant)
    assert again.status_code == 409
    assert client.get(f"/api/v1/applications/{journey.id}/refunds", headers=journey.applicant).json() == []


def test_withdrawing_while_in_consideration_ends_the_officers_task(journey: Journey, client: TestClient) -> None:
    journey.create()
    journey.submit()
    assert journey.open_tasks(journey.officer)
    response = client.post(f"/api/v1/applications/{journey.id}/withdrawal", json={"reason": "found another site"},
                           headers=journey.applicant)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert journey.open_tasks(journey.officer) == []


def test_withdrawing_after_cash_payment_leaves_a_refund_the_counter_pays_out(
        journey: Journey, client: TestClient, engine: LicensingEngine, auth: Auth, clock: Any) -> None:
    invoice = _approve(journey)
    engine.ctx.object_store = DownStore(engine.ctx.object_store)  # type: ignore[assignment]
    assert journey.pay().status_code == 200
    assert journey.view()["status"] == "issuing"

    withdrawn = client.post(f"/api/v1/applications/{journey.id}/withdrawal", json={"reason": "closing down"},
                            headers=journey.applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["invoices"][0]["status"] == "refunded"
    (refund,) = client.get(f"/api/v1/applications/{journey.id}/refunds", headers=journey.applicant).json()
    assert refund["state"] == "owed" and refund["provider"] == "counter"
    assert refund["amount_satang"] == invoice["amount_satang"] and refund["invoice_id"] == invoice["id"]

    # The object store comes back: the queued issuing finds the case withdrawn and issues nothing.
    engine.ctx.object_store = engine.ctx.object_store.inner  # type: ignore[attr-defined]
    clock.advance(minutes=10)
    engine.dispatch()
    assert journey.view()["status"] == "cancelled"
    with transaction(engine.db) as session:
        assert session.exec(select(IssuedLicenceRow)).all() == []

    url = f"/api/v1/refunds/{refund['id']}/paid-out"
    assert client.post(url, json={"note": "cash"}, headers=journey.applicant).status_code == 403
    assert client.post(url, json={"note": "x"}, headers=journey.counter).status_code == 422
    paid_out = client.post(url, json={"note": "cash returned at the counter"}, headers=journey.counter)
    assert paid_out.status_code == 200 and paid_out.json()["state"] == "refunded"
    assert client.post(url, json={"note": "cash returned again"}, headers=journey.counter).status_code == 409
    assert client.get(f"/api/v1/applications/{journey.id}/refunds",
                      headers=auth("applicant", "mallory")).status_code == 404


# -- Stripe end to end, against the local Stripe-compatible server ---------------------------------------


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[tuple[str, FakeStripeState]]:
    base_url, state, stop = start_fake_stripe()
    yield base_url, state
    stop()


@pytest.fixture
def stripe_app(settings: Any, clock: Any, fake_stripe: tuple[str, FakeStripeState],
               auth: Auth) -> tuple[TestClient, LicensingEngine, Journey]:
    base_url, _ = fake_stripe
    configured = settings.model_copy(update={"stripe_secret_key": SecretStr(API_KEY),
                                             "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
                                             "stripe_api_base": base_url})
    engine = engine_from(configured, clock=clock)
    client = TestClient(create_app(configured, engine=engine))
    journey = Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                      auth("counter_officer", "carl"))
    return client, engine, journey


def _stripe_succeeded(client: TestClient, state: FakeStripeState, intent_id: str, clock: Any) -> Any:
    """The customer pays; Stripe then POSTs a signed `payment_intent.succeeded` event to us."""
    intent = state.succeed(intent_id)
    event = {"id": f"evt_{intent_id}", "object": "event", "type": "payment_intent.succeeded", "livemode": False,
             "created": int(clock.now().timestamp()), "api_version": "2024-06-20", "data": {"object": intent}}
    body = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign_webhook(body, WEBHOOK_SECRET, int(clock.now().timestamp())),
               "Content-Type": "application/json"}
    return client.post("/api/v1/payments/webhooks/stripe", content=body, headers=headers)


def test_a_stripe_payment_end_to_end_issues_the_licence(stripe_app: tuple[TestClient, LicensingEngine, Journey],
                                                        fake_stripe: tuple[str, FakeStripeState], clock: Any) -> None:
    client, _portal, journey = stripe_app
    _, state = fake_stripe
    invoice = _approve(journey)
    started = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "stripe"},
                          headers=journey.applicant)
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["client_secret"].startswith(payment["provider_reference"])
    intent = state.intents[payment["provider_reference"]]
    assert int(intent["amount"]) == invoice["amount_satang"] and intent["currency"] == "thb"

    applied = _stripe_succeeded(client, state, payment["provider_reference"], clock)
    assert applied.status_code == 200 and applied.json() == {"outcome": "applied"}
    view = journey.view()
    assert view["status"] == "issued" and view["invoices"][0]["status"] == "paid"
    again = _stripe_succeeded(client, state, payment["provider_reference"], clock)
    assert again.json() == {"outcome": "duplicate:applied"}  # Stripe retries: nothing changes


def test_withdrawing_after_a_stripe_payment_refunds_it_through_stripe(
        stripe_app: tuple[TestClient, LicensingEngine, Journey], fake_stripe: tuple[str, FakeStripeState],
        clock: Any) -> None:
    client, engine, journey = stripe_app
    _, state = fake_stripe
    invoice = _approve(journey)
    payment = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "stripe"},
                          headers=journey.applicant).json()
    engine.ctx.object_store = DownStore(engine.ctx.object_store)  # type: ignore[assignment]
    assert _stripe_succeeded(client, state, payment["provider_reference"], clock).json() == {"outcome": "applied"}
    assert journey.view()["status"] == "issuing"

    withdrawn = client.post(f"/api/v1/applications/{journey.id}/withdrawal", json={"reason": "closing down"},
                            headers=journey.applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    (refund,) = client.get(f"/api/v1/applications/{journey.id}/refunds", headers=journey.applicant).json()
    assert refund["state"] == "refunded" and refund["provider"] == "stripe"
    stripe_refund = state.refunds[refund["provider_reference"]]
    assert stripe_refund["payment_intent"] == payment["provider_reference"]
    assert int(stripe_refund["amount"]) == invoice["amount_satang"]
    keys = [c["idempotency_key"] for c in state.calls if c["path"] == "/v1/refunds"]
    assert keys.count(f"refund-{refund['id']}") == 1  # the refund's id is the idempotency key, asked once


def test_a_payment_arriving_after_the_deadline_is_refunded(
        stripe_app: tuple[TestClient, LicensingEngine, Journey], fake_stripe: tuple[str, FakeStripeState],
        clock: Any) -> None:
    client, engine, journey = stripe_app
    _, state = fake_stripe
    invoice = _approve(journey)
    payment = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "stripe"},
                          headers=journey.applicant).json()
    clock.advance(days=40)
    engine.fire_due_timers_and_notices()
    assert journey.view()["invoices"][0]["status"] == "expired"

    late = _stripe_succeeded(client, state, payment["provider_reference"], clock)
    assert late.json() == {"outcome": "duplicate_payment"}  # not applied: charged back in full
    assert journey.view()["status"] == "payment_expired"
    assert any(r["payment_intent"] == payment["provider_reference"] for r in state.refunds.values())
    (refund,) = client.get(f"/api/v1/applications/{journey.id}/refunds", headers=journey.applicant).json()
    assert refund["state"] == "refunded" and "expired" in refund["reason"]


def test_a_refusal_by_stripe_is_a_502_with_its_reason(stripe_app: tuple[TestClient, LicensingEngine, Journey],
                                                      fake_stripe: tuple[str, FakeStripeState]) -> None:
    client, _portal, journey = stripe_app
    _, state = fake_stripe
    invoice = _approve(journey)
    state.answer_next(400, "Unexpected description")  # as localstripe answers some descriptions
    refused = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "stripe"},
                          headers=journey.applicant)
    assert refused.status_code == 502, refused.text
    error = refused.json()["error"]
    assert error["code"] == "ProviderRefused" and "Unexpected description" in error["message"]
    assert "counter" in error["hint"]
    assert journey.view()["invoices"][0]["status"] == "open"  # nothing recorded: paying again works
    assert client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "stripe"},
                       headers=journey.applicant).status_code == 201


# -- PromptPay: no refund API, so a refund is owed by the agency ------------------------------------


def test_a_promptpay_payment_after_a_withdrawal_is_an_owed_refund(settings: Any, clock: Any, auth: Auth) -> None:
    secret = "bank-webhook-secret-0123456789"
    configured = settings.model_copy(update={"promptpay_id": "0812345678",
                                             "promptpay_webhook_secret": SecretStr(secret)})
    engine = engine_from(configured, clock=clock)
    with TestClient(create_app(configured, engine=engine)) as client:
        journey = Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                          auth("counter_officer", "carl"))
        invoice = _approve(journey)
        qr = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "promptpay"},
                         headers=journey.applicant).json()
        assert client.post(f"/api/v1/applications/{journey.id}/withdrawal", json={"reason": "closing down"},
                           headers=journey.applicant).status_code == 200
        refunds_url = f"/api/v1/applications/{journey.id}/refunds"
        assert client.get(refunds_url, headers=journey.applicant).json() == []  # the invoice was only cancelled

        # The payer scanned the QR before withdrawing; the bank's notification arrives afterwards.
        timestamp = int(clock.now().timestamp())
        body = json.dumps({"event_id": "bank-late-1", "transaction_id": "T9", "ref1": qr["reference"],
                           "amount": f"{invoice['amount_satang'] / 100:.2f}", "currency": "764",
                           "paid_at": clock.now().isoformat()}).encode()
        headers = {"X-Bank-Timestamp": str(timestamp),
                   "X-Bank-Signature": sign_bank_notification(secret, timestamp, body)}
        late = client.post("/api/v1/payments/webhooks/promptpay", content=body, headers=headers)
        assert late.json() == {"outcome": "duplicate_payment"}  # not applied: the money goes back

        (refund,) = client.get(refunds_url, headers=journey.applicant).json()
        assert (refund["state"], refund["provider"], refund["invoice_id"], refund["amount_satang"]) == (
            "owed", "promptpay", invoice["id"], invoice["amount_satang"])
        assert "withdrawn" in refund["reason"]
        assert journey.view()["invoices"][0]["status"] == "cancelled"
        paid_out = client.post(f"/api/v1/refunds/{refund['id']}/paid-out",
                               json={"note": "bank transfer BT-0001 back to the payer"}, headers=journey.officer)
        assert paid_out.status_code == 200 and paid_out.json()["state"] == "refunded"
        events = [e["event"] for e in journey.view()["timeline"]]
        assert {"refund.requested", "refund.owed", "refund.paid_out"} <= set(events)
    engine.db.dispose()
