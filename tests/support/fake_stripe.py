"""A local stand-in for Stripe's REST API, served over real HTTP, for the calls bizportal makes.

It speaks what the official ``stripe`` library sends and expects: form-encoded bodies with nested
``metadata[key]`` fields, ``Authorization: Bearer sk_test_...``, ``Idempotency-Key`` replays, Stripe-shaped
objects and Stripe's error JSON (``{"error": {"type", "code", "message"}}``). Endpoints:
``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``, ``POST /v1/refunds``.

Tests read :class:`FakeStripeState` (``calls``, ``intents``, ``refunds``) and can mark an intent paid with
:meth:`FakeStripeState.succeed` (a real intent is paid by the customer, not through our API), or make the
next requests fail with :meth:`FakeStripeState.answer_next` (a refusal, an outage).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from support.local_server import serve_in_thread

API_KEY = "sk_test_bizportal_fake_0123456789"
_STARTUP_TIMEOUT_S = 10.0
_KEY_PART = re.compile(r"\[([^\]]*)\]")


@dataclass
class FakeStripeState:
    """What the fake server holds and saw; safe to read from tests between requests."""

    api_key: str = API_KEY
    calls: list[dict[str, Any]] = field(default_factory=list)  # method, path, params, idempotency_key, ...
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    # idempotency key -> (method + path, params, status, body): a replay answers the stored response.
    idempotency: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(default_factory=dict)
    # (status, message) answered to the next authenticated requests, in order, instead of doing them.
    scripted: list[tuple[int, str]] = field(default_factory=list)

    def answer_next(self, status: int, message: str, times: int = 1) -> None:
        """Answer the next `times` requests with a Stripe error of `status` (e.g. 400: refused; 500: failing)."""
        self.scripted += [(status, message)] * times

    def succeed(self, intent_id: str) -> dict[str, Any]:
        """Mark an intent paid in full, as if the customer had confirmed it."""
        intent = self.intents[intent_id]
        intent.update(status="succeeded", amount_received=intent["amount"], client_secret=intent["client_secret"])
        return intent


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back to nested values: ``metadata[a]=1&expand[0]=x`` -> ``{"metadata": {"a": "1"}, ...}``.

    Numeric sub-keys (``[0]``) become lists; values stay strings, as on the wire.
    """
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        node: dict[str, Any] = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return _lists(result)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(key.isdigit() for key in value):
            return [_lists(value[key]) for key in sorted(value, key=int)]
        return {key: _lists(item) for key, item in value.items()}
    return value


def _error(status: int, type_: str, message: str, code: str | None = None, param: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status, headers={"Request-Id": _id("req")})


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _amount(params: dict[str, Any], name: str = "amount") -> int | None:
    raw = params.get(name)
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def create_stripe_app(state: FakeStripeState | None = None) -> FastAPI:
    """The fake Stripe API over ``state`` (a fresh one by default, at ``app.state.stripe``)."""
    state = state if state is not None else FakeStripeState()
    app = FastAPI(title="fake Stripe API")
    app.state.stripe = state

    async def handle(request: Request, action: Callable[[dict[str, Any]], JSONResponse]) -> JSONResponse:
        body = (await request.body()).decode("utf-8")
        params = decode_form(body) if request.method == "POST" else dict(request.query_params)
        key = request.headers.get("idempotency-key")
        state.calls.append({"method": request.method, "path": request.url.path, "params": params,
                            "idempotency_key": key, "authorization": request.headers.get("authorization"),
                            "content_type": request.headers.get("content-type")})
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.startswith("sk_test_") or not secrets.compare_digest(
                token.encode(), state.api_key.encode()):
            # Stripe masks all but the last four characters of a wrong key.
            return _error(401, "invalid_request_error", f"Invalid API Key provided: sk_test_****{token[-4:]}",
                          code="api_key_invalid")
        if state.scripted:
            status, message = state.scripted.pop(0)
            return _error(status, "invalid_request_error" if status < 500 else "api_error", message)
        if request.method != "POST" or key is None:
            return action(params)
        endpoint = f"{request.method} {request.url.path}"
        if key in state.idempotency:
            seen_endpoint, seen_params, status, payload = state.idempotency[key]
            if seen_endpoint != endpoint or seen_params != params:
                return _error(400, "idempotency_error",
                              "Keys for idempotent requests can only be used with the same parameters they were "
                              f"first used with. Try using a key other than '{key}' if you meant to execute a "
                              "different request.")
            return JSONResponse(payload, status_code=status,
                                headers={"Idempotent-Replayed": "true", "Request-Id": _id("req")})
        response = action(params)
        if response.status_code < 500:  # Stripe stores results, not its own failures
            state.idempotency[key] = (endpoint, params, response.status_code, json.loads(bytes(response.body)))
        return response

    def create_intent(params: dict[str, Any]) -> JSONResponse:
        amount = _amount(params)
        if amount is None or amount < 1:
            return _error(400, "invalid_request_error", "Missing required param: amount.",
                          code="parameter_missing", param="amount")
        currency = params.get("currency")
        if not isinstance(currency, str) or not currency:
            return _error(400, "invalid_request_error", "Missing required param: currency.",
                          code="parameter_missing", param="currency")
        intent_id = _id("pi")
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": currency.lower(), "description": params.get("description"),
            "metadata": params.get("metadata", {}), "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "automatic_payment_methods": {"enabled": params.get("automatic_payment_methods", {})
                                          .get("enabled") == "true"},
            "created": int(time.time()), "livemode": False,
        }
        state.intents[intent_id] = intent
        return JSONResponse(intent, headers={"Request-Id": _id("req")})

    def create_refund(params: dict[str, Any]) -> JSONResponse:
        intent = state.intents.get(str(params.get("payment_intent")))
        if intent is None:
            return _error(404, "invalid_request_error", f"No such payment_intent: '{params.get('payment_intent')}'",
                          code="resource_missing", param="payment_intent")
        if intent["status"] != "succeeded":
            return _error(400, "invalid_request_error",
                          f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                          code="charge_not_refundable")
        refunded = sum(r["amount"] for r in state.refunds.values() if r["payment_intent"] == intent["id"])
        amount = _amount(params) if "amount" in params else intent["amount_received"] - refunded
        if amount is None or amount < 1 or refunded + amount > intent["amount_received"]:
            return _error(400, "invalid_request_error",
                          f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                          f"({intent['amount_received'] - refunded})", code="amount_too_large", param="amount")
        refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": intent["currency"],
                  "payment_intent": intent["id"], "status": "succeeded", "metadata": params.get("metadata", {}),
                  "created": int(time.time())}
        state.refunds[refund["id"]] = refund
        return JSONResponse(refund, headers={"Request-Id": _id("req")})

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/payment_intents")
    async def payment_intents(request: Request) -> JSONResponse:
        return await handle(request, create_intent)

    @app.get("/v1/payment_intents/{intent_id}")
    async def payment_intent(intent_id: str, request: Request) -> JSONResponse:
        def retrieve(_: dict[str, Any]) -> JSONResponse:
            intent = state.intents.get(intent_id)
            if intent is None:
                return _error(404, "invalid_request_error", f"No such payment_intent: '{intent_id}'",
                              code="resource_missing", param="intent")
            return JSONResponse(intent, headers={"Request-Id": _id("req")})

        return await handle(request, retrieve)

    @app.post("/v1/refunds")
    async def refunds(request: Request) -> JSONResponse:
        return await handle(request, create_refund)

    return app


def start_fake_stripe(state: FakeStripeState | None = None) -> tuple[str, FakeStripeState, Callable[[], None]]:
    """Serve a fake Stripe API with uvicorn on 127.0.0.1 (a free port) in a background thread.

    Returns:
        ``(base_url, state, stop)``: pass ``base_url`` as the provider's ``api_base``; ``stop()`` shuts the
        server down and frees the port.

    Raises:
        RuntimeError: if the server does not answer within ~10 seconds.
    """
    app = create_stripe_app(state)
    state = app.state.stripe
    base_url, stop = serve_in_thread(app, "fake-stripe")
    return base_url, state, stop

