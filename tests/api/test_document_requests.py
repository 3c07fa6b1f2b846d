"""Asking for documents once (Licensing Facilitation Act s.8): the officer names which documents and why; the
applicant's step, the application and the timeline show it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from support.helpers import Journey

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FLOOR_PLAN = "premises_map_and_floor_plan"


def _complete(journey: Journey, step: str, body: dict[str, Any]) -> Any:
    task = journey.task(step)
    return journey.client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=journey.officer)


@pytest.mark.parametrize(("body", "words"), [
    ({"action": "request_documents", "comment": "ขาดแผนผัง"}, "`documents` is required"),
    ({"action": "request_documents", "comment": "ขาดแผนผัง", "documents": []}, "`documents` is required"),
    ({"action": "approve", "documents": [FLOOR_PLAN]}, "request_documents only"),
    ({"action": "request_documents", "comment": "ขาดบัตร", "documents": ["applicant_id_card"]},
     "may not be demanded"),  # looked up by data exchange
    ({"action": "request_documents", "comment": "x", "documents": ["no_such_document"]}, FLOOR_PLAN),
])
def test_a_request_must_name_documents_the_applicant_provides(journey: Journey, body: dict[str, Any],
                                                              words: str) -> None:
    journey.create()
    journey.submit()
    refused = _complete(journey, "document_check", body)
    assert refused.status_code == 422, refused.text
    assert words in refused.text
    assert journey.view()["status"] == "document_check"  # nothing moved


def test_the_applicant_and_the_officer_see_what_was_asked_for_and_why(journey: Journey,
                                                                      client: TestClient) -> None:
    journey.create()
    journey.submit()
    asked = _complete(journey, "document_check", {"action": "request_documents", "comment": "แผนผังไม่ชัด",
                                                  "documents": [FLOOR_PLAN, FLOOR_PLAN]})
    assert asked.status_code == 200, asked.text
    (step,) = [t for t in client.get("/api/v1/tasks", headers=journey.applicant).json()
               if t["application_id"] == journey.id]
    request = step["document_request"]
    assert [d["code"] for d in request["documents"]] == [FLOOR_PLAN]  # named once
    assert request["documents"][0]["name_en"] == "Location map and floor plan of the premises"
    assert request["comment"] == "แผนผังไม่ชัด" and request["requested_at"].startswith("2026-12-01")
    (licence,) = journey.view()["licences"]
    assert licence["document_request"] == request
    completed = [e for e in journey.view()["timeline"] if e["event"] == "task.completed"]
    assert completed[-1]["detail"]["documents"] == [FLOOR_PLAN]

    assert journey.decide("submit_documents", "submit", headers=journey.applicant).status_code == 200
    recheck = journey.task("document_recheck")
    assert recheck["document_request"] == request and "request_documents" not in recheck["actions"]  # once
