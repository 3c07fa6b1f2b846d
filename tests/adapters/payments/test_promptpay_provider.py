"""The PromptPay provider: the QR it hands out, the bank's signed notifications, and the manual refund."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bizportal.adapters.payments.base import (
    InvalidWebhook,
    PaymentError,
    PaymentProvider,
    PaymentRequest,
    ProviderUnavailable,
)
from bizportal.adapters.payments.promptpay_provider import (
    REFUND_MESSAGE,
    PromptPayProvider,
    amount_to_satang,
    sign_bank_notification,
)
from bizportal.adapters.payments.thai_qr import crc_is_valid, parse_tlv

SECRET = "bank-notifier-shared-secret"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TIMESTAMP = int(NOW.timestamp())


def _http() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"PromptPay has no API, yet {request.url} was called")

    return httpx.Client(transport=httpx.MockTransport(refuse))


def _provider(**config: object) -> PromptPayProvider:
    values: dict[str, object] = {"promptpay_id": "0812345678", "webhook_secret": SECRET, "now": lambda: NOW}
    values.update(config)
    return PromptPayProvider(values, _http())


def _request(**overrides: object) -> PaymentRequest:
    values: dict[str, object] = dict(payment_id="pay-1", reference="BP2024000123", amount_satang=422,
                                     description="Licence fee", invoice_ids=["inv-1"])
    values.update(overrides)
    return PaymentRequest.model_validate(values)


def _body(**overrides: object) -> bytes:
    values: dict[str, object] = {"event_id": "evt-1", "transaction_id": "2026120112345678", "ref1": "BP2024000123",
                                 "amount": "500.00", "currency": "764", "paid_at": "2026-12-01T08:59:30+07:00"}
    values.update(overrides)
    return json.dumps(values).encode()


def _headers(body: bytes, secret: str = SECRET, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return {"X-Bank-Timestamp": str(timestamp), "X-Bank-Signature": sign_bank_notification(secret, timestamp, body),
            "Content-Type": "application/json"}


def test_it_is_a_payment_provider() -> None:
    provider: PaymentProvider = _provider()
    assert provider.name == "promptpay"


def test_create_without_biller_gives_a_promptpay_qr_for_the_amount() -> None:
    instructions = _provider().create(_request())
    assert instructions.provider == "promptpay"
    assert instructions.provider_reference == "PPBP2024000123"
    # The promptpay-qr npm package's payload for 0812345678 and 4.22 THB (see test_thai_qr.py).
    assert instructions.qr_payload == (
        "00020101021229370016A000000677010111011300668123456785802TH530376454044.2263045D49")
    png = base64.b64decode(instructions.qr_png_base64 or "")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200
    assert instructions.expires_at == NOW + timedelta(minutes=30)
    assert instructions.client_secret is None


def test_create_with_a_biller_puts_the_reference_in_ref1() -> None:
    instructions = _provider(biller_id="010556012345601", qr_validity_minutes=15).create(
        _request(amount_satang=150000))
    # promptparse's billPayment({billerId: '010556012345601', ref1: 'BP2024000123', amount: 1500}).
    assert instructions.qr_payload == (
        "00020101021230550016A00000067701011201150105560123456010212BP202400012353037645802TH54071500.006304EB62")
    fields = parse_tlv(instructions.qr_payload or "")
    assert parse_tlv(fields["30"])["02"] == "BP2024000123"
    assert crc_is_valid(instructions.qr_payload or "")
    assert instructions.provider_reference == "PPBP2024000123"
    assert instructions.expires_at == NOW + timedelta(minutes=15)


def test_the_default_clock_is_utc_now() -> None:
    provider = PromptPayProvider({"promptpay_id": "1101700203395", "webhook_secret": SECRET}, _http())
    before = datetime.now(UTC)
    expires = provider.create(_request()).expires_at
    assert expires is not None and before + timedelta(minutes=30) <= expires <= datetime.now(UTC) + timedelta(
        minutes=30)


@pytest.mark.parametrize("config", [
    {"webhook_secret": SECRET},  # no target
    {"promptpay_id": "12345", "webhook_secret": SECRET},
    {"promptpay_id": "0812345678"},  # no secret
    {"promptpay_id": "0812345678", "webhook_secret": "short"},
    {"promptpay_id": "0812345678", "webhook_secret": SECRET, "biller_id": "123"},
    {"promptpay_id": "0812345678", "webhook_secret": SECRET, "qr_validity_minutes": 0},
    {"promptpay_id": "0812345678", "webhook_secret": SECRET, "unknown": 1},
    {"promptpay_id": "0812345678", "webhook_secret": SECRET, "now": "yesterday"},
])
def test_bad_settings_make_the_provider_unavailable(config: dict[str, object]) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        PromptPayProvider(config, _http())
    assert SECRET not in str(caught.value)


def test_a_biller_id_alone_is_enough() -> None:
    provider = PromptPayProvider({"biller_id": "010556012345601", "webhook_secret": SECRET}, _http())
    assert (provider.create(_request()).qr_payload or "").startswith("00020101021230")


def test_an_amount_too_large_for_a_qr_is_a_payment_error() -> None:
    with pytest.raises(PaymentError, match="pay-1"):
        _provider().create(_request(amount_satang=10**13))


def test_a_valid_notification_becomes_a_succeeded_event() -> None:
    body = _body()
    event = _provider().parse_webhook(_headers(body), body, NOW)
    assert event.provider == "promptpay"
    assert event.event_id == "evt-1"
    assert event.kind == "succeeded"
    assert event.provider_reference == "PPBP2024000123"
    assert event.reference == "BP2024000123"
    assert event.amount_satang == 50000
    assert event.currency == "THB"
    assert event.occurred_at == datetime(2026, 12, 1, 1, 59, 30, tzinfo=UTC)
    assert event.raw_type == "bank.payment_notification"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = _body()
    expected = hmac.new(SECRET.encode(), f"{TIMESTAMP}.".encode() + body, hashlib.sha256).hexdigest()
    assert sign_bank_notification(SECRET, TIMESTAMP, body) == f"sha256={expected}"
    assert sign_bank_notification(SECRET, str(TIMESTAMP), body) == f"sha256={expected}"


def test_headers_are_case_insensitive_and_the_window_is_five_minutes() -> None:
    body = _body()
    headers = {k.lower(): v for k, v in _headers(body, timestamp=TIMESTAMP - 300).items()}
    assert _provider().parse_webhook(headers, body, NOW).amount_satang == 50000
    assert _provider().parse_webhook(_headers(body, timestamp=TIMESTAMP + 300), body, NOW).event_id == "evt-1"


def test_a_wrong_secret_is_rejected() -> None:
    body = _body()
    with pytest.raises(InvalidWebhook, match="does not match"):
        _provider().parse_webhook(_headers(body, secret="someone-else-entirely"), body, NOW)


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_stale_or_future_timestamp_is_rejected(offset: int) -> None:
    body = _body()
    with pytest.raises(InvalidWebhook, match="300 s"):
        _provider().parse_webhook(_headers(body, timestamp=TIMESTAMP + offset), body, NOW)


def test_a_tampered_body_is_rejected() -> None:
    body = _body()
    headers = _headers(body)
    with pytest.raises(InvalidWebhook, match="does not match"):
        _provider().parse_webhook(headers, _body(amount="5000.00"), NOW)


@pytest.mark.parametrize("headers", [
    {},
    {"X-Bank-Timestamp": str(TIMESTAMP)},
    {"X-Bank-Signature": "sha256=00"},
    {"X-Bank-Timestamp": "yesterday", "X-Bank-Signature": "sha256=00"},
])
def test_missing_or_malformed_headers_are_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidWebhook):
        _provider().parse_webhook(headers, _body(), NOW)


@pytest.mark.parametrize("timestamp", ["9" * 400, "-" + "9" * 400, "1e9", "๑๗๖๔๕๕๔๔๐๐", "+1764554400", "17645544.5"])
def test_a_timestamp_that_is_not_plain_unix_seconds_is_rejected(timestamp: str) -> None:
    """L1: 400 digits overflowed a float (500) before the signature was even checked."""
    body = _body()
    headers = {**_headers(body), "X-Bank-Timestamp": timestamp}
    with pytest.raises(InvalidWebhook, match="unix seconds"):
        _provider().parse_webhook(headers, body, NOW)


@pytest.mark.parametrize("amount", ["500.001", "1e3", "-5.00", "0.00", "abc", "", "5,000.00", "1.2.3", "NaN",
                                    "9" * 60, "21474836.48", "๕๐๐.๐๐"])  # L1: 60 digits were a 500 on PostgreSQL
def test_a_bad_amount_is_rejected(amount: str) -> None:
    body = _body(amount=amount)
    with pytest.raises(InvalidWebhook):
        _provider().parse_webhook(_headers(body), body, NOW)


@pytest.mark.parametrize("overrides", [
    {"currency": "840"},
    {"ref1": "bp-1"},
    {"paid_at": "2026-12-01T08:59:30"},  # no offset
    {"event_id": ""},
    {"amount": 500},  # a number, not a string
])
def test_a_malformed_body_is_rejected(overrides: dict[str, object]) -> None:
    body = _body(**overrides)
    with pytest.raises(InvalidWebhook, match="malformed"):
        _provider().parse_webhook(_headers(body), body, NOW)


def test_a_signed_non_json_body_is_rejected() -> None:
    body = b"not json"
    with pytest.raises(InvalidWebhook, match="malformed"):
        _provider().parse_webhook(_headers(body), body, NOW)


@pytest.mark.parametrize(("amount", "satang"), [("500.00", 50000), ("500", 50000), ("0.5", 50), ("0.01", 1),
                                                 ("123.45", 12345), ("1234567.89", 123456789),
                                                 ("21474836.47", 2**31 - 1)])
def test_amounts_convert_exactly_to_satang(amount: str, satang: int) -> None:
    assert amount_to_satang(amount) == satang


def test_refunds_are_manual() -> None:
    with pytest.raises(PaymentError) as caught:
        _provider().refund("PPBP2024000123", 50000, "refund-1")
    assert str(caught.value) == REFUND_MESSAGE
    assert "manually" in REFUND_MESSAGE
