"""Paying online: one payment for several licences, each provider event applied once, no double charge."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.outbox import InProcessQueue
from bizportal.engine.payments.providers import PaymentProviders
from support.helpers import LICENCE, OFFICE, Journey
from support.recording_provider import SECRET, RecordingProvider

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
FITNESS = "hh_fitness"


class HeldQueue:
    """A job queue that runs nothing until released: shows what a webhook's own transaction did."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def submit(self, outbox_ids: list[str]) -> None:
        self.held += outbox_ids

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def provider(engine: LicensingEngine) -> RecordingProvider:
    recording = RecordingProvider()
    engine.ctx.payments = PaymentProviders({"testpay": recording})  # the refund job reads them from the context
    return recording


def _notify(client: TestClient, event: dict[str, Any], secret: bytes = SECRET) -> Any:
    body = json.dumps(event).encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return client.post("/api/v1/payments/webhooks/testpay", content=body, headers={"X-Test-Signature": signature})


def _approved(journey: Journey) -> dict[str, Any]:
    journey.create(licences=[LICENCE, FITNESS])
    journey.submit()
    view = journey.approve_until_payment(journey.officer)
    assert {item["status"] for item in view["licences"]} == {"awaiting_payment"}
    return view


def test_one_payment_settles_every_licence(journey: Journey, client: TestClient, provider: RecordingProvider) -> None:
    view = _approved(journey)
    total = sum(i["amount_satang"] for i in view["invoices"])
    started = client.post(f"/api/v1/applications/{journey.id}/payments", json={"provider": "testpay"},
                          headers=journey.applicant)
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["amount_satang"] == total and payment["client_secret"]
    assert provider.created[0].payment_id == payment["payment_id"]  # our id is the idempotency key

    event = {"id": "evt_1", "kind": "succeeded", "reference": payment["provider_reference"], "amount": total,
             "currency": "THB"}
    assert _notify(client, event).json() == {"outcome": "applied"}
    after = journey.view()
    assert after["status"] == "issued" and {i["status"] for i in after["invoices"]} == {"paid"}
    assert _notify(client, event).json() == {"outcome": "duplicate:applied"}  # a second delivery changes nothing
    assert journey.view()["timeline"] == after["timeline"]


def test_bad_signatures_and_wrong_amounts_change_nothing(journey: Journey, client: TestClient,
                                                         provider: RecordingProvider) -> None:
    view = _approved(journey)
    invoice = view["invoices"][0]
    payment = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"},
                          headers=journey.applicant).json()
    event = {"id": "evt_9", "kind": "succeeded", "reference": payment["provider_reference"],
             "amount": invoice["amount_satang"], "currency": "THB"}
    assert _notify(client, event, secret=b"forged").status_code == 401
    assert _notify(client, {**event, "id": "evt_10", "amount": 1}).json() == {"outcome": "amount_mismatch"}
    assert _notify(client, {**event, "id": "evt_11", "currency": "USD"}).json() == {"outcome": "amount_mismatch"}
    assert {i["status"] for i in journey.view()["invoices"]} == {"open"}
    mismatches = [e for e in journey.view()["timeline"] if e["event"] == "payment.amount_mismatch"]
    assert len(mismatches) == 2


def test_two_payments_racing_for_an_invoice_charge_once(journey: Journey, client: TestClient, engine: LicensingEngine,
                                                        provider: RecordingProvider) -> None:
    view = _approved(journey)
    invoice = view["invoices"][0]
    first, second = (client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"},
                                 headers=journey.applicant).json() for _ in range(2))
    held = HeldQueue()
    engine.queue = held
    for n, payment in enumerate((first, second)):
        event = {"id": f"evt_race_{n}", "kind": "succeeded", "reference": payment["provider_reference"],
                 "amount": invoice["amount_satang"], "currency": "THB"}
        assert _notify(client, event).json() == {"outcome": "applied" if n == 0 else "duplicate_payment"}
    # The webhook's transaction recorded the refund; the provider was not asked inside it.
    assert provider.refunds == []
    refunds_url = f"/api/v1/applications/{journey.id}/refunds"
    (refund,) = client.get(refunds_url, headers=journey.applicant).json()
    assert (refund["state"], refund["provider"], refund["invoice_id"], refund["amount_satang"]) == (
        "requested", "testpay", invoice["id"], invoice["amount_satang"])
    assert "already paid by another payment" in refund["reason"]

    for outbox_id in held.held:  # after commit, the jobs run
        engine.outbox.run_job(outbox_id)
    assert provider.refunds == [(second["provider_reference"], invoice["amount_satang"], f"refund-{refund['id']}")]
    (refunded,) = client.get(refunds_url, headers=journey.applicant).json()
    assert (refunded["state"], refunded["provider_reference"]) == ("refunded", "re_1")
    paid = [i for i in journey.view()["invoices"] if i["id"] == invoice["id"]][0]
    assert paid["status"] == "paid"


def test_a_refund_waits_out_a_provider_outage(journey: Journey, client: TestClient, engine: LicensingEngine,
                                              provider: RecordingProvider) -> None:
    invoice = _approved(journey)["invoices"][0]
    first, second = (client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"},
                                 headers=journey.applicant).json() for _ in range(2))
    held = HeldQueue()
    engine.queue = held
    for n, payment in enumerate((first, second)):
        _notify(client, {"id": f"evt_down_{n}", "kind": "succeeded", "reference": payment["provider_reference"],
                         "amount": invoice["amount_satang"], "currency": "THB"})
    provider.down_for = 1
    assert [engine.outbox.run_job(outbox_id) for outbox_id in held.held].count(False) == 1
    refunds_url = f"/api/v1/applications/{journey.id}/refunds"
    (refund,) = client.get(refunds_url, headers=journey.applicant).json()
    assert refund["state"] == "requested"  # not given up as owed: the outbox tries again
    engine.queue = InProcessQueue(engine.outbox)
    engine.ctx.clock.advance(seconds=5)  # type: ignore[attr-defined]
    engine.dispatch()
    (refunded,) = client.get(refunds_url, headers=journey.applicant).json()
    assert refunded["state"] == "refunded" and len(provider.refunds) == 1


def test_paying_needs_open_invoices_of_ones_own_application(journey: Journey, client: TestClient, auth: Any,
                                                            provider: RecordingProvider) -> None:
    journey.create()
    journey.submit()
    url = f"/api/v1/applications/{journey.id}/payments"
    assert client.post(url, json={"provider": "testpay"}, headers=journey.applicant).status_code == 409
    assert client.post(url, json={"provider": "testpay"}, headers=auth("applicant", "mallory")).status_code == 404
    unknown = client.post(url, json={"provider": "bitcoin"}, headers=journey.applicant)
    assert unknown.status_code == 404 and "testpay" in unknown.json()["error"]["hint"]


def test_an_invoice_id_with_a_control_character_is_a_422(client: TestClient, auth: Any) -> None:
    """Found by the OpenAPI contract test: the id went unchecked into PaymentStart, whose rules refused it
    inside the handler (a 500)."""
    response = client.post("/api/v1/invoices/inv%14oice/payments", json={"provider": "testpay"},
                           headers=auth("applicant", "alice"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "path.invoice_id"


def test_promptpay_qr_then_the_banks_notification_issues_the_licence(settings: Any, clock: Any, auth: Any) -> None:
    from pydantic import SecretStr

    from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
    from bizportal.adapters.payments.thai_qr import crc_is_valid
    from bizportal.api.app import create_app
    from bizportal.api.composition import engine_from

    secret = "bank-webhook-secret-0123456789"
    configured = settings.model_copy(update={"promptpay_id": "0812345678",
                                             "promptpay_webhook_secret": SecretStr(secret)})
    client = TestClient(create_app(configured, engine=engine_from(configured, clock=clock)))
    assert client.get("/api/v1/payments/providers").json() == {"providers": ["promptpay", "stripe"]}
    journey = Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                      auth("counter_officer", "carl"))
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    invoice = journey.view()["invoices"][0]
    qr = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "promptpay"},
                     headers=journey.applicant).json()
    assert crc_is_valid(qr["qr_payload"]) and "5303764" in qr["qr_payload"] and "5406500.00" in qr["qr_payload"]
    assert qr["qr_png_base64"]

    timestamp = int(clock.now().timestamp())
    body = json.dumps({"event_id": "bank-1", "transaction_id": "T1", "ref1": qr["reference"], "amount": "500.00",
                       "currency": "764", "paid_at": clock.now().isoformat()}).encode()
    headers = {"X-Bank-Timestamp": str(timestamp),
               "X-Bank-Signature": sign_bank_notification(secret, timestamp, body)}
    assert client.post("/api/v1/payments/webhooks/promptpay", content=body, headers=headers).json() == {
        "outcome": "applied"}
    assert journey.view()["status"] == "issued"
    stripe = client.post(f"/api/v1/applications/{journey.id}/payments", json={"provider": "stripe"},
                         headers=journey.applicant)
    assert stripe.status_code == 409  # nothing left to pay


def test_stripe_without_a_key_says_so(journey: Journey, client: TestClient) -> None:
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    response = client.post(f"/api/v1/applications/{journey.id}/payments", json={"provider": "stripe"},
                           headers=journey.applicant)
    message = response.json()["error"]["message"]
    assert response.status_code == 503 and "not configured" in message and "BIZPORTAL_" not in message  # L9
    assert journey.view()["invoices"][0]["status"] == "open"
