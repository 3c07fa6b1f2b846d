"""The public licence-finder endpoints, on a minimal app with only this router."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bizportal.api import errors
from bizportal.api.routes.business_types import router
from bizportal.engine.catalogue.finder import load_finder

FINDER_DIR = Path(__file__).resolve().parents[2] / "bpmn" / "finder"
PREREQUISITES = {"vet_facility_establishment_licence": ["vet_facility_plan_approval"],
                 "vet_facility_operator_licence": ["vet_facility_plan_approval"]}


def _linked_codes() -> set[str]:
    """The codes the finder files name; the engine tests check them against the catalogue."""
    return {rule["licence"] for path in FINDER_DIR.glob("*.yaml")
            for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]}


def _app(with_catalogue: bool) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    app.state.finder = load_finder(FINDER_DIR, _linked_codes(), PREREQUISITES)
    if with_catalogue:  # only the part of the engine the router reads: the licence names
        names = {"liquor_sale_licence": SimpleNamespace(name_th="ขอใบอนุญาตขายสุรา",
                                                        name_en="Licence to sell liquor (alcoholic beverages)")}
        app.state.engine = SimpleNamespace(ctx=SimpleNamespace(catalogue=SimpleNamespace(licences=names)))
    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app(with_catalogue=True))


def test_list_business_types(client: TestClient) -> None:
    response = client.get("/api/v1/business-types")
    assert response.status_code == 200
    types = {item["code"]: item for item in response.json()}
    assert len(types) == 25
    assert types["restaurant"] == {"code": "restaurant", "name_th": "ธุรกิจร้านอาหารและเครื่องดื่ม",
                                   "name_en": "Restaurant and beverage business", "question_count": 14}


def test_one_business_type_with_its_questions(client: TestClient) -> None:
    response = client.get("/api/v1/business-types/restaurant")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "restaurant" and len(body["questions"]) == 14
    questions = {question["id"]: question for question in body["questions"]}
    assert questions["sells_alcohol"]["type"] == "single"
    assert [c["id"] for c in questions["sells_alcohol"]["choices"]] == ["yes", "no"]
    assert questions["food_products"]["shown_if"] == {"question": "produces_for_separate_sale", "equals": "yes"}
    none = questions["entertainment_services"]["choices"][-1]
    assert none["id"] == "none" and none["exclusive"] is True
    assert questions["lpg_kg"]["type"] == "number" and questions["lpg_kg"]["unit"] == "kg"
    assert questions["lpg_kg"]["choices"] == [] and "shown_if" not in questions["lpg_kg"]  # unset fields left out
    assert questions["uses_public_space"]["hint_en"].startswith("In Bangkok street selling")
    assert "rules" not in body


def test_unknown_business_type_is_404(client: TestClient) -> None:
    for response in (client.get("/api/v1/business-types/space_tourism"),
                     client.post("/api/v1/business-types/space_tourism/finder", json={"answers": {}})):
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "NotFound" and "space_tourism" in error["message"]
        assert "GET /api/v1/business-types" in error["hint"]


def test_finder_lists_licences_with_reasons_and_names(client: TestClient) -> None:
    response = client.post("/api/v1/business-types/restaurant/finder", json={"answers": {
        "sells_alcohol": "yes", "owner_type": "juristic_person", "produces_for_separate_sale": "yes",
        "food_products": ["meatballs"]}})
    assert response.status_code == 200
    licences = response.json()["licences"]
    assert [item["code"] for item in licences] == ["hh_food_beverage_family", "liquor_sale_licence"]
    food, liquor = licences
    assert food["sub_types"] == ["hh_food_meatballs"] and food["name_en"] is None  # not in this app's catalogue
    assert liquor == {
        "code": "liquor_sale_licence", "name_th": "ขอใบอนุญาตขายสุรา",
        "name_en": "Licence to sell liquor (alcoholic beverages)",
        "reason": "You sell alcoholic drinks (beer, wine, spirits)",
        "reason_th": "ร้านของคุณขายเครื่องดื่มแอลกอฮอล์", "reason_en": "You sell alcoholic drinks (beer, wine, spirits)",
        "required": False, "sub_types": [], "inferred": False}


def test_finder_puts_prerequisites_first_and_works_without_a_catalogue() -> None:
    client = TestClient(_app(with_catalogue=False))
    response = client.post("/api/v1/business-types/veterinary_clinic/finder", json={"answers": {}})
    assert response.status_code == 200
    licences = response.json()["licences"]
    assert [item["code"] for item in licences] == ["vet_facility_plan_approval", "vet_facility_establishment_licence",
                                                   "vet_facility_operator_licence"]
    assert all(item["required"] and item["name_en"] is None for item in licences)
    assert client.post("/api/v1/business-types/veterinary_clinic/finder", json={}).status_code == 200


@pytest.mark.parametrize(("answers", "names"), [
    ({"sells_spaceships": "yes"}, ["sells_spaceships"]),
    ({"sells_alcohol": "maybe"}, ["sells_alcohol", "maybe"]),
    ({"sells_alcohol": ["yes"]}, ["sells_alcohol", "list"]),
    ({"floor_area_m2": "big"}, ["floor_area_m2", "number"]),
    ({"entertainment_services": ["none", "karaoke"]}, ["contradictory", "none", "karaoke"]),
    ({"food_products": ["meatballs"]}, ["contradictory", "food_products", "produces_for_separate_sale"]),
])
def test_finder_rejects_bad_answers_with_422(client: TestClient, answers: dict[str, object],
                                             names: list[str]) -> None:
    response = client.post("/api/v1/business-types/restaurant/finder", json={"answers": answers})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "InvalidInput" and error["hint"]
    for name in names:
        assert name in error["message"]


def test_finder_refuses_numbers_json_cannot_carry_with_422(client: TestClient) -> None:
    # NaN and Infinity (which Python's JSON parser reads) and a 400-digit number used to be a 500:
    # echoed in the error's details, they made the error body itself unserializable.
    for question in ("sells_alcohol", "lpg_kg", "entertainment_services"):
        for value in ("NaN", "Infinity", "-Infinity", "1" + "0" * 400, f"[{'NaN'}]"):
            response = client.post("/api/v1/business-types/restaurant/finder",
                                   content=f'{{"answers": {{"{question}": {value}}}}}'.encode(),
                                   headers={"Content-Type": "application/json"})
            assert response.status_code == 422, (question, value, response.text)
            assert question in response.json()["error"]["message"]


def test_finder_body_allows_only_answers(client: TestClient) -> None:
    response = client.post("/api/v1/business-types/restaurant/finder", json={"answers": {}, "business": "x"})
    assert response.status_code == 422
    assert "business" in response.json()["error"]["message"]
    assert client.post("/api/v1/business-types/restaurant/finder", json={"answers": []}).status_code == 422


def test_the_routes_are_public_and_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {"/api/v1/business-types", "/api/v1/business-types/{code}",
                          "/api/v1/business-types/{code}/finder"}
    for operations in paths.values():
        for operation in operations.values():
            assert operation["tags"] == ["licence finder"] and "security" not in operation
