"""Rate limits per client address on the public doors, and on failed sign-ins (security review L6).

Anyone may look up or upload a licence for verification and follow a download link without signing in,
so those are limited per client address. Rejected bearer tokens are counted per address too: past the
budget they are answered 429 with `Retry-After` instead of 401, which tells a script to back off. A valid
token is never refused, because many people (a counter office behind one NAT address) share an address
and one of them with a stale token must not lock the others out. Counters live in memory (one process, the
embedded default) or in Redis when it is configured, so every API process of a deployment shares them.
Behind a reverse proxy, run uvicorn with the proxy's address in `--forwarded-allow-ips` so the client
address is the caller's.

Windows are wall-clock seconds, not the engine's clock: they measure traffic, not business time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from starlette.responses import JSONResponse

from bizportal.api.errors import error_body

Scope = dict[str, Any]


@dataclass(frozen=True)
class RateRule:
    """Requests of `method` to paths matching `path` share one budget per client address."""

    name: str
    method: str
    path: re.Pattern[str]
    limit: RateLimitItem


def public_rules(verify_uploads: str, lookups: str) -> list[RateRule]:
    """The public doors: PDF verification (costly: it parses the upload) and the look-ups and downloads."""
    return [
        RateRule("verify-upload", "POST", re.compile(r"^/api/v1/verify/?$"), parse(verify_uploads)),
        RateRule("lookup", "GET", re.compile(r"^(/api/v1)?/verify/|^/api/v1/downloads/"), parse(lookups)),
    ]


class RateLimitMiddleware:
    """ASGI middleware answering 429 (with `Retry-After` and the error envelope) once a budget is spent."""

    def __init__(self, app: Any, rules: Sequence[RateRule], auth_failures: str, storage_uri: str = "memory://"):
        self.app = app
        self.rules = list(rules)
        self.auth_failures = parse(auth_failures)
        self.limiter = FixedWindowRateLimiter(storage_from_string(storage_uri))

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        for rule in self.rules:
            if scope["method"] == rule.method and rule.path.search(scope["path"]):
                if not self.limiter.hit(rule.limit, rule.name, client):
                    await self._refuse(scope, receive, send, rule.limit, rule.name, client)
                    return
                break
        if not any(name == b"authorization" for name, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)
            return
        refused = False

        async def counting_send(message: dict[str, Any]) -> None:
            # A rejected token counts; past the budget its answer becomes a 429. A valid token is never
            # refused, so one client's stale tokens cannot lock out everyone behind the same address.
            nonlocal refused
            if refused:
                return  # the 401's body is replaced by the 429's
            if message["type"] == "http.response.start" and message["status"] == 401 \
                    and not self.limiter.hit(self.auth_failures, "auth-failures", client):
                refused = True
                await self._refuse(scope, receive, send, self.auth_failures, "auth-failures", client)
                return
            await send(message)

        await self.app(scope, receive, counting_send)

    async def _refuse(self, scope: Scope, receive: Any, send: Any, limit: RateLimitItem, name: str,
                      client: str) -> None:
        reset = self.limiter.get_window_stats(limit, name, client).reset_time
        retry_after = max(1, int(reset - time.time()) + 1)
        body = error_body("rate_limited", f"too many requests from this address: at most {limit.amount} per "
                                          f"{limit.get_expiry()} seconds here",
                          f"wait {retry_after} seconds and try again", {"retry_after_seconds": retry_after})
        await JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})(scope, receive, send)
