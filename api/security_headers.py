"""Security headers on every response (a pure ASGI middleware).

- `Content-Security-Policy`: same-origin everything, no plug-ins, no framing. The HTML pages keep their
  inline `<style>` (styles only: scripts stay same-origin). `/docs` and `/redoc` are FastAPI's Swagger UI
  and ReDoc pages, which load their scripts, styles and fonts from public CDNs and start with an inline
  script, so those two paths (and nothing else) get a policy that allows exactly that.
- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` (the web pages
  narrow it to `same-origin` with a `<meta name="referrer">`, so their form posts carry an `Origin` for the
  session cookie's CSRF rule: api/templates/base.html).
- `Strict-Transport-Security` only when served over TLS: the request came over https (uvicorn sets the
  scheme from `X-Forwarded-Proto` behind a trusted proxy) or the public base URL is https.
- `Cache-Control: no-store` on personal data and documents: every response to a request that carries
  credentials, every PDF, every download link and the verification answers (which name the holder).

The `server: uvicorn` banner is added by uvicorn itself, below the app: `bizportal serve` turns it off.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")
# What FastAPI's get_swagger_ui_html / get_redoc_html load: swagger-ui-dist and redoc from jsDelivr, the
# favicon from fastapi.tiangolo.com, ReDoc's fonts from Google Fonts, and Swagger UI's inline start-up script.
DOCS_CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                                "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
                                "https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; "
                                "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
                                "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
                                "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
NO_STORE_PATHS = ("/api/v1/downloads/", "/api/v1/verify", "/verify/")
HSTS = b"max-age=31536000"

_COMMON = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"no-referrer")]


def _is_docs(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in DOCS_PATHS)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, public_base_url: str) -> None:
        self.app = app
        self.always_tls = public_base_url.lower().startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        credentials = any(key.lower() == b"authorization" for key, _ in scope["headers"])
        tls = self.always_tls or scope.get("scheme") == "https"
        policy = DOCS_CONTENT_SECURITY_POLICY if _is_docs(path) else CONTENT_SECURITY_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                content_type = next((value for key, value in headers if key.lower() == b"content-type"), b"")
                added = [*_COMMON, (b"content-security-policy", policy.encode())]
                if tls:
                    added.append((b"strict-transport-security", HSTS))
                if credentials or content_type.startswith(b"application/pdf") or path.startswith(NO_STORE_PATHS):
                    headers = [(key, value) for key, value in headers if key.lower() != b"cache-control"]
                    present.discard(b"cache-control")
                    added.append((b"cache-control", b"no-store"))
                headers.extend((key, value) for key, value in added if key not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
