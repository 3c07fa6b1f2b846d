"""The signed webhook adapter: signatures, the replay window, delivery headers and error mapping."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bizportal.adapters.agencies.base import (
    AgencyAdapter,
    DispatchApplicant,
    DispatchBusiness,
    FinalAgencyError,
    InvalidCallback,
    MalformedCallback,
    RetriableAgencyError,
    TaskDispatch,
)
from bizportal.adapters.agencies.inbox import InboxAgencyAdapter
from bizportal.adapters.agencies.webhook import (
    CALLBACK,
    DISPATCH,
    WebhookAgencyAdapter,
    sign,
    signed_headers,
    verify,
)

SECRET = "s3cret-shared-with-the-agency"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
URL = "https://dld.example/bizportal/tasks"


def _task(**overrides: object) -> TaskDispatch:
    values: dict[str, object] = dict(
        delivery_id="d-1", task_id="t-1", application_id="a-1", tracking_number="BP-2569-000001",
        licence_code="vet_facility_plan_approval", step="document_check", title="Check", title_th="ตรวจ",
        actions=["approve", "reject"], agency="DLD", office=None, due_at=None,
        applicant=DispatchApplicant(kind="individual", id_number="1101700203395", name="สมหญิง ใจดี"),
        business=DispatchBusiness(name="คลินิก", address="1 ถนน", province="กรุงเทพมหานคร", district="คลองเตย",
                                  area_m2=80),
        callback_url="https://bizportal.test/api/v1/agencies/DLD/callbacks", sent_at=NOW)
    values.update(overrides)
    return TaskDispatch.model_validate(values)


def _adapter(handler: object = None, **config: object) -> WebhookAgencyAdapter:
    transport = httpx.MockTransport(handler or (lambda request: httpx.Response(202)))  # type: ignore[arg-type]
    return WebhookAgencyAdapter({"url": URL, "secret": SECRET, **config}, httpx.Client(transport=transport))


def _callback(**overrides: object) -> bytes:
    decision: dict[str, object] = {"callback_id": "cb-1", "task_id": "t-1", "action": "approve", "comment": "",
                                   "officer": "somchai"}
    decision.update(overrides)
    return json.dumps(decision).encode()


def test_signature_is_hmac_sha256_over_direction_timestamp_and_body() -> None:
    body = b'{"a": 1}'
    for direction in (DISPATCH, CALLBACK):
        expected = hmac.new(SECRET.encode(), f"{direction}.1764554400.".encode() + body, hashlib.sha256).hexdigest()
        assert sign(SECRET, 1764554400, body, direction=direction) == f"sha256={expected}"
        headers = signed_headers(SECRET, 1764554400, body, direction=direction)
        assert headers["X-BizPortal-Timestamp"] == "1764554400"
        verify(SECRET, headers, body, datetime.fromtimestamp(1764554400, UTC), direction=direction)


def test_a_captured_dispatch_does_not_pass_for_a_callback_or_the_reverse() -> None:
    """L11: one secret, but each direction signs its own purpose."""
    seen: list[httpx.Request] = []

    def agency(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    _adapter(agency).dispatch(_task())
    (dispatch,) = seen
    with pytest.raises(InvalidCallback, match="does not match"):
        _adapter().parse_callback(dispatch.headers, dispatch.content, NOW)
    body = _callback()
    callback = signed_headers(SECRET, int(NOW.timestamp()), body, direction=CALLBACK)
    with pytest.raises(InvalidCallback, match="does not match"):
        verify(SECRET, callback, body, NOW, direction=DISPATCH)


@pytest.mark.parametrize("timestamp", ["9" * 400, "-" + "9" * 400, "1e9", "１７６４５５４４００", "+1764554400",
                                       "1764554400.5", "0x69"])
def test_a_timestamp_that_is_not_plain_unix_seconds_is_refused(timestamp: str) -> None:
    """L1: parsed as bounded ASCII digits before any arithmetic (400 digits overflowed a float: 500)."""
    body = _callback()
    headers = {**signed_headers(SECRET, int(NOW.timestamp()), body, direction=CALLBACK),
               "X-BizPortal-Timestamp": timestamp}
    with pytest.raises(InvalidCallback, match="unix seconds"):
        _adapter().parse_callback(headers, body, NOW)


def test_a_signed_callback_is_parsed_into_a_decision() -> None:
    body = _callback(comment="ครบถ้วน", fee_satang=None)
    headers = {k.lower(): v for k, v in signed_headers(SECRET, int(NOW.timestamp()), body, direction=CALLBACK).items()}
    decision = _adapter().parse_callback(headers, body, NOW)
    assert (decision.callback_id, decision.task_id, decision.action, decision.officer) == (
        "cb-1", "t-1", "approve", "somchai")
    assert decision.comment == "ครบถ้วน"


@pytest.mark.parametrize("skew", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(hours=-6)])
def test_a_timestamp_outside_the_replay_window_is_refused(skew: timedelta) -> None:
    body = _callback()
    headers = signed_headers(SECRET, int((NOW + skew).timestamp()), body, direction=CALLBACK)
    with pytest.raises(InvalidCallback, match="300 s"):
        _adapter().parse_callback(headers, body, NOW)


def test_the_replay_window_edges_and_setting() -> None:
    body = _callback()
    for skew in (300, -300):
        headers = signed_headers(SECRET, int(NOW.timestamp()) + skew, body, direction=CALLBACK)
        _adapter().parse_callback(headers, body, NOW)
    headers = signed_headers(SECRET, int(NOW.timestamp()) - 61, body, direction=CALLBACK)
    with pytest.raises(InvalidCallback):
        _adapter(replay_window_seconds=60).parse_callback(headers, body, NOW)


def test_a_tampered_body_or_wrong_secret_or_missing_header_is_refused() -> None:
    body = _callback()
    headers = signed_headers(SECRET, int(NOW.timestamp()), body, direction=CALLBACK)
    with pytest.raises(InvalidCallback, match="does not match"):
        _adapter().parse_callback(headers, _callback(action="reject"), NOW)
    forged = signed_headers("another-secret-entirely", int(NOW.timestamp()), body, direction=CALLBACK)
    with pytest.raises(InvalidCallback, match="does not match"):
        _adapter().parse_callback(forged, body, NOW)
    # The signature covers the timestamp: moving it (to dodge the window) breaks the signature.
    moved = {**headers, "X-BizPortal-Timestamp": str(int(NOW.timestamp()) + 1)}
    with pytest.raises(InvalidCallback, match="does not match"):
        _adapter().parse_callback(moved, body, NOW)
    for missing in ("X-BizPortal-Timestamp", "X-BizPortal-Signature"):
        with pytest.raises(InvalidCallback, match="send"):
            _adapter().parse_callback({k: v for k, v in headers.items() if k != missing}, body, NOW)
    with pytest.raises(InvalidCallback, match="unix seconds"):
        _adapter().parse_callback({**headers, "X-BizPortal-Timestamp": "yesterday"}, body, NOW)


def test_an_authentic_but_invalid_body_is_malformed_not_unauthenticated() -> None:
    body = b'{"callback_id": "cb-1", "task_id": "t-1"}'
    with pytest.raises(MalformedCallback, match="action"):
        _adapter().parse_callback(signed_headers(SECRET, int(NOW.timestamp()), body, direction=CALLBACK), body, NOW)


def test_dispatch_posts_signed_json_with_an_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def agency(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"reference": "DLD-42"})

    result = _adapter(agency).dispatch(_task())
    assert result.accepted and result.external_reference == "DLD-42"
    (request,) = seen
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["Idempotency-Key"] == "d-1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-BizPortal-Timestamp"] == str(int(NOW.timestamp()))
    verify(SECRET, request.headers, request.content, NOW, direction=DISPATCH)  # the agency checks it
    assert TaskDispatch.model_validate_json(request.content) == _task()


@pytest.mark.parametrize(("answer", "error"), [
    (httpx.Response(500), RetriableAgencyError),
    (httpx.Response(503, text="maintenance"), RetriableAgencyError),
    (httpx.Response(429), RetriableAgencyError),
    (httpx.Response(400, text="unknown licence"), FinalAgencyError),
    (httpx.Response(401), FinalAgencyError),
    (httpx.Response(404), FinalAgencyError),
])
def test_dispatch_maps_statuses_to_retriable_or_final(answer: httpx.Response, error: type[Exception]) -> None:
    with pytest.raises(error, match=str(answer.status_code)):
        _adapter(lambda request: answer).dispatch(_task())


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_unreachable_or_slow_agencies_are_retriable(failure: Exception) -> None:
    def agency(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(RetriableAgencyError, match="unreachable"):
        _adapter(agency).dispatch(_task())


def test_a_2xx_without_json_is_accepted_without_reference() -> None:
    assert _adapter(lambda request: httpx.Response(204)).dispatch(_task()).external_reference is None


def test_settings_are_checked_without_echoing_the_secret() -> None:
    client = httpx.Client()
    with pytest.raises(ValueError, match="secret") as err:
        WebhookAgencyAdapter({"url": URL, "secret": "tiny-key"}, client)
    assert "tiny-key" not in str(err.value)
    with pytest.raises(ValueError, match="url"):
        WebhookAgencyAdapter({"url": "ftp://x", "secret": SECRET}, client)
    with pytest.raises(ValueError, match="unexpected"):
        WebhookAgencyAdapter({"url": URL, "secret": SECRET, "unexpected": 1}, client)


@pytest.mark.parametrize("url", ["http://dld.example/tasks", "http://10.0.0.5/tasks", "http://127.0.0.1.nip.io/t",
                                 "http://[::ffff:8.8.8.8]/t"])
def test_a_plain_http_url_is_refused(url: str) -> None:
    """L11: dispatches carry the applicant's ID number; plain http goes nowhere but this machine."""
    for config in ({}, {"allow_http_loopback": True}):
        with pytest.raises(ValueError, match="url: .*must be https"):
            WebhookAgencyAdapter({"url": url, "secret": SECRET, **config}, httpx.Client())


@pytest.mark.parametrize("url", ["http://127.0.0.1:8100/tasks", "http://localhost/tasks", "http://[::1]:8100/t"])
def test_loopback_http_needs_the_development_setting(url: str) -> None:
    with pytest.raises(ValueError, match="url: .*allow_http_loopback"):
        WebhookAgencyAdapter({"url": url, "secret": SECRET}, httpx.Client())
    assert WebhookAgencyAdapter({"url": url, "secret": SECRET, "allow_http_loopback": True},
                                httpx.Client()).settings.url == url


def test_both_built_ins_satisfy_the_contract() -> None:
    webhook, inbox = _adapter(), InboxAgencyAdapter({}, httpx.Client())
    assert isinstance(webhook, AgencyAdapter) and isinstance(inbox, AgencyAdapter)
    assert (webhook.name, webhook.handles_tasks) == ("webhook", True)
    assert (inbox.name, inbox.handles_tasks) == ("inbox", False)
    assert inbox.dispatch(_task()).accepted
    with pytest.raises(InvalidCallback, match="inbox"):
        inbox.parse_callback({}, _callback(), NOW)
