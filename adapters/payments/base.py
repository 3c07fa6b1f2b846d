"""The payment-provider contract: Stripe, PromptPay / Thai QR, and cash at a counter plug in behind it.

Providers register through the entry-point group `bizportal.payments`. Money is integer satang.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class PaymentError(Exception):
    """Root of the providers' errors. Raised as itself: the provider answered and refused the request (a 4xx);
    the message carries the provider's reason (the API answers 502 with it)."""


class ProviderUnavailable(PaymentError):
    """The provider is not configured, cannot be reached, or fails (5xx): the API answers 503; try again later."""


class InvalidWebhook(PaymentError):
    """A webhook whose signature, timestamp or body does not verify (the API answers 400/401; nothing changes)."""


class PaymentRequest(BaseModel):
    """What the platform asks a provider to collect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payment_id: str = Field(description="our id: the idempotency key of every call about this payment")
    reference: str = Field(max_length=20, pattern=r"^[A-Z0-9]+$",
                           description="short reference shown to payers and used to reconcile (e.g. in Thai QR ref1)")
    amount_satang: int = Field(gt=0)
    currency: Literal["THB"] = "THB"
    description: str = Field(max_length=200)
    invoice_ids: list[str] = Field(min_length=1, description="one payment may settle several invoices")


class PaymentInstructions(BaseModel):
    """What the payer needs: a Stripe client secret, or a Thai QR payload and image."""

    provider: str
    provider_reference: str = Field(description="the provider's id for this payment (PaymentIntent id, QR ref)")
    client_secret: str | None = None
    qr_payload: str | None = None
    qr_png_base64: str | None = None
    expires_at: datetime | None = None


class PaymentEvent(BaseModel):
    """A verified notification from a provider, ready to apply once (unique on provider + event_id)."""

    provider: str
    event_id: str
    kind: Literal["succeeded", "failed", "refunded", "other"]
    provider_reference: str
    reference: str | None = None
    amount_satang: int
    currency: str
    occurred_at: datetime
    raw_type: str = Field(description="the provider's own event type, for the record")


class PaymentProvider(Protocol):
    name: str

    def create(self, request: PaymentRequest) -> PaymentInstructions:
        """Start collecting a payment.

        Args:
            request: amount, reference and our payment id (sent as the idempotency key).
        Returns:
            The instructions for the payer.
        Raises:
            ProviderUnavailable: not configured or unreachable.
            PaymentError: the provider refused the request.
        """
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> PaymentEvent:
        """Verify a provider notification and turn it into a PaymentEvent.

        Raises:
            InvalidWebhook: bad signature, stale timestamp or malformed body.
        """
        ...

    def refund(self, provider_reference: str, amount_satang: int, idempotency_key: str) -> str:
        """Refund (part of) a payment; returns the provider's refund id.

        Raises:
            ProviderUnavailable, PaymentError.
        """
        ...


ProviderFactory = Any  # a class constructed as Provider(config: Mapping[str, Any], http: httpx.Client)
