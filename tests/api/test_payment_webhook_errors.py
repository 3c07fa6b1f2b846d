"""Payment webhooks refuse what does not verify with a 401 that names no setting and echoes no parser (L1, L9)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings

BANK_SECRET = "bank-webhook-secret-0123456789"


@pytest.fixture
def promptpay_client(settings: Settings, clock: Any) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"promptpay_id": "0812345678",
                                             "promptpay_webhook_secret": SecretStr(BANK_SECRET)})
    engine = engine_from(configured, clock=clock)
    with TestClient(create_app(configured, engine=engine)) as client:
        yield client
    engine.db.dispose()


def _notification(clock: Any, **overrides: str) -> bytes:
    return json.dumps({"event_id": "bank-1", "transaction_id": "T1", "ref1": "PAYREF1", "amount": "500.00",
                       "currency": "764", "paid_at": clock.now().isoformat(), **overrides}).encode()


def test_bad_numbers_in_a_bank_notification_are_refused_not_a_500(promptpay_client: TestClient, clock: Any) -> None:
    timestamp = int(clock.now().timestamp())
    url = "/api/v1/payments/webhooks/promptpay"
    huge = _notification(clock, amount="9" * 60)  # signed by the bank: only the amount is wrong
    signed = {"X-Bank-Timestamp": str(timestamp), "X-Bank-Signature": sign_bank_notification(BANK_SECRET, timestamp,
                                                                                             huge)}
    body = _notification(clock)
    answers = [promptpay_client.post(url, content=huge, headers=signed)]
    for stamp in ("9" * 400, "-" + "9" * 400):  # before any signature check, these overflowed a float
        answers.append(promptpay_client.post(url, content=body, headers={
            "X-Bank-Timestamp": stamp, "X-Bank-Signature": sign_bank_notification(BANK_SECRET, stamp, body)}))
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["message"] == "the promptpay notification does not verify"


def test_an_unconfigured_stripe_webhook_names_no_setting(client: TestClient) -> None:
    answer = client.post("/api/v1/payments/webhooks/stripe", content=b'{"id": "evt_1"}',
                         headers={"Stripe-Signature": "t=1,v1=00"})
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "the stripe notification does not verify"
    assert "BIZPORTAL_" not in answer.text and "configured" not in answer.text  # the reason is in the log
