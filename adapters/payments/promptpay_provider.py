"""The built-in `promptpay` payment provider: Thai QR codes paid from any Thai banking app.

Collecting: `create` builds the QR the payer scans. With `biller_id` set it is a Thai QR bill payment
(tag 30) whose reference 1 is the payment's `reference`, so the bank's payment notification names the
payment it settles. Without `biller_id` it is a PromptPay transfer (tag 29) to `promptpay_id` with the
amount filled in; such a transfer carries no reference, so the notification's `ref1` has to be supplied
by whatever relays the bank's credit advice (or the payment is matched by hand).

Notifications: the agency's bank (or the relay in front of it) POSTs a JSON body

    {"event_id": "...", "transaction_id": "...", "ref1": "PAY123", "amount": "123.45",
     "currency": "764", "paid_at": "2024-05-01T10:15:00+07:00"}

with the headers

    X-Bank-Timestamp: <unix seconds>
    X-Bank-Signature: sha256=<hex HMAC-SHA256(webhook_secret, "<timestamp>." + body)>

and `parse_webhook` rejects a wrong signature or a timestamp more than 5 minutes from the receiver's time.

Refunds: PromptPay is a push transfer with no refund API. The agency's bank sends the money back and the
refund is recorded by hand; `refund` says so by raising PaymentError.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bizportal.adapters.payments.base import (
    InvalidWebhook,
    PaymentError,
    PaymentEvent,
    PaymentInstructions,
    PaymentRequest,
    ProviderUnavailable,
)
from bizportal.adapters.payments.thai_qr import (
    ThaiQRError,
    bill_payment_payload,
    promptpay_payload,
    promptpay_target,
    qr_png,
)

PROVIDER = "promptpay"
TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"
REPLAY_WINDOW_SECONDS = 300
RAW_TYPE = "bank.payment_notification"
REFUND_MESSAGE = "PromptPay transfers are refunded by the agency's bank: record the refund manually"
# Unix seconds as ASCII digits, at most 12: anything else is refused before any arithmetic.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# The payment tables keep satang in 32-bit integer columns: a larger amount is no payment of ours.
MAX_AMOUNT_SATANG = 2**31 - 1


def sign_bank_notification(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Bank-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def provider_reference(reference: str) -> str:
    """Our provider reference for a payment reference: "PP" + the reference."""
    return f"PP{reference}"


class PromptPaySettings(BaseModel):
    """The provider's settings (BIZPORTAL_PROMPTPAY_ID, BIZPORTAL_PROMPTPAY_WEBHOOK_SECRET, ...)."""

    model_config = ConfigDict(extra="forbid")

    promptpay_id: str | None = Field(default=None, description="mobile, national/tax ID or e-wallet ID paid into")
    webhook_secret: str = Field(min_length=16, description="HMAC secret shared with the bank's notifier")
    biller_id: str | None = Field(default=None, pattern=r"^\d{15}$",
                                  description="Thai QR bill-payment biller ID; when set, QRs carry ref1")
    qr_validity_minutes: int = Field(default=30, gt=0, le=24 * 60)

    @model_validator(mode="after")
    def _needs_a_target(self) -> PromptPaySettings:
        if self.biller_id is None:
            if not self.promptpay_id:
                raise ValueError("set promptpay_id (or biller_id for bill payment)")
            promptpay_target(self.promptpay_id)  # ThaiQRError is a ValueError: reported like the others
        return self


class BankNotification(BaseModel):
    """The body of the bank's payment notification."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=200)
    transaction_id: str = Field(min_length=1, max_length=200)
    ref1: str = Field(pattern=r"^[A-Z0-9]{1,20}$")
    amount: str = Field(description='THB as a decimal string with at most 2 decimals, e.g. "123.45"')
    currency: Literal["764"]
    paid_at: AwareDatetime


def amount_to_satang(amount: str) -> int:
    """A THB decimal string as exact integer satang: "500.00" -> 50000, "0.5" -> 50.

    Raises:
        InvalidWebhook: not a plain positive decimal, more than 2 decimals, or more than MAX_AMOUNT_SATANG.
    """
    text = amount.strip()
    if len(text) > 20:
        raise InvalidWebhook("amount is too long to be a payment")
    if not text or any(c not in "0123456789." for c in text):
        raise InvalidWebhook(f"amount must be a plain decimal number of THB, got {amount!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidWebhook(f"amount must be a plain decimal number of THB, got {amount!r}") from None
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise InvalidWebhook(f"amount {amount!r} has more than 2 decimals")
    satang = int(value * 100)
    if satang <= 0:
        raise InvalidWebhook(f"amount must be positive, got {amount!r}")
    if satang > MAX_AMOUNT_SATANG:
        raise InvalidWebhook(f"amount {amount!r} is larger than any payment")
    return satang


def _field_errors(err: ValidationError) -> str:
    """The fields and messages only: the input values could hold the secret."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in err.errors())


class PromptPayProvider:
    """Thai QR codes (PromptPay transfer or bill payment) and the bank's signed payment notifications."""

    name = PROVIDER
    Settings = PromptPaySettings

    def __init__(self, config: PromptPaySettings | Mapping[str, Any], http: httpx.Client) -> None:
        """
        Args:
            config: `promptpay_id`, `webhook_secret`, optional `biller_id`, `qr_validity_minutes` (30),
                and optionally `now`, a callable returning the current aware datetime (for tests).
            http: unused: PromptPay has no API to call; kept for the common provider signature.
        Raises:
            ProviderUnavailable: the settings are missing or invalid.
        """
        settings = dict(config)  # from the loader, a checked PromptPaySettings: its fields
        clock = settings.pop("now", None)
        if clock is not None and not callable(clock):
            raise ProviderUnavailable("promptpay: now must be a callable returning a datetime")
        try:
            self.settings = PromptPaySettings.model_validate(settings)
        except ValidationError as err:
            raise ProviderUnavailable(f"promptpay is not configured: {_field_errors(err)}") from None
        self.now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.http = http

    def create(self, request: PaymentRequest) -> PaymentInstructions:
        """The QR for `request`: bill payment with ref1 = reference when `biller_id` is set, else PromptPay.

        Raises:
            PaymentError: the amount does not fit a Thai QR.
        """
        try:
            if self.settings.biller_id is not None:
                payload = bill_payment_payload(self.settings.biller_id, request.reference, None,
                                               request.amount_satang)
            else:
                assert self.settings.promptpay_id is not None  # checked by the settings
                payload = promptpay_payload(self.settings.promptpay_id, request.amount_satang)
        except ThaiQRError as err:
            raise PaymentError(f"cannot build a Thai QR for payment {request.payment_id}: {err}") from err
        return PaymentInstructions(
            provider=PROVIDER,
            provider_reference=provider_reference(request.reference),
            qr_payload=payload,
            qr_png_base64=base64.b64encode(qr_png(payload)).decode("ascii"),
            expires_at=self.now() + timedelta(minutes=self.settings.qr_validity_minutes),
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> PaymentEvent:
        """Verify the bank's notification and turn it into a `succeeded` event.

        Raises:
            InvalidWebhook: missing headers, a timestamp more than 5 minutes from `now`, a wrong
                signature, or a malformed body or amount.
        """
        self._verify(headers, body, now)
        try:
            notification = BankNotification.model_validate_json(body)
        except ValidationError as err:
            raise InvalidWebhook(f"the bank notification is malformed: {_field_errors(err)}") from None
        return PaymentEvent(
            provider=PROVIDER,
            event_id=notification.event_id,
            kind="succeeded",
            provider_reference=provider_reference(notification.ref1),
            reference=notification.ref1,
            amount_satang=amount_to_satang(notification.amount),
            currency="THB",
            occurred_at=notification.paid_at,
            raw_type=RAW_TYPE,
        )

    def refund(self, provider_reference: str, amount_satang: int, idempotency_key: str) -> str:
        """PromptPay has no refund API: the agency's bank returns the money and staff record it.

        Raises:
            PaymentError: always.
        """
        raise PaymentError(REFUND_MESSAGE)

    def _verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower())
        signature = lowered.get(SIGNATURE_HEADER.lower())
        if not raw_timestamp or not signature:
            raise InvalidWebhook(f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
        if _TIMESTAMP.fullmatch(raw_timestamp.strip()) is None:
            raise InvalidWebhook(f"{TIMESTAMP_HEADER} must be unix seconds")
        timestamp = int(raw_timestamp)
        if abs(int(now.timestamp()) - timestamp) > REPLAY_WINDOW_SECONDS:
            raise InvalidWebhook(f"{TIMESTAMP_HEADER} is more than {REPLAY_WINDOW_SECONDS} s from the receiver's time")
        # The bank signed the header text as sent, so sign that, not a re-formatted number.
        expected = sign_bank_notification(self.settings.webhook_secret, raw_timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise InvalidWebhook(f"{SIGNATURE_HEADER} does not match the body")
