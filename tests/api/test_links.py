"""The addresses the engine hands out (api/links.py) are paths the app serves, under the public base URL."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from bizportal.api.links import PublicLinks

BASE = "https://bizportal.test/portal/"


def _served(app: FastAPI, url: str, method: str) -> bool:
    path = url.removeprefix(BASE.rstrip("/")).split("?")[0]
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def test_every_link_is_a_route_of_the_app(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    links = PublicLinks(BASE)
    for url, method in ((links.application("0b9f7a3e-1111-4222-8333-444455556666"), "GET"),
                        (links.renewal("LAO-2569-000123"), "GET"),
                        (links.licence_verification("LAO-2569-000123", "c2lnbmF0dXJl"), "GET"),
                        (links.receipt_pdf("BP-R-2569-000042"), "GET"),
                        (links.agency_callback("DLD"), "POST")):
        assert url.startswith(BASE.rstrip("/") + "/") and "//" not in url.removeprefix("https://"), url
        assert _served(app, url, method), url


def test_the_links_read_as_they_should() -> None:
    links = PublicLinks("https://bizportal.test")
    assert links.application("A1") == "https://bizportal.test/applications/A1"  # pages, not JSON routes
    assert links.licence_verification("LAO-2569-000123") == "https://bizportal.test/verify/LAO-2569-000123"
    assert links.licence_verification("N", "abc-_9") == "https://bizportal.test/verify/N?s=abc-_9"
    assert links.renewal("N") == "https://bizportal.test/my-licences/N"
    assert links.receipt_pdf("BP-R-2569-000042") == "https://bizportal.test/api/v1/receipts/BP-R-2569-000042/pdf"
    assert links.agency_callback("DLD") == "https://bizportal.test/api/v1/agencies/DLD/callbacks"
