"""Refuse a NUL character in a request's path or query string before any route sees it.

Path ids and query parameters go to the database as they are, and PostgreSQL cannot hold a NUL in text:
`GET /api/v1/applications/%00` or `GET /api/v1/register?q=%00` used to end in a 500. Bodies are checked
field by field (engine/input_text.py); paths and queries have no model, so they are checked here, once.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bizportal.api.errors import error_body


class NulGuard:
    """ASGI middleware: 422, in the error envelope, for a NUL in the path or the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in(scope)
            if where is not None:
                body = error_body("InvalidInput", f"the request is invalid: the {where} contains a NUL character",
                                  "remove the NUL (%00) character and send again", [{"field": where}])
                await JSONResponse(body, status_code=422)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_in(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope.get("raw_path") or b""):
        return "path"
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return "query string"
    return None
