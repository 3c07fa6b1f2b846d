"""Security headers on every response (L8), and no server banner."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from bizportal.api.app import create_app
from bizportal.api.cli import server_options
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from support.helpers import Auth
from support.local_server import serve_in_thread

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in response.headers["content-security-policy"].split(";"))
    return {name: values for name, *values in directives}


def _assert_hardened(response: httpx.Response) -> None:
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_every_kind_of_response_carries_the_headers(client: TestClient, auth: Auth, settings: Settings,
                                                    engine: LicensingEngine) -> None:
    alice = auth("applicant", "alice")
    answers = {
        "json": client.get("/api/v1/licences"),
        "page": client.get("/licences"),
        "verify page": client.get("/verify/LAO-2569-000001", params={"s": "x"}),
        "personal": client.get("/api/v1/applications", headers=alice),
        "error": client.get("/api/v1/applications"),
        "too large": client.post("/api/v1/applications", content=b"x" * (2 * 1024 * 1024), headers=alice),
    }
    for name, response in answers.items():
        _assert_hardened(response)
        # The test settings' public base URL is https: HSTS everywhere.
        assert response.headers["strict-transport-security"] == "max-age=31536000", name
    assert _policy(answers["page"])["script-src"] == ["'self'"]  # pages keep inline styles, never inline scripts
    # Personal data, documents and verification answers are never cached; the public catalogue may be.
    for name in ("personal", "verify page"):
        assert answers[name].headers["cache-control"] == "no-store"
    assert client.get("/api/v1/verify/LAO-2569-000001").headers["cache-control"] == "no-store"
    assert "no-store" not in answers["json"].headers.get("cache-control", "")

    app = create_app(settings, engine=engine)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    crash = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert crash.status_code == 500
    _assert_hardened(crash)


def test_hsts_only_over_tls(settings: Settings, engine: LicensingEngine) -> None:
    plain = create_app(settings.model_copy(update={"public_base_url": "http://127.0.0.1:8000"}), engine=engine)
    assert "strict-transport-security" not in TestClient(plain).get("/healthz").headers
    # Behind a TLS-terminating proxy uvicorn sets the scheme from X-Forwarded-Proto: the request came over https.
    tls = TestClient(plain, base_url="https://bizportal.test").get("/healthz")
    assert tls.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_load_what_they_need_and_nothing_else(client: TestClient, path: str) -> None:
    """FastAPI's Swagger UI and ReDoc pages pull their assets from CDNs: their policy names exactly those."""
    page = client.get(path)
    assert page.status_code == 200
    _assert_hardened(page)
    policy = _policy(page)
    needs = {"script-src": re.findall(r'<script src="([^"]+)"', page.text),
             "style-src": re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', page.text)
             + re.findall(r'<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"', page.text),
             "img-src": re.findall(r'<link rel="shortcut icon" href="([^"]+)"', page.text)}
    assert needs["script-src"]
    for directive, urls in needs.items():
        for url in urls:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
            assert origin in policy[directive], f"{path}: {directive} does not allow {url}"
    if "<script>" in page.text:  # Swagger UI's start-up script
        assert "'unsafe-inline'" in policy["script-src"]
    assert _policy(client.get("/licences"))["script-src"] == ["'self'"]  # only the docs get any of this


def test_the_server_sends_no_banner(settings: Settings, engine: LicensingEngine) -> None:
    base_url, stop = serve_in_thread(create_app(settings, engine=engine), "bizportal", **server_options(settings))
    try:
        response = httpx.get(f"{base_url}/healthz")
    finally:
        stop()
    assert response.status_code == 200 and "server" not in response.headers
    _assert_hardened(response)
