"""Two payments racing for one invoice, in threads: cash at the counter against the provider's notification, and
one notification delivered twice at the same moment. On PostgreSQL the requests really overlap (SQLite writes one
transaction at a time, so there they queue). Whatever wins, the invoice keeps one charge, the other is refunded,
one licence and one receipt are issued, and every invariant holds after all the rounds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.payments.providers import PaymentProviders
from support.helpers import Journey
from support.invariants import assert_consistent, rounds
from support.recording_provider import SECRET, RecordingProvider

pytestmark = pytest.mark.chaos
ROUNDS = rounds(bounded=5)  # 20 in `make chaos`


@pytest.fixture
def provider(engine: LicensingEngine) -> RecordingProvider:
    recording = RecordingProvider()
    engine.ctx.payments = PaymentProviders({"testpay": recording})
    return recording


def _notify(client: TestClient, payment: dict[str, Any], event_id: str) -> Any:
    body = json.dumps({"id": event_id, "kind": "succeeded", "reference": payment["provider_reference"],
                       "amount": payment["amount_satang"], "currency": "THB"}).encode()
    signature = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return client.post("/api/v1/payments/webhooks/testpay", content=body, headers={"X-Test-Signature": signature})


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _awaiting_payment(journey: Journey, client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new application approved up to its fee, and an online payment started for its invoice."""
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    invoice: dict[str, Any] = journey.view()["invoices"][0]
    payment = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"},
                          headers=journey.applicant)
    assert payment.status_code == 201, payment.text
    return invoice, payment.json()


def test_cash_and_an_online_payment_at_once_charge_once(journey: Journey, client: TestClient,
                                                        engine: LicensingEngine, provider: RecordingProvider) -> None:
    winners = set()
    for n in range(ROUNDS):
        invoice, payment = _awaiting_payment(journey, client)
        cash, online = _at_once(journey.pay, partial(_notify, client, payment, f"evt_{n}"))
        assert online.status_code == 200, online.text
        outcome = online.json()["outcome"]
        if cash.status_code == 200:  # the counter won: the online payment is refunded in full
            assert outcome == "duplicate_payment", (n, outcome)
            assert provider.refunds[-1][:2] == (payment["provider_reference"], invoice["amount_satang"])
            winners.add("counter")
        else:  # the notification won: the cashier is told, nothing is recorded at the counter
            assert cash.status_code == 409 and outcome == "applied", (n, cash.text, outcome)
            winners.add("online")
        view = journey.view()
        assert view["status"] == "issued" and view["invoices"][0]["status"] == "paid", (n, view["status"])
    print(f"winners over {ROUNDS} rounds: {sorted(winners)}")  # which side wins is the scheduler's: both are checked
    assert_consistent(engine)


def test_one_notification_delivered_twice_at_once_is_applied_once(journey: Journey, client: TestClient,
                                                                  engine: LicensingEngine,
                                                                  provider: RecordingProvider) -> None:
    for n in range(max(ROUNDS // 4, 2)):
        _, payment = _awaiting_payment(journey, client)
        twice = partial(_notify, client, payment, f"evt_twice_{n}")
        first, second = _at_once(twice, twice)
        assert sorted(r.json()["outcome"] for r in (first, second)) == ["applied", "duplicate:applied"], n
        assert journey.view()["status"] == "issued"
    assert provider.refunds == []
    assert_consistent(engine)
