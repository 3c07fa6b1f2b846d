"""The built-in `webhook` adapter: signed JSON both ways between Biz Portal and an agency's system.

Each ready step is POSTed to the agency's `url` as a `TaskDispatch`; the agency answers each with a
`CallbackDecision` POSTed to the dispatch's `callback_url`. Both directions carry

    X-BizPortal-Timestamp: <unix seconds>
    X-BizPortal-Signature: sha256=<hex HMAC-SHA256(secret, b"<direction>.<timestamp>." + body)>

where `<direction>` is `dispatch` on what Biz Portal sends and `callback` on what the agency sends back:
one shared secret, but a dispatch captured at the agency does not authenticate as a callback (or the
reverse). The receiver rejects a wrong signature or a timestamp more than `replay_window_seconds` away
from its own time (either direction). Dispatches also carry `Idempotency-Key: <delivery_id>`.

The `url` must be https: dispatches carry the applicant's full ID number. Plain http is accepted only to
a loopback address (127.0.0.0/8, ::1, localhost) and only with `"allow_http_loopback": true`, for an
agency system on the same machine in development (the example back-office).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from bizportal.adapters.agencies.base import (
    CallbackDecision,
    DispatchResult,
    FinalAgencyError,
    InvalidCallback,
    MalformedCallback,
    RetriableAgencyError,
    TaskDispatch,
)

TIMESTAMP_HEADER = "X-BizPortal-Timestamp"
SIGNATURE_HEADER = "X-BizPortal-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Statuses that say "not now" rather than "never": the request timed out, or the server asks to slow down.
RETRIABLE_CLIENT_STATUSES = {408, 425, 429}
Direction = Literal["dispatch", "callback"]
DISPATCH: Direction = "dispatch"  # Biz Portal -> the agency's system
CALLBACK: Direction = "callback"  # the agency's system -> Biz Portal
# Unix seconds as ASCII digits, at most 12 (year 33658): a longer or non-ASCII value is refused before
# any arithmetic (a 400-digit number does not fit a float).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
LOOPBACK_NAMES = {"localhost"}


def sign(secret: str, timestamp: int, body: bytes, *, direction: Direction) -> str:
    """The signature header value for `body` sent at `timestamp` (unix seconds) in `direction`."""
    message = f"{direction}.{timestamp}.".encode() + body
    return f"sha256={hmac.new(secret.encode('utf-8'), message, hashlib.sha256).hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes, *, direction: Direction) -> dict[str, str]:
    """Headers that authenticate `body` in `direction`: timestamp, signature and the JSON content type."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body, direction=direction),
            "Content-Type": "application/json"}


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime, replay_window_seconds: int = 300,
           *, direction: Direction) -> None:
    """Check that a request was signed with `secret` recently, for `direction`.

    Args:
        secret: the shared secret.
        headers: the request headers (any case).
        body: the raw body as received.
        now: the receiver's time.
        replay_window_seconds: how far the signed timestamp may be from `now`, earlier or later.
        direction: what the receiver expects: `dispatch` at the agency, `callback` at Biz Portal.

    Raises:
        InvalidCallback: a header is missing, the timestamp is not unix seconds or is outside the window, or
            the signature is wrong (including a signature made for the other direction).
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower())
    signature = lowered.get(SIGNATURE_HEADER.lower())
    if not raw_timestamp or not signature:
        raise InvalidCallback(f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
    if _TIMESTAMP.fullmatch(raw_timestamp.strip()) is None:
        raise InvalidCallback(f"{TIMESTAMP_HEADER} must be unix seconds")
    timestamp = int(raw_timestamp)
    if abs(int(now.timestamp()) - timestamp) > replay_window_seconds:
        raise InvalidCallback(f"{TIMESTAMP_HEADER} is more than {replay_window_seconds} s from the receiver's time")
    expected = sign(secret, timestamp, body, direction=direction)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise InvalidCallback(f"{SIGNATURE_HEADER} does not match the body")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: traffic that never leaves the machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSettings(BaseModel):
    """An agency's `webhook` settings in `BIZPORTAL_AGENCY_ADAPTERS`."""

    model_config = ConfigDict(extra="forbid")

    # Before `url`: its check reads this.
    allow_http_loopback: bool = Field(default=False, description="development only: accept an http:// url to a "
                                      "loopback address (an agency system on the same machine)")
    url: str = Field(pattern=r"^https?://", description="where ready steps are POSTed (https)")
    secret: str = Field(min_length=16, description="shared HMAC secret, both directions")
    replay_window_seconds: int = Field(default=300, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _https(cls, url: str, info: ValidationInfo) -> str:
        parts = urlsplit(url)
        if parts.scheme == "https":
            return url
        if not is_loopback(parts.hostname or ""):
            raise ValueError("must be https: dispatches carry the applicant's ID number (plain http is accepted "
                             "only to a loopback address, with allow_http_loopback, in development)")
        if not info.data.get("allow_http_loopback"):
            raise ValueError("is plain http: use https, or for an agency system on this machine in development "
                             "set allow_http_loopback: true")
        return url


class WebhookAgencyAdapter:
    """Delivers steps to an agency's system as signed POSTs and verifies its signed callbacks."""

    name = "webhook"
    handles_tasks = True
    Settings = WebhookSettings

    def __init__(self, config: WebhookSettings | Mapping[str, Any], http: httpx.Client) -> None:
        if isinstance(config, WebhookSettings):
            self.settings, self.http = config, http
            return
        try:
            self.settings = WebhookSettings.model_validate(dict(config))
        except ValidationError as err:
            # Name the fields only: the input values would put the secret into start-up logs.
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
                             ) from None
        self.http = http

    def dispatch(self, task: TaskDispatch) -> DispatchResult:
        body = task.model_dump_json().encode()
        headers = {**signed_headers(self.settings.secret, int(task.sent_at.timestamp()), body, direction=DISPATCH),
                   IDEMPOTENCY_HEADER: task.delivery_id}
        try:
            response = self.http.post(self.settings.url, content=body, headers=headers,
                                      timeout=self.settings.timeout_seconds)
        except httpx.TransportError as err:  # timeouts, refused connections, broken TLS
            raise RetriableAgencyError(f"{self.settings.url} unreachable: {type(err).__name__}: {err}") from err
        if response.is_success:
            return DispatchResult(accepted=True, external_reference=_reference(response))
        detail = f"{self.settings.url} answered {response.status_code}: {response.text[:300]}"
        if response.status_code >= 500 or response.status_code in RETRIABLE_CLIENT_STATUSES:
            raise RetriableAgencyError(detail)
        raise FinalAgencyError(detail)

    def parse_callback(self, headers: Mapping[str, str], body: bytes, now: datetime) -> CallbackDecision:
        verify(self.settings.secret, headers, body, now, self.settings.replay_window_seconds, direction=CALLBACK)
        try:
            return CallbackDecision.model_validate_json(body)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors())
            raise MalformedCallback(f"the callback is not a valid decision: {problems}") from err


def _reference(response: httpx.Response) -> str | None:
    """The agency's own id for the task, when its answer is JSON with `external_reference` or `reference`."""
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        value = data.get("external_reference") or data.get("reference")
        return str(value) if value is not None else None
    return None
