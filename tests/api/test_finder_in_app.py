"""The licence finder as the running app serves it, then applying for what it found."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support.helpers import Journey


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_finder_answers_then_one_application_for_all(client: TestClient, journey: Journey) -> None:
    types = client.get("/api/v1/business-types").json()
    assert len(types) == 25 and "restaurant" in {t["code"] for t in types}
    questions = client.get("/api/v1/business-types/restaurant").json()["questions"]
    assert {"sells_alcohol", "floor_area_m2"} <= {q["id"] for q in questions}

    found = client.post("/api/v1/business-types/restaurant/finder",
                        json={"answers": {"sells_alcohol": "yes", "floor_area_m2": 80}}).json()["licences"]
    by_code = {item["code"]: item for item in found}
    assert {"liquor_sale_licence", "food_premises_notice_small"} <= set(by_code)
    assert "food_premises_licence_large" not in by_code
    assert by_code["food_premises_notice_small"]["name_th"].startswith("ขอหนังสือรับรองการแจ้ง")
    assert by_code["liquor_sale_licence"]["reason"]

    bad = client.post("/api/v1/business-types/restaurant/finder", json={"answers": {"sells_alcohol": "maybe"}})
    assert bad.status_code == 422 and "maybe" in bad.json()["error"]["message"]
    assert client.post("/api/v1/business-types/nope/finder", json={"answers": {}}).status_code == 404

    journey.create(licences=[item["code"] for item in found])  # what the finder found is what one applies for
    submitted = journey.submit()
    assert {item["code"] for item in submitted["licences"]} == set(by_code)
