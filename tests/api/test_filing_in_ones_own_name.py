"""Who may file in whose name (issue 11 §2): an individual files only as the person the sign-in vouches for; a
company through its directors per the company registry, or the people they authorise. With the data exchange
on, as a deployment has it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from support.fake_registry import API_KEY, COMPANY, create_registry_app, start_registry_server
from support.helpers import ALICE_ID, Auth, application_body, id_number_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
REPRESENTATIVES = f"/api/v1/companies/{COMPANY}/representatives"
FOR_THE_COMPANY = {"kind": "juristic", "id_number": COMPANY, "name": "บริษัท ตัวอย่าง จำกัด"}


@pytest.fixture
def registry() -> Iterator[tuple[FastAPI, str]]:
    app = create_registry_app()
    base_url, stop = start_registry_server(app)
    yield app, base_url
    stop()


@pytest.fixture
def client(settings: Settings, clock: Any, registry: tuple[FastAPI, str]) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"registry_url": registry[1], "registry_api_key": SecretStr(API_KEY)})
    with TestClient(create_app(configured, engine=engine_from(configured, clock=clock))) as test_client:
        yield test_client


def _file(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/applications", json=application_body(**body), headers=headers)


def test_nobody_files_in_someone_elses_name_nor_learns_it(client: TestClient, auth: Auth,
                                                         registry: tuple[FastAPI, str]) -> None:
    bob = auth("applicant", "bob")
    refused = _file(client, bob)  # the body names Alice
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert "own name" in error["message"] and "counter" in error["hint"]
    assert error["details"]["field"] == "applicant.id_number"
    assert registry[0].state.seen == []  # refused before the look-up: her registered name stays unknown to him
    assert client.get("/api/v1/applications", headers=auth("admin", "root")).json() == []

    nameless = auth("applicant", "someone", id_number="")  # a sign-in that vouches for no ID number
    refused = _file(client, nameless)
    assert refused.status_code == 403 and "no national ID number" in refused.json()["error"]["message"]

    mine = _file(client, auth("applicant", "alice"))
    assert mine.status_code == 201 and mine.json()["applicant"]["name"] == "สมหญิง ใจดี"
    # Hers by ID number, whatever the sign-in's subject: another sign-in of hers finds it, Bob does not.
    again = auth("applicant", "alice-on-her-phone", id_number=ALICE_ID)
    assert client.get(f"/api/v1/applications/{mine.json()['id']}", headers=again).status_code == 200
    assert client.get(f"/api/v1/applications/{mine.json()['id']}", headers=bob).status_code == 404


def test_a_director_files_for_the_company_and_authorises_others(client: TestClient, auth: Auth) -> None:
    alice, bob, mallory = auth("applicant", "alice"), auth("applicant", "bob"), auth("applicant", "mallory")
    refused = _file(client, bob, applicant=FOR_THE_COMPANY)
    assert refused.status_code == 403, refused.text
    assert REPRESENTATIVES in refused.json()["error"]["hint"]

    # The registry lists Alice as a director (by ID number): she files, and is recorded as such.
    filed = _file(client, alice, applicant=FOR_THE_COMPANY)
    assert filed.status_code == 201, filed.text
    (director,) = client.get(REPRESENTATIVES, headers=alice).json()
    assert (director["basis"], director["id_number"]) == ("director_per_registry", "1-1017-xxxxx-xx-5")

    # She authorises Bob; Bob may not authorise anyone himself.
    grant = {"id_number": id_number_of("bob"), "name": "บ๊อบ", "valid_until": "2027-12-31"}
    for headers, status in ((bob, 403), (mallory, 403), (alice, 201), (alice, 409)):
        assert client.post(REPRESENTATIVES, json=grant, headers=headers).status_code == status
    bobs = _file(client, bob, applicant=FOR_THE_COMPANY)
    assert bobs.status_code == 201, bobs.text
    company_files = {filed.json()["id"], bobs.json()["id"]}
    for headers in (alice, bob):
        assert {a["id"] for a in client.get("/api/v1/applications", headers=headers).json()} == company_files
    assert client.get(REPRESENTATIVES, headers=mallory).status_code == 404
    assert client.get("/api/v1/applications", headers=mallory).json() == []

    # She revokes it: Bob no longer reaches the company's applications, nor files for it.
    (authorised,) = [r for r in client.get(REPRESENTATIVES, headers=alice).json()
                     if r["basis"] != "director_per_registry"]
    assert authorised["basis"] == "granted_by_director" and authorised["granted_by"] == "applicant:alice"
    assert client.post(f"{REPRESENTATIVES}/{authorised['id']}/revoke", headers=mallory).status_code == 403
    revoked = client.post(f"{REPRESENTATIVES}/{authorised['id']}/revoke", headers=alice)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.post(f"{REPRESENTATIVES}/{authorised['id']}/revoke", headers=alice).status_code == 409
    assert client.get("/api/v1/applications", headers=bob).json() == []
    assert client.get(f"/api/v1/applications/{bobs.json()['id']}", headers=bob).status_code == 404
    assert _file(client, bob, applicant=FOR_THE_COMPANY).status_code == 403


def test_authorisations_are_validated(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    assert _file(client, alice, applicant=FOR_THE_COMPANY).status_code == 201
    for body, field in (({"id_number": "1234", "name": "x", "valid_until": "2027-01-01"}, "id_number"),
                        ({"id_number": id_number_of("bob"), "name": "x", "valid_until": "2026-11-30"}, "valid_until"),
                        ({"id_number": id_number_of("bob"), "name": "x", "valid_until": "2031-01-01"}, "valid_until"),
                        ({"id_number": id_number_of("bob"), "name": "", "valid_until": "2027-01-01"}, "name")):
        refused = client.post(REPRESENTATIVES, json=body, headers=alice)
        assert refused.status_code == 422 and field in str(refused.json()["error"]), refused.text
    assert client.post("/api/v1/companies/12345/representatives", json={}, headers=alice).status_code == 422


def test_a_counter_finds_the_entrepreneur_in_the_registry_and_the_look_up_is_recorded(
        client: TestClient, auth: Auth, registry: tuple[FastAPI, str]) -> None:
    cora = auth("counter_officer", "cora", office="BKK-KHLONG-TOEI")
    found = client.get(f"/api/v1/entrepreneurs/{ALICE_ID}", headers=cora)
    assert found.status_code == 200, found.text
    assert (found.json()["name"], found.json()["address"].endswith("10110")) == ("สมหญิง ใจดี", True)
    company = client.get(f"/api/v1/entrepreneurs/{COMPANY}", params={"kind": "juristic"}, headers=cora)
    assert company.json()["name"] == "บริษัท ตัวอย่าง จำกัด"
    assert "one-stop counter" in registry[0].state.seen[-1]["purpose"]  # the purpose reaches the registry's log
    assert client.get(f"/api/v1/entrepreneurs/{ALICE_ID}", headers=auth("applicant", "bob")).status_code == 403
    assert client.get("/api/v1/entrepreneurs/1100500123451", headers=cora).status_code == 422  # nobody holds it
    assert client.get("/api/v1/entrepreneurs/12345", headers=cora).status_code == 422
