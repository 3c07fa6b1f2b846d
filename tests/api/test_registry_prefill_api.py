"""Applying with the data exchange configured: data is looked up, not asked for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.api.stack.ports import free_port
from support.fake_registry import API_KEY, PERSON, UNREGISTERED_PERSON, start_registry_server
from support.helpers import Auth, application_body

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def registry_url() -> Iterator[str]:
    base_url, stop = start_registry_server()
    yield base_url
    stop()


def _client(settings: Settings, clock: object, url: str) -> TestClient:
    configured = settings.model_copy(update={"registry_url": url, "registry_api_key": SecretStr(API_KEY)})
    return TestClient(create_app(configured, engine=engine_from(configured, clock=clock)))  # type: ignore[arg-type]


def test_registry_fills_the_name_and_stands_for_the_documents(settings: Settings, clock: object,
                                                               registry_url: str, auth: Auth) -> None:
    client = _client(settings, clock, registry_url)
    body = application_body(id_number=PERSON)
    body["applicant"]["name"] = "typed by the applicant"  # type: ignore[index]
    created = client.post("/api/v1/applications", json=body, headers=auth("applicant", "alice"))
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["applicant"]["name"] == "สมหญิง ใจดี"  # the registry's record counts
    provided = {d["id"]: d["provided"] for d in view["licences"][0]["documents"]}
    assert provided["applicant_id_card"] == "registry"
    assert provided["premises_map_and_floor_plan"] == "upload"
    lookup = [e for e in view["timeline"] if e["event"] == "registry.looked_up"][0]
    assert lookup["detail"]["id_number"] == "1-1017-xxxxx-xx-5"
    assert "food_premises_notice_small" in lookup["detail"]["purpose"]


def test_unregistered_number_is_a_422(settings: Settings, clock: object, registry_url: str, auth: Auth) -> None:
    client = _client(settings, clock, registry_url)
    response = client.post("/api/v1/applications", json=application_body(id_number=UNREGISTERED_PERSON),
                           headers=auth("applicant", "nobody", id_number=UNREGISTERED_PERSON))
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "applicant.id_number"


def test_unreachable_registry_is_a_503_and_creates_nothing(settings: Settings, clock: object, auth: Auth) -> None:
    client = _client(settings, clock, f"http://127.0.0.1:{free_port()}")
    response = client.post("/api/v1/applications", json=application_body(id_number=PERSON),
                           headers=auth("applicant", "alice"))
    assert response.status_code == 503 and response.json()["error"]["hint"]
    assert client.get("/api/v1/applications", headers=auth("applicant", "alice")).json() == []


def test_without_a_registry_exchange_documents_are_pending(journey: object) -> None:
    view = journey.create()  # type: ignore[attr-defined]
    provided = {d["id"]: d["provided"] for d in view["licences"][0]["documents"]}
    assert provided["applicant_id_card"] == "exchange_pending" and provided["premises_map_and_floor_plan"] == "upload"
