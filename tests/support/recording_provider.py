"""A payment provider that speaks the contract in-process: records what it is asked, signs its notifications
with HMAC as real providers do, and can be made to fail refunds as an outage."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bizportal.adapters.payments.base import (
    InvalidWebhook,
    PaymentEvent,
    PaymentInstructions,
    PaymentRequest,
    ProviderUnavailable,
)

SECRET = b"test-provider-secret"


class RecordingProvider:
    """A provider speaking the contract, signing its notifications like real ones do (HMAC)."""

    name = "testpay"

    def __init__(self) -> None:
        self.created: list[PaymentRequest] = []
        self.refunds: list[tuple[str, int, str]] = []
        self.down_for = 0  # how many refund calls fail as an outage before it answers again

    def create(self, request: PaymentRequest) -> PaymentInstructions:
        self.created.append(request)
        return PaymentInstructions(provider=self.name, provider_reference=f"tp_{request.payment_id}",
                                   client_secret=f"tp_{request.payment_id}_secret")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> PaymentEvent:
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-test-signature", ""), expected):
            raise InvalidWebhook("signature mismatch")
        data = json.loads(body)
        return PaymentEvent(provider=self.name, event_id=data["id"], kind=data["kind"],
                            provider_reference=data["reference"], amount_satang=data["amount"],
                            currency=data["currency"], occurred_at=now, raw_type=data["kind"])

    def refund(self, provider_reference: str, amount_satang: int, idempotency_key: str) -> str:
        if self.down_for:
            self.down_for -= 1
            raise ProviderUnavailable("testpay is down")
        self.refunds.append((provider_reference, amount_satang, idempotency_key))
        return f"re_{len(self.refunds)}"


def notify_succeeded(client: Any, payment: Mapping[str, Any], event_id: str = "evt_1") -> Any:
    """The provider's signed notification that `payment` (as POST .../payments answered it) succeeded in full."""
    body = json.dumps({"id": event_id, "kind": "succeeded", "reference": payment["provider_reference"],
                       "amount": payment["amount_satang"], "currency": "THB"}).encode()
    signature = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return client.post("/api/v1/payments/webhooks/testpay", content=body, headers={"X-Test-Signature": signature})
