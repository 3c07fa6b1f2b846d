"""The object store going down under a running service, on a real S3 server: a SeaweedFS of this module's own (the
session's server may be a shared, external MinIO, which a test must not stop), killed mid-use and started again on its
data. While it is down the service says so (503s, /readyz) and records nothing half-way; once it is back, every stored
file is served again."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.object_store import ObjectStoreUnavailable, content_key
from support.helpers import Journey
from support.s3_server import S3Server, start_seaweedfs
from support.uploads import MAP_DOCUMENT, pdf, upload

pytestmark = [pytest.mark.s3, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def own_s3() -> Iterator[S3Server]:
    server = start_seaweedfs()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(settings: Settings, own_s3: S3Server) -> Settings:
    return settings.model_copy(update={
        "object_store": "s3", "s3_endpoint": own_s3.endpoint, "s3_access_key": own_s3.access_key,
        "s3_secret_key": SecretStr(own_s3.secret_key), "s3_region": own_s3.region, "s3_bucket": "bizportal"})


def test_a_store_killed_mid_use_is_reported_and_its_files_are_served_once_it_is_back(
        client: TestClient, journey: Journey, engine: LicensingEngine, own_s3: S3Server) -> None:
    assert own_s3.seaweedfs is not None
    journey.create()
    content = pdf(pages=2)
    sent = upload(client, journey.id, MAP_DOCUMENT, journey.applicant, content)
    assert sent.status_code == 201, sent.text
    document = sent.json()
    content_url = f"/api/v1/documents/{document['id']}/content"
    link = client.post(f"/api/v1/documents/{document['id']}/download-link", headers=journey.applicant)
    link_url = urlparse(link.json()["url"]).path
    assert client.get(link_url).content == content
    assert client.get("/readyz").json()["checks"] == {"database": "ok", "object_store": "ok"}

    # SIGKILL, as a crash would. (pause(), a hung store, holds each read for the client's 30 s read timeout.)
    own_s3.seaweedfs.kill()

    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["object_store"].startswith(f"unavailable: S3 endpoint {own_s3.endpoint} could not "
                                                             "be reached")
    for down in (client.get(content_url, headers=journey.applicant), client.get(link_url)):
        assert down.status_code == 503 and down.json()["error"]["code"] == "Unavailable", down.text
    with pytest.raises(ObjectStoreUnavailable, match="could not be reached"):
        engine.ctx.object_store.get(content_key(document["sha256"]))
    # A new upload fails whole: nothing of it is recorded.
    refused = upload(client, journey.id, MAP_DOCUMENT, journey.applicant, pdf(pages=3))
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "Unavailable", refused.text

    own_s3.seaweedfs.start()  # on the data it had

    assert client.get("/readyz").json() == {"status": "ready", "checks": {"database": "ok", "object_store": "ok"}}
    assert client.get(content_url, headers=journey.applicant).content == content
    assert client.get(link_url).content == content
    listed = client.get(f"/api/v1/applications/{journey.id}/documents", headers=journey.applicant).json()
    mine = next(entry for entry in listed if entry["document"] == MAP_DOCUMENT)
    assert mine["current"]["id"] == document["id"] and mine["earlier"] == []
