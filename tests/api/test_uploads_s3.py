"""Uploaded documents over HTTP with the S3 backend, against the session's S3 server (SeaweedFS, or the external
one the settings name): stored under their content key in the bucket, read back through the API and through a
signed link."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.object_store import content_key
from support.helpers import Journey
from support.s3_server import S3Server
from support.uploads import MAP_DOCUMENT, pdf, png_with_location

pytestmark = pytest.mark.s3


@pytest.fixture
def settings(settings: Settings, s3_server: S3Server, new_s3_bucket: Callable[[], str]) -> Settings:
    return settings.model_copy(update={
        "object_store": "s3", "s3_endpoint": s3_server.endpoint, "s3_access_key": s3_server.access_key,
        "s3_secret_key": SecretStr(s3_server.secret_key), "s3_region": s3_server.region,
        "s3_secure": s3_server.secure, "s3_bucket": new_s3_bucket()})


def test_documents_go_to_the_bucket_and_come_back_through_the_api(client: TestClient, journey: Journey,
                                                                  engine: LicensingEngine, settings: Settings,
                                                                  s3_server: S3Server) -> None:
    journey.create()
    # Large enough that minio sends it in parts (5 MiB each): the upload streams from the spooled file.
    big = pdf(pages=2, padding=6 * 1024 * 1024)
    created = client.post(f"/api/v1/applications/{journey.id}/documents", data={"document": MAP_DOCUMENT},
                          files={"file": ("plan.pdf", big, "application/pdf")}, headers=journey.applicant)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["sha256"] == hashlib.sha256(big).hexdigest()
    downloaded = client.get(f"/api/v1/documents/{document['id']}/content", headers=journey.applicant)
    assert downloaded.status_code == 200 and downloaded.content == big

    # In the bucket under its content key (uploaded with the bucket's default, private ACL: the API streams it).
    assert engine.ctx.object_store.exists(content_key(document["sha256"]))

    link = client.post(f"/api/v1/documents/{document['id']}/download-link", headers=journey.applicant).json()
    assert client.get(link["url"].removeprefix("https://bizportal.test")).content == big

    image = client.post(f"/api/v1/applications/{journey.id}/documents", data={"document": MAP_DOCUMENT},
                        files={"file": ("shop.png", png_with_location(), "image/png")}, headers=journey.applicant)
    assert image.status_code == 201 and image.json()["version"] == 2
    stored = client.get(f"/api/v1/documents/{image.json()['id']}/content", headers=journey.applicant).content
    assert hashlib.sha256(stored).hexdigest() == image.json()["sha256"] and b"Phone" not in stored
