"""Request size limits, enforced while the request is read (a pure ASGI middleware).

- Bodies: multipart/form-data (the PDF verifier's upload) may be `max_upload_bytes`, a document upload
  (`POST /api/v1/applications/{id}/documents`, and the pages' forms at `/apply/{id}/documents` and
  `/applications/{id}/documents`) `document_bytes` (the largest document and its form), every
  other body (JSON, webhooks) `max_body_bytes`. A `Content-Length` over the limit is answered 413 before a byte of
  the body is read; a body without one (chunked) is counted as it streams in, and the 413 is sent the
  moment the count passes the limit. The rest is never read, so nothing past the limit is parsed,
  spooled to disk or stored. The server then closes the connection (the body was not drained).
- Headers: the request head is read by the server before any app code runs, so the limit that protects
  memory is the server's: `bizportal serve` runs uvicorn's h11 parser with
  `h11_max_incomplete_event_size = max_header_bytes`, which stops buffering a head still incomplete past the
  limit (a bare 400). A longer head that arrived whole in one network read gets here: this middleware
  answers it 431 with the error envelope, as it does behind any other server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bizportal.api.errors import error_body
from bizportal.api.pages.page_route import error_page
from bizportal.api.pages.rendering import size_text

# Room for the other parts of a document upload (the `document` field, the part headers, the boundaries).
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class Limits:
    body_bytes: int
    upload_bytes: int
    header_bytes: int
    # The largest document file (None: `upload_bytes` for the whole body): its upload's body may be
    # MULTIPART_OVERHEAD more, and a page's too-large answer names this size, the one the forms announce.
    document_bytes: int | None = None


_DOCUMENT_UPLOAD = re.compile(r"(?:/api/v1)?/applications/[^/]+/documents/?|/apply/[^/]+/documents/?")  # API, pages


class _TooLarge(HTTPException):
    """Raised from `receive` past the limit. An HTTPException, so FastAPI passes it on instead of turning a
    failed body read into a 400; whatever answer the app then starts is replaced by the 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key.lower() == name), None)


def _response(status: int, code: str, message: str, hint: str) -> list[Message]:
    body = json.dumps(error_body(code, message, hint)).encode()
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close")]},
            {"type": "http.response.body", "body": body}]


def _from_a_page(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return not path.startswith("/api/") and b"text/html" in (_header(scope, b"accept") or b"")


def _page_too_large(scope: Scope, limit: int) -> list[Message]:
    """The 413 as a page (see the module's docstring), rendered before the body is read: nothing of it is needed.
    The way back is the form's own address, when the browser says it came from a page of this service."""
    request = Request(scope)
    came_from = urlsplit(request.headers.get("referer", ""))
    back = (came_from.path + (f"?{came_from.query}" if came_from.query else "")
            if came_from.netloc == request.headers.get("host") and came_from.path.startswith("/") else None)
    page = error_page(request, 413, f"larger than {size_text(limit)}", back)
    page.headers["connection"] = "close"
    return [{"type": "http.response.start", "status": 413, "headers": page.raw_headers},
            {"type": "http.response.body", "body": page.body}]


class RequestLimits:
    """Answers 413 (body) or 431 (headers) with the standard error envelope."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(key) + len(value) for key, value in scope["headers"]) > self.limits.header_bytes:
            await self._send_all(send, _response(
                431, "HeadersTooLarge", f"the request headers are larger than {self.limits.header_bytes} bytes",
                "send shorter headers"))
            return
        content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        limit = shown = self.limits.body_bytes
        if content_type == b"multipart/form-data":
            limit = shown = self.limits.upload_bytes
            if self.limits.document_bytes is not None and _DOCUMENT_UPLOAD.fullmatch(scope.get("path", "")):
                shown = self.limits.document_bytes
                limit = shown + MULTIPART_OVERHEAD
        too_large = (_page_too_large(scope, shown) if _from_a_page(scope) else
                     _response(413, "PayloadTooLarge", f"the request body is larger than {limit} bytes",
                               "send a smaller body" if limit == self.limits.body_bytes
                               else "upload a smaller file"))
        declared = (_header(scope, b"content-length") or b"").strip()
        if declared.isdigit() and int(declared) > limit:  # isdigit on bytes: ASCII digits only
            await self._send_all(send, too_large)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _TooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app's own answer to the failed read (or anything after it) is replaced by the 413.
                if not started:
                    started = True
                    await self._send_all(send, too_large)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if started and not exceeded:
                raise
        if exceeded and not started:
            await self._send_all(send, too_large)

    @staticmethod
    async def _send_all(send: Send, messages: list[Message]) -> None:
        for message in messages:
            await send(message)
