"""Short-lived signed download links: no sign-in needed, tamper-evident, expiring."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from helpers import Auth, Journey

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
    assert hashlib.sha256(pdf.content).hexdigest() == record["sha256"]
    assert f'filename="{record["number"]}.pdf"' in pdf.headers["content-disposition"]

    payload, signature = path.rsplit("/", 1)[1].split(".")
    forged = client.get(f"/api/v1/downloads/{payload[:-2]}AA.{signature}")
    assert forged.status_code == 403 and "not valid" in forged.json()["error"]["message"]
    assert client.get(f"/api/v1/downloads/{payload}").status_code == 403  # unsigned

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
