"""Payment webhooks delivered twice, out of order and late: the money is applied once or refunded, never lost.

A provider retries a notification until it is acknowledged (so it comes twice, or more), does not promise any
order (a failure or a refund may arrive before the success it follows or precedes), and may report a payment
after its invoice was paid at a counter or expired. Each test ends with every invariant holding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.payments.providers import PaymentProviders
from support.clock import MovableClock
from support.helpers import Journey
from support.invariants import assert_consistent
from support.recording_provider import SECRET, RecordingProvider

pytestmark = pytest.mark.chaos


@pytest.fixture
def provider(engine: LicensingEngine) -> RecordingProvider:
    recording = RecordingProvider()
    engine.ctx.payments = PaymentProviders({"testpay": recording})
    return recording


def _notify(client: TestClient, kind: str, payment: dict[str, Any], event_id: str) -> str:
    body = json.dumps({"id": event_id, "kind": kind, "reference": payment["provider_reference"],
                       "amount": payment["amount_satang"], "currency": "THB"}).encode()
    signature = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    response = client.post("/api/v1/payments/webhooks/testpay", content=body, headers={"X-Test-Signature": signature})
    assert response.status_code == 200, response.text
    outcome: str = response.json()["outcome"]
    return outcome


def _awaiting_payment(journey: Journey) -> dict[str, Any]:
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    invoice: dict[str, Any] = journey.view()["invoices"][0]
    return invoice


def _start(client: TestClient, journey: Journey, invoice: dict[str, Any]) -> dict[str, Any]:
    started = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"},
                          headers=journey.applicant)
    assert started.status_code == 201, started.text
    payment: dict[str, Any] = started.json()
    return payment


def _receipts(client: TestClient, journey: Journey) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/applications/{journey.id}/receipts", headers=journey.applicant)
    assert response.status_code == 200, response.text
    receipts: list[dict[str, Any]] = response.json()
    return receipts


def _refunds(client: TestClient, journey: Journey) -> list[dict[str, Any]]:
    refunds: list[dict[str, Any]] = client.get(f"/api/v1/applications/{journey.id}/refunds",
                                               headers=journey.applicant).json()
    return refunds


def test_a_success_delivered_three_times_issues_one_licence(journey: Journey, client: TestClient,
                                                            engine: LicensingEngine,
                                                            provider: RecordingProvider) -> None:
    payment = _start(client, journey, _awaiting_payment(journey))
    outcomes = [_notify(client, "succeeded", payment, "evt_1") for _ in range(3)]
    assert outcomes == ["applied", "duplicate:applied", "duplicate:applied"]
    view = journey.view()
    assert view["status"] == "issued" and len(_receipts(client, journey)) == 1
    assert [e["event"] for e in view["timeline"]].count("licence.issued") == 1
    assert_consistent(engine)


def test_a_failure_before_the_success_does_not_lose_the_money(journey: Journey, client: TestClient,
                                                               engine: LicensingEngine,
                                                               provider: RecordingProvider) -> None:
    """A declined card, then the payer's second card: the failure's event first, then the success's. The success
    was answered `already_settled` and dropped: the money taken, the licence never issued."""
    payment = _start(client, journey, _awaiting_payment(journey))
    assert _notify(client, "failed", payment, "evt_declined") == "recorded"
    assert _notify(client, "succeeded", payment, "evt_paid") == "applied"
    assert journey.view()["status"] == "issued"
    assert _notify(client, "failed", payment, "evt_declined_again") == "recorded"  # late: undoes nothing
    assert journey.view()["status"] == "issued"
    assert_consistent(engine)


def test_a_refund_reported_before_the_success_settles_nothing(journey: Journey, client: TestClient,
                                                               engine: LicensingEngine,
                                                               provider: RecordingProvider) -> None:
    """Refunded at the provider before the success reached us: the success, when it comes, issues nothing and the
    invoice stays open for the payer to pay again."""
    invoice = _awaiting_payment(journey)
    payment = _start(client, journey, invoice)
    assert _notify(client, "refunded", payment, "evt_refund") == "recorded"
    assert _notify(client, "succeeded", payment, "evt_paid") == "already_settled"
    view = journey.view()
    assert view["status"] == "awaiting_payment" and view["invoices"][0]["status"] == "open"
    assert "payment.refunded_by_provider" in [e["event"] for e in view["timeline"]]
    assert_consistent(engine)
    again = _start(client, journey, invoice)
    assert again["payment_id"] != payment["payment_id"]
    assert _notify(client, "succeeded", again, "evt_paid_again") == "applied"
    assert journey.view()["status"] == "issued"
    assert_consistent(engine)


def test_a_success_after_the_counter_took_cash_is_refunded(journey: Journey, client: TestClient,
                                                            engine: LicensingEngine,
                                                            provider: RecordingProvider) -> None:
    invoice = _awaiting_payment(journey)
    payment = _start(client, journey, invoice)
    assert journey.pay().status_code == 200  # the applicant paid cash too
    assert _notify(client, "succeeded", payment, "evt_late") == "duplicate_payment"
    assert _notify(client, "succeeded", payment, "evt_late") == "duplicate:duplicate_payment"
    (refund,) = _refunds(client, journey)
    assert (refund["state"], refund["invoice_id"]) == ("refunded", invoice["id"])
    assert provider.refunds == [(payment["provider_reference"], invoice["amount_satang"], f"refund-{refund['id']}")]
    assert journey.view()["status"] == "issued" and len(_receipts(client, journey)) == 1  # the cash's
    assert_consistent(engine)


def test_a_success_after_the_invoice_expired_is_refunded(journey: Journey, client: TestClient,
                                                          engine: LicensingEngine, provider: RecordingProvider,
                                                          clock: MovableClock) -> None:
    invoice = _awaiting_payment(journey)
    payment = _start(client, journey, invoice)
    clock.advance(days=40)
    engine.fire_due_timers_and_notices()
    assert journey.view()["invoices"][0]["status"] == "expired"
    assert _notify(client, "succeeded", payment, "evt_after_deadline") == "duplicate_payment"
    (refund,) = _refunds(client, journey)
    assert refund["state"] == "refunded" and "expired" in refund["reason"]
    assert journey.view()["status"] == "payment_expired" and _receipts(client, journey) == []
    assert_consistent(engine)
