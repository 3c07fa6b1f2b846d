"""Short-lived signed download links: no sign-in needed, tamper-evident, expiring."""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient

from bizportal.api.app import create_app
from bizportal.api.cli import server_options
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from support.helpers import Auth, Journey
from support.local_server import serve_in_thread

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _issued(journey: Journey, client: TestClient) -> dict[str, Any]:
    journey.create()
    journey.submit()
    journey.approve_everything(journey.officer)
    number = journey.view()["licences"][0]["licence_number"]
    return client.get(f"/api/v1/issued-licences/{number}", headers=journey.applicant).json()


def test_a_signed_link_downloads_the_licence_without_signing_in(journey: Journey, client: TestClient, auth: Auth,
                                                                clock: Any) -> None:
    record = _issued(journey, client)
    url = f"/api/v1/issued-licences/{record['number']}/download-link"
    assert client.post(url, headers=auth("applicant", "mallory")).status_code == 404
    assert client.post(url).status_code == 401
    link = client.post(url, headers=journey.applicant).json()
    assert link["url"].startswith("http") and "/api/v1/downloads/" in link["url"]
    path = urlparse(link["url"]).path

    pdf = client.get(path)  # no Authorization header: the link is the permission
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert hashlib.sha256(pdf.content).hexdigest() == record["sha256"]
    assert f'filename="{record["number"]}.pdf"' in pdf.headers["content-disposition"]

    payload, signature = path.rsplit("/", 1)[1].split(".")
    forged = client.get(f"/api/v1/downloads/{payload[:-2]}AA.{signature}")
    assert forged.status_code == 403 and "not valid" in forged.json()["error"]["message"]
    assert client.get(f"/api/v1/downloads/{payload}").status_code == 403  # unsigned
    # L1: non-ASCII in either half was a 500 (hmac.compare_digest, str.encode("ascii")).
    for token in (f"{payload}.%C3%A9%C3%A9", f"%C3%A9.{signature}", f"{payload}.{signature[:-1]}%C3%A9",
                  f"{payload}.{signature}.x", f".{signature}"):
        refused = client.get(f"/api/v1/downloads/{token}")
        assert refused.status_code == 403 and refused.json()["error"]["message"] == "this download link is not valid"

    clock.advance(minutes=6)
    expired = client.get(path)
    assert expired.status_code == 410 and "new link" in expired.json()["error"]["hint"]
    assert client.post(url, headers=journey.officer).status_code == 200  # the issuing agency may share it too


def test_a_receipt_has_a_signed_link_too(journey: Journey, client: TestClient, auth: Auth) -> None:
    _issued(journey, client)
    (receipt,) = client.get(f"/api/v1/applications/{journey.id}/receipts", headers=journey.applicant).json()
    url = f"/api/v1/receipts/{receipt['number']}/download-link"
    assert client.post(url, headers=auth("applicant", "mallory")).status_code == 404
    link = client.post(url, headers=journey.applicant).json()
    pdf = client.get(urlparse(link["url"]).path)
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == receipt["sha256"]


def test_a_link_stops_working_when_the_licence_is_revoked_or_suspended(journey: Journey, client: TestClient) -> None:
    """L10: the licence's standing is checked at download time, not only when the link is made."""
    record = _issued(journey, client)
    url = f"/api/v1/issued-licences/{record['number']}"
    path = urlparse(client.post(f"{url}/download-link", headers=journey.applicant).json()["url"]).path
    assert client.get(path).status_code == 200
    reason = {"reason": "พบการจำหน่ายอาหารไม่ถูกสุขลักษณะ"}
    assert client.post(f"{url}/suspend", json=reason, headers=journey.officer).status_code == 200
    suspended = client.get(path)
    assert suspended.status_code == 410 and "suspended" in suspended.json()["error"]["message"]
    assert client.post(f"{url}/reinstate", json=reason, headers=journey.officer).status_code == 200
    assert client.get(path).status_code == 200
    assert client.post(f"{url}/revoke", json=reason, headers=journey.officer).status_code == 200
    revoked = client.get(path)
    assert revoked.status_code == 410 and "revoked" in revoked.json()["error"]["message"]


def test_the_access_log_never_shows_a_link_token(journey: Journey, client: TestClient, settings: Settings,
                                                 engine: LicensingEngine) -> None:
    """L10: the token is the permission; uvicorn's access log line carries the path, with the token redacted."""
    record = _issued(journey, client)
    link = client.post(f"/api/v1/issued-licences/{record['number']}/download-link", headers=journey.applicant).json()
    token = urlparse(link["url"]).path.rsplit("/", 1)[1]
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    base_url, stop = serve_in_thread(create_app(settings, engine=engine), "bizportal",
                                     **{**server_options(settings), "access_log": True, "log_level": "info"})
    collector = Collect()
    logging.getLogger("uvicorn.access").addHandler(collector)
    try:
        assert httpx.get(f"{base_url}/api/v1/downloads/{token}").status_code == 200
        assert httpx.get(f"{base_url}/api/v1/downloads/{token}?again=1").status_code == 200
    finally:
        logging.getLogger("uvicorn.access").removeHandler(collector)
        stop()
    downloads = [line for line in lines if "/api/v1/downloads/" in line]
    assert len(downloads) == 2 and all("/api/v1/downloads/[redacted]" in line for line in downloads), lines
    assert not any(token in line or token.split(".")[1] in line for line in lines)
