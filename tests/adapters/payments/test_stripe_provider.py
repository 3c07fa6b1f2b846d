"""The Stripe provider against a local Stripe-compatible server over HTTP (tests/support/fake_stripe.py).

Webhooks carry real ``Stripe-Signature`` headers (HMAC-SHA256), checked by the stripe library itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from bizportal.adapters.payments.base import (
    InvalidWebhook,
    PaymentError,
    PaymentEvent,
    PaymentProvider,
    PaymentRequest,
    ProviderUnavailable,
)
from bizportal.adapters.payments.stripe_provider import StripeProvider, sign_webhook
from support.fake_stripe import API_KEY, FakeStripeState, decode_form, start_fake_stripe

WEBHOOK_SECRET = "whsec_test_" + "s" * 32
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[tuple[str, FakeStripeState]]:
    base_url, state, stop = start_fake_stripe()
    yield base_url, state
    stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as client:
        yield client


@pytest.fixture
def provider(fake_stripe: tuple[str, FakeStripeState], http: httpx.Client) -> StripeProvider:
    base_url, _ = fake_stripe
    return StripeProvider({"secret_key": API_KEY, "webhook_secret": WEBHOOK_SECRET, "api_base": base_url}, http)


def a_request(**changes: Any) -> PaymentRequest:
    values: dict[str, Any] = {"payment_id": f"pay-{uuid.uuid4()}", "reference": "INV2026000123",
                              "amount_satang": 150_000, "description": "ค่าธรรมเนียมใบอนุญาต",
                              "invoice_ids": ["inv-1", "inv-2"]}
    return PaymentRequest(**{**values, **changes})


def calls_with(state: FakeStripeState, key: str) -> list[dict[str, Any]]:
    return [call for call in state.calls if call["idempotency_key"] == key]


# -- create -------------------------------------------------------------------------------------


def test_it_satisfies_the_contract(provider: StripeProvider) -> None:
    checked: PaymentProvider = provider
    assert checked.name == "stripe"
    assert API_KEY not in repr(provider)


def test_create_sends_a_payment_intent_with_our_payment_id_as_idempotency_key(
        provider: StripeProvider, fake_stripe: tuple[str, FakeStripeState]) -> None:
    _, state = fake_stripe
    request = a_request()

    instructions = provider.create(request)

    assert instructions.provider == "stripe"
    assert instructions.provider_reference.startswith("pi_")
    assert instructions.client_secret is not None
    assert instructions.client_secret.startswith(f"{instructions.provider_reference}_secret_")
    [call] = calls_with(state, request.payment_id)
    assert call["method"] == "POST" and call["path"] == "/v1/payment_intents"
    assert call["authorization"] == f"Bearer {API_KEY}"
    assert call["content_type"].startswith("application/x-www-form-urlencoded")
    assert call["params"] == {
        "amount": "150000", "currency": "thb", "description": "ค่าธรรมเนียมใบอนุญาต",
        "metadata": {"payment_id": request.payment_id, "reference": "INV2026000123", "invoice_ids": "inv-1,inv-2"},
        "automatic_payment_methods": {"enabled": "true"},
    }
    intent = state.intents[instructions.provider_reference]
    assert (intent["amount"], intent["currency"], intent["status"]) == (150_000, "thb", "requires_payment_method")


def test_creating_the_same_payment_twice_returns_the_same_intent(
        provider: StripeProvider, fake_stripe: tuple[str, FakeStripeState]) -> None:
    _, state = fake_stripe
    request = a_request()
    before = len(state.intents)

    first = provider.create(request)
    second = provider.create(request)

    assert second.provider_reference == first.provider_reference
    assert second.client_secret == first.client_secret
    assert len(state.intents) == before + 1
    assert len(calls_with(state, request.payment_id)) == 2


def test_a_reused_payment_id_with_other_parameters_is_refused(provider: StripeProvider) -> None:
    request = a_request()
    provider.create(request)

    with pytest.raises(PaymentError, match="IdempotencyError") as caught:
        provider.create(a_request(payment_id=request.payment_id, amount_satang=99_00))

    assert not isinstance(caught.value, ProviderUnavailable)


def test_a_retrieved_intent_reads_back_what_create_stored(
        provider: StripeProvider, fake_stripe: tuple[str, FakeStripeState]) -> None:
    base_url, _ = fake_stripe
    instructions = provider.create(a_request(amount_satang=42_00))
    client = stripe.StripeClient(API_KEY, base_addresses={"api": base_url})

    intent = client.v1.payment_intents.retrieve(instructions.provider_reference)

    assert (intent.id, intent.amount, intent.currency) == (instructions.provider_reference, 42_00, "thb")
    assert intent.metadata["reference"] == "INV2026000123"


@pytest.mark.parametrize("key", [None, ""])
def test_without_a_secret_key_every_call_is_unavailable(key: str | None, http: httpx.Client) -> None:
    provider = StripeProvider({"secret_key": key, "webhook_secret": WEBHOOK_SECRET}, http)
    message = r"Stripe is not configured on this server \(it has no API secret key\)"

    with pytest.raises(ProviderUnavailable, match=message):
        provider.create(a_request())
    with pytest.raises(ProviderUnavailable, match=message):
        provider.refund("pi_123", 100, "refund-1")


def test_an_unreachable_server_is_unavailable(http: httpx.Client) -> None:
    base_url, _, stop = start_fake_stripe()
    stop()  # the port is free again: nothing answers there
    provider = StripeProvider({"secret_key": API_KEY, "api_base": base_url, "max_network_retries": 1}, http)

    with pytest.raises(ProviderUnavailable, match="could not be reached") as caught:
        provider.create(a_request())

    assert API_KEY not in str(caught.value)


def test_the_default_retries_still_end_unavailable(http: httpx.Client) -> None:
    base_url, _, stop = start_fake_stripe()
    stop()
    provider = StripeProvider({"secret_key": API_KEY, "api_base": base_url}, http)

    with pytest.raises(ProviderUnavailable):
        provider.refund("pi_123", 100, "refund-1")


def test_a_wrong_key_is_a_payment_error_that_does_not_leak_the_key(
        fake_stripe: tuple[str, FakeStripeState], http: httpx.Client) -> None:
    base_url, _ = fake_stripe
    wrong_key = "sk_test_wrong_key_ABCDEFGHIJ"
    provider = StripeProvider({"secret_key": wrong_key, "api_base": base_url}, http)

    with pytest.raises(PaymentError) as caught:
        provider.create(a_request())

    assert not isinstance(caught.value, ProviderUnavailable)
    assert "AuthenticationError" in str(caught.value) and "HTTP 401" in str(caught.value)
    assert wrong_key not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_refusal_is_a_payment_error_with_stripes_message(
        provider: StripeProvider, fake_stripe: tuple[str, FakeStripeState]) -> None:
    _, state = fake_stripe
    state.answer_next(400, "Unexpected description")

    with pytest.raises(PaymentError) as caught:
        provider.create(a_request())

    assert not isinstance(caught.value, ProviderUnavailable)  # it answered: retrying will not help
    assert "Unexpected description" in str(caught.value) and "HTTP 400" in str(caught.value)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_failing_or_overloaded_stripe_is_unavailable(status: int, fake_stripe: tuple[str, FakeStripeState],
                                                       http: httpx.Client) -> None:
    base_url, state = fake_stripe
    provider = StripeProvider({"secret_key": API_KEY, "api_base": base_url, "max_network_retries": 0}, http)
    state.answer_next(status, "An unknown error occurred")

    with pytest.raises(ProviderUnavailable, match=f"HTTP {status}"):
        provider.create(a_request())


# -- refund -------------------------------------------------------------------------------------


def test_refund_sends_the_idempotency_key_and_returns_the_refund_id(
        provider: StripeProvider, fake_stripe: tuple[str, FakeStripeState]) -> None:
    _, state = fake_stripe
    intent_id = provider.create(a_request()).provider_reference
    state.succeed(intent_id)
    key = f"refund-{uuid.uuid4()}"

    refund_id = provider.refund(intent_id, 50_000, key)
    again = provider.refund(intent_id, 50_000, key)

    assert refund_id.startswith("re_") and again == refund_id
    [call, replay] = calls_with(state, key)
    assert call["path"] == "/v1/refunds"
    assert call["params"] == {"payment_intent": intent_id, "amount": "50000"}
    assert replay["params"] == call["params"]
    assert state.refunds[refund_id]["amount"] == 50_000
    assert [r["id"] for r in state.refunds.values() if r["payment_intent"] == intent_id] == [refund_id]


def test_a_refused_refund_is_a_payment_error(provider: StripeProvider,
                                             fake_stripe: tuple[str, FakeStripeState]) -> None:
    _, state = fake_stripe
    unpaid = provider.create(a_request()).provider_reference
    with pytest.raises(PaymentError, match="charge_not_refundable"):
        provider.refund(unpaid, 100, f"refund-{uuid.uuid4()}")

    state.succeed(unpaid)
    with pytest.raises(PaymentError, match="amount_too_large"):
        provider.refund(unpaid, 150_001, f"refund-{uuid.uuid4()}")
    with pytest.raises(PaymentError, match="resource_missing"):
        provider.refund("pi_does_not_exist", 100, f"refund-{uuid.uuid4()}")


# -- webhooks -----------------------------------------------------------------------------------


def an_event(event_type: str, obj: dict[str, Any], created: datetime = NOW) -> bytes:
    event = {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2024-06-20",
             "created": int(created.timestamp()), "livemode": False, "type": event_type,
             "data": {"object": obj}}
    return json.dumps(event, ensure_ascii=False).encode()


def an_intent(**changes: Any) -> dict[str, Any]:
    return {"id": "pi_3Abc", "object": "payment_intent", "amount": 150_000, "amount_received": 150_000,
            "currency": "thb", "status": "succeeded",
            "metadata": {"payment_id": "pay-1", "reference": "INV2026000123", "invoice_ids": "inv-1"}, **changes}


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: datetime = NOW) -> dict[str, str]:
    return {"Stripe-Signature": sign_webhook(body, secret, int(at.timestamp())), "Content-Type": "application/json"}


def test_sign_webhook_matches_the_library() -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    header = sign_webhook(body, WEBHOOK_SECRET, 1_700_000_000)
    assert header == stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET, 1_700_000_000)
    # and the library's wall-clock-free check accepts it
    stripe.WebhookSignature.verify_header(body, header, WEBHOOK_SECRET, tolerance=None)


def test_a_signed_succeeded_event_becomes_a_payment_event(provider: StripeProvider) -> None:
    body = an_event("payment_intent.succeeded", an_intent())

    event = provider.parse_webhook(signed(body), body, NOW + timedelta(seconds=30))

    assert isinstance(event, PaymentEvent)
    assert event.model_dump() == {
        "provider": "stripe", "event_id": json.loads(body)["id"], "kind": "succeeded",
        "provider_reference": "pi_3Abc", "reference": "INV2026000123", "amount_satang": 150_000,
        "currency": "THB", "occurred_at": NOW, "raw_type": "payment_intent.succeeded",
    }


def test_header_names_are_case_insensitive(provider: StripeProvider) -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    headers = {"stripe-signature": signed(body)["Stripe-Signature"]}
    assert provider.parse_webhook(headers, body, NOW).kind == "succeeded"


def test_failed_and_refunded_events_are_mapped(provider: StripeProvider) -> None:
    failed_body = an_event("payment_intent.payment_failed",
                           an_intent(status="requires_payment_method", amount_received=0))
    charge = {"id": "ch_3Abc", "object": "charge", "amount": 150_000, "amount_refunded": 50_000, "currency": "thb",
              "payment_intent": "pi_3Abc", "refunded": False, "metadata": {"reference": "INV2026000123"}}
    refunded_body = an_event("charge.refunded", charge)
    other_body = an_event("payment_intent.created", an_intent(status="requires_payment_method", amount_received=0))

    failed = provider.parse_webhook(signed(failed_body), failed_body, NOW)
    refunded = provider.parse_webhook(signed(refunded_body), refunded_body, NOW)
    other = provider.parse_webhook(signed(other_body), other_body, NOW)

    assert (failed.kind, failed.amount_satang, failed.provider_reference) == ("failed", 150_000, "pi_3Abc")
    assert (refunded.kind, refunded.amount_satang, refunded.provider_reference) == ("refunded", 50_000, "pi_3Abc")
    assert refunded.reference == "INV2026000123" and refunded.raw_type == "charge.refunded"
    assert (other.kind, other.raw_type) == ("other", "payment_intent.created")


def test_a_wrong_secret_is_rejected(provider: StripeProvider) -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    with pytest.raises(InvalidWebhook, match="signature"):
        provider.parse_webhook(signed(body, secret="whsec_someone_else"), body, NOW)


def test_a_replayed_old_event_is_rejected(provider: StripeProvider) -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    headers = signed(body, at=NOW)

    assert provider.parse_webhook(headers, body, NOW + timedelta(seconds=300)).kind == "succeeded"
    with pytest.raises(InvalidWebhook, match="stale"):
        provider.parse_webhook(headers, body, NOW + timedelta(seconds=301))
    with pytest.raises(InvalidWebhook, match="stale"):
        provider.parse_webhook(headers, body, NOW + timedelta(days=3))


def test_a_timestamp_far_in_the_future_is_rejected(provider: StripeProvider) -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    with pytest.raises(InvalidWebhook, match="future"):
        provider.parse_webhook(signed(body, at=NOW + timedelta(hours=1)), body, NOW)


def test_a_tampered_body_is_rejected(provider: StripeProvider) -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    headers = signed(body)
    tampered = body.replace(b"150000", b"1500000")
    assert tampered != body

    with pytest.raises(InvalidWebhook, match="signature"):
        provider.parse_webhook(headers, tampered, NOW)


def test_a_re_timed_signature_is_rejected(provider: StripeProvider) -> None:
    """Moving ``t`` forward to dodge the freshness check breaks the signature."""
    body = an_event("payment_intent.succeeded", an_intent())
    old = signed(body, at=NOW - timedelta(hours=1))["Stripe-Signature"]
    v1 = old.split(",", 1)[1]
    with pytest.raises(InvalidWebhook, match="signature"):
        provider.parse_webhook({"Stripe-Signature": f"t={int(NOW.timestamp())},{v1}"}, body, NOW)


@pytest.mark.parametrize("headers", [{}, {"Stripe-Signature": ""}, {"Stripe-Signature": "garbage"},
                                     {"Stripe-Signature": "t=notanumber,v1=abc"}])
def test_missing_or_malformed_signatures_are_rejected(provider: StripeProvider, headers: dict[str, str]) -> None:
    body = an_event("payment_intent.succeeded", an_intent())
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(headers, body, NOW)


@pytest.mark.parametrize("body", [b"not json", b'{"object": "list"}', b'{"object": "event", "id": "evt_1"}',
                                  b"\xff\xfe"])
def test_a_signed_but_malformed_body_is_rejected(provider: StripeProvider, body: bytes) -> None:
    headers = {"Stripe-Signature": sign_webhook(body, WEBHOOK_SECRET, int(NOW.timestamp()))}
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(headers, body, NOW)


def test_without_a_webhook_secret_webhooks_are_refused(fake_stripe: tuple[str, FakeStripeState],
                                                           http: httpx.Client) -> None:
    provider = StripeProvider({"secret_key": API_KEY, "webhook_secret": ""}, http)
    body = an_event("payment_intent.succeeded", an_intent())
    with pytest.raises(InvalidWebhook, match="no webhook signing secret"):
        provider.parse_webhook(signed(body), body, NOW)


# -- the fake itself ----------------------------------------------------------------------------


def test_the_fake_decodes_stripe_form_encoding() -> None:
    assert decode_form("a=1&metadata%5Bx%5D=y&nested%5Bb%5D%5Bc%5D=2&expand%5B0%5D=p&expand%5B1%5D=q") == {
        "a": "1", "metadata": {"x": "y"}, "nested": {"b": {"c": "2"}}, "expand": ["p", "q"]}


def test_the_fake_refuses_requests_without_a_key(fake_stripe: tuple[str, FakeStripeState]) -> None:
    base_url, _ = fake_stripe
    response = httpx.post(f"{base_url}/v1/payment_intents", data={"amount": "100", "currency": "thb"},
                          trust_env=False)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
