"""Card payments through Stripe PaymentIntents, with the official ``stripe`` library.

Each provider owns a :class:`stripe.StripeClient` (no global ``stripe.api_key``), whose HTTP goes through
the injected :class:`httpx.Client`, so proxies, TLS and connection pooling are the platform's choice.
``api_base`` points the client at a Stripe-compatible server (tests use ``tests/support/fake_stripe.py``).

Webhooks are verified with the library's own signature check (``stripe.WebhookSignature``); only the
freshness check is done here, against the injected ``now`` instead of the wall clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx
import stripe
from pydantic import BaseModel, ConfigDict, Field

from .base import (
    InvalidWebhook,
    PaymentError,
    PaymentEvent,
    PaymentInstructions,
    PaymentRequest,
    ProviderUnavailable,
)

__all__ = ["StripeProvider", "StripeSettings", "sign_webhook", "WEBHOOK_TOLERANCE_SECONDS"]

WEBHOOK_TOLERANCE_SECONDS = 300
# Callers see these (a 503, a refused webhook): they say what is missing, not which setting holds it.
_NOT_CONFIGURED = "Stripe is not configured on this server (it has no API secret key)"
_NO_WEBHOOK_SECRET = "Stripe webhooks are not configured on this server (it has no webhook signing secret)"
_KINDS = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "charge.refunded": "refunded",
}


def sign_webhook(payload: bytes, secret: str, timestamp: int) -> str:
    """A real ``Stripe-Signature`` header value for ``payload``: ``t=<timestamp>,v1=<hex HMAC-SHA256>``.

    The HMAC key is ``secret`` and the message ``f"{timestamp}.{payload}"``, as Stripe signs its webhooks.
    """
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _HttpxTransport(stripe.HTTPClient):
    """Lets the stripe library send its (already encoded) requests through an injected ``httpx.Client``.

    The library keeps doing retries, idempotency and error parsing; transport failures become
    :class:`stripe.APIConnectionError` (retryable), as with its own clients.
    """

    name = "bizportal-httpx"

    def __init__(self, client: httpx.Client, timeout: float) -> None:
        super().__init__()
        self._client = client
        self._timeout = timeout

    def _build(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any) -> httpx.Request:
        content = post_data.encode("utf-8") if isinstance(post_data, str) else post_data
        return self._client.build_request(method, url, headers=dict(headers or {}), content=content or None,
                                          timeout=self._timeout)

    # stripe annotates the body as str, but its own clients (requests, urllib) return bytes, which it decodes.
    def request(  # type: ignore[override]
            self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
            *, _usage: list[str] | None = None) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = self._client.send(self._build(method, url, headers, post_data))
        except httpx.HTTPError as error:
            self._connection_failed(error)
        return response.content, response.status_code, response.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
                       *, _usage: list[str] | None = None) -> tuple[Iterable[bytes], int, Mapping[str, str]]:
        try:
            response = self._client.send(self._build(method, url, headers, post_data), stream=True)
        except httpx.HTTPError as error:
            self._connection_failed(error)
        return response.iter_bytes(), response.status_code, response.headers

    def close(self) -> None:
        """Nothing to do: the injected client belongs to the caller."""

    @staticmethod
    def _connection_failed(error: Exception) -> NoReturn:
        raise stripe.APIConnectionError(f"Could not reach Stripe ({type(error).__name__})",
                                        should_retry=True) from error


class StripeSettings(BaseModel):
    """The provider's settings (BIZPORTAL_STRIPE_SECRET_KEY, BIZPORTAL_STRIPE_WEBHOOK_SECRET, ...)."""

    model_config = ConfigDict(extra="forbid")

    secret_key: str | None = Field(default=None, description="sk_...; unset: every call answers 503")
    webhook_secret: str | None = Field(default=None, description="whsec_...; unset: every webhook is refused")
    api_base: str | None = Field(default=None, description="a Stripe-compatible server instead of api.stripe.com")
    publishable_key: str | None = Field(default=None, description="pk_...: what Stripe.js in the payer's browser uses "
                                        "to confirm a PaymentIntent; it is public")
    timeout: float = Field(default=20.0, gt=0)
    max_network_retries: int = Field(default=2, ge=0)


class StripeProvider:
    """:class:`~bizportal.adapters.payments.base.PaymentProvider` for Stripe (cards, PromptPay via Stripe).

    Config keys:
        ``secret_key``: the API key (``sk_...``); missing or empty makes every call raise ProviderUnavailable.
        ``webhook_secret``: the endpoint's signing secret (``whsec_...``); unset: every webhook is InvalidWebhook.
        ``api_base`` (optional): base URL of a Stripe-compatible API instead of ``https://api.stripe.com``.
        ``timeout`` (optional): seconds per HTTP request, default 20.
        ``max_network_retries`` (optional): the library's retries of connection errors / 409 / 5xx, default 2.
    """

    name = "stripe"
    Settings = StripeSettings

    def __init__(self, config: StripeSettings | Mapping[str, Any], http: httpx.Client) -> None:
        if isinstance(config, StripeSettings):  # checked by the plug-in loader
            config = config.model_dump()
        self._secret_key: str | None = config.get("secret_key") or None
        self._webhook_secret: str | None = config.get("webhook_secret") or None
        self.api_base: str | None = (config.get("api_base") or "").rstrip("/") or None
        self.publishable_key: str | None = config.get("publishable_key") or None
        self._client: stripe.StripeClient | None = None
        if self._secret_key:
            self._client = stripe.StripeClient(
                self._secret_key,
                base_addresses={"api": self.api_base} if self.api_base else None,
                max_network_retries=int(config.get("max_network_retries", 2)),
                http_client=_HttpxTransport(http, float(config.get("timeout", 20.0))),
            )

    def __repr__(self) -> str:
        return f"StripeProvider(api_base={self.api_base!r}, configured={self.configured})"

    @property
    def configured(self) -> bool:
        """Whether it has an API key: the pages offer card payment only then."""
        return self._client is not None

    # -- outgoing calls ---------------------------------------------------------------------------

    def create(self, request: PaymentRequest) -> PaymentInstructions:
        client = self._configured()
        params: dict[str, Any] = {
            "amount": request.amount_satang,
            "currency": request.currency.lower(),
            "description": request.description,
            "metadata": {
                "payment_id": request.payment_id,
                "reference": request.reference,
                "invoice_ids": ",".join(request.invoice_ids),
            },
            "automatic_payment_methods": {"enabled": True},
        }
        try:
            intent = client.v1.payment_intents.create(params=params,  # type: ignore[arg-type]
                                                   options={"idempotency_key": request.payment_id})
        except stripe.StripeError as error:
            self._raise(error, "create a PaymentIntent")
        return PaymentInstructions(provider=self.name, provider_reference=intent.id,
                                   client_secret=intent.client_secret)

    def refund(self, provider_reference: str, amount_satang: int, idempotency_key: str) -> str:
        client = self._configured()
        if amount_satang <= 0:
            raise PaymentError(f"refund amount must be positive, got {amount_satang}")
        try:
            refund = client.v1.refunds.create(params={"payment_intent": provider_reference, "amount": amount_satang},
                                           options={"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            self._raise(error, f"refund {provider_reference}")
        return refund.id

    def _configured(self) -> stripe.StripeClient:
        if self._client is None:
            raise ProviderUnavailable(_NOT_CONFIGURED)
        return self._client

    def _raise(self, error: stripe.StripeError, action: str) -> NoReturn:
        """Unreachable, overloaded (429) or failing (5xx): ProviderUnavailable, worth retrying later.
        Any other answer (4xx) refused the request: PaymentError with Stripe's own message."""
        if isinstance(error, stripe.APIConnectionError):
            raise ProviderUnavailable(f"Stripe could not be reached to {action}") from None
        if isinstance(error, stripe.RateLimitError) or (error.http_status or 0) >= 500:
            raise ProviderUnavailable(f"Stripe could not {action} right now (HTTP {error.http_status})") from None
        detail = error.user_message or type(error).__name__
        if self._secret_key:
            detail = detail.replace(self._secret_key, "***")
        parts = [f"HTTP {error.http_status}" if error.http_status else None,
                 error.code, f"request {error.request_id}" if error.request_id else None]
        context = ", ".join(part for part in parts if part)
        # `from None`: the library's exception carries the request headers, which hold the key.
        raise PaymentError(f"Stripe refused to {action}: {type(error).__name__}"
                           f"{f' ({context})' if context else ''}: {detail}") from None

    # -- incoming webhooks ------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> PaymentEvent:
        if not self._webhook_secret:
            # InvalidWebhook, as the contract says: nothing can be verified, so nothing is applied.
            raise InvalidWebhook(_NO_WEBHOOK_SECRET)
        header = next((value for name, value in headers.items() if name.lower() == "stripe-signature"), None)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidWebhook("Stripe webhook body is not UTF-8") from None
        try:
            # The library's check is the source of truth for the signature; tolerance=None skips its
            # wall-clock freshness test, which is done below against `now`.
            stripe.WebhookSignature.verify_header(text, header, self._webhook_secret, tolerance=None)
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(f"Stripe webhook signature does not verify: {error.user_message}") from None
        timestamp = _signed_timestamp(header or "")
        age = now.timestamp() - timestamp
        if age > WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidWebhook(f"Stripe webhook is stale: signed {int(age)} s ago "
                                 f"(tolerance {WEBHOOK_TOLERANCE_SECONDS} s)")
        if age < -WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidWebhook("Stripe webhook is signed in the future beyond the tolerance")
        try:
            return self._event(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidWebhook(f"Stripe webhook body is malformed: {type(error).__name__}: {error}") from None

    def _event(self, event: dict[str, Any]) -> PaymentEvent:
        if event.get("object") != "event":
            raise ValueError("not a Stripe event object")
        raw_type = str(event["type"])
        obj: dict[str, Any] = event["data"]["object"]
        kind = _KINDS.get(raw_type, "other")
        if kind == "refunded" and obj.get("amount_refunded") is not None:
            amount = obj["amount_refunded"]
        elif obj.get("amount_received"):
            amount = obj["amount_received"]
        else:
            amount = obj.get("amount", 0)
        if obj.get("object") == "payment_intent":
            provider_reference = obj["id"]
        else:  # a charge, refund, ...: the PaymentIntent it belongs to is our reference
            provider_reference = obj.get("payment_intent") or obj["id"]
        metadata = obj.get("metadata") or {}
        return PaymentEvent(
            provider=self.name,
            event_id=str(event["id"]),
            kind=kind,
            provider_reference=str(provider_reference),
            reference=metadata.get("reference"),
            amount_satang=int(amount),
            currency=str(obj.get("currency", "")).upper(),
            occurred_at=datetime.fromtimestamp(int(event["created"]), tz=UTC),
            raw_type=raw_type,
        )


def _signed_timestamp(header: str) -> int:
    """The ``t=`` of a ``Stripe-Signature`` header the library has already accepted."""
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value)
    raise InvalidWebhook("Stripe-Signature has no timestamp")  # unreachable after verify_header
