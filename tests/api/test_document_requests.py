"""What the applicant hands in (issue 12 §3): the required documents before submitting; asked for once
(Licensing Facilitation Act s.8), with which documents and why, answered by new versions the officer re-checks;
and deleted after the retention period when the application ended without a licence."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from support.helpers import Auth, Journey, id_number_of
from support.uploads import upload

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
    assert recheck["document_request"] == {**request, "answers": recheck["document_request"]["answers"]}
    assert len(recheck["document_request"]["answers"]) == 1  # the answer the officer re-checks
    assert "request_documents" not in recheck["actions"]  # once


def test_submit_waits_for_the_required_documents(journey: Journey, client: TestClient) -> None:
    journey.create()
    refused = client.post(f"/api/v1/applications/{journey.id}/submit", headers=journey.applicant)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    # The documents the applicant uploads; never those the platform looks up (ID card, house registration).
    assert [m["document"] for m in error["details"]["missing"]] == [FLOOR_PLAN]
    assert "/documents" in error["hint"] and journey.view()["status"] == "draft"
    assert upload(client, journey.id, FLOOR_PLAN, journey.applicant).status_code == 201
    assert client.post(f"/api/v1/applications/{journey.id}/submit", headers=journey.applicant).status_code == 200


def test_the_answer_to_a_request_is_a_new_version_of_each_document_asked_for(journey: Journey,
                                                                               client: TestClient) -> None:
    journey.create()
    journey.submit()  # uploads the floor plan (version 1) first
    assert journey.decide("document_check", "request_documents", "แผนผังไม่ชัด", documents=[FLOOR_PLAN]
                          ).status_code == 200
    (step,) = journey.open_tasks(journey.applicant)
    answer = {"action": "submit", "comment": ""}
    unanswered = client.post(f"/api/v1/tasks/{step['id']}/complete", json=answer, headers=journey.applicant)
    assert unanswered.status_code == 422 and unanswered.json()["error"]["details"]["missing"] == [FLOOR_PLAN]
    not_asked = upload(client, journey.id, "power_of_attorney", journey.applicant)
    assert not_asked.status_code == 409 and FLOOR_PLAN in not_asked.json()["error"]["hint"]

    sent = upload(client, journey.id, FLOOR_PLAN, journey.applicant)
    assert sent.status_code == 201 and sent.json()["version"] == 2
    assert client.delete(f"/api/v1/documents/{sent.json()['id']}", headers=journey.applicant).status_code == 409
    done = client.post(f"/api/v1/tasks/{step['id']}/complete", json=answer, headers=journey.applicant)
    assert done.status_code == 200, done.text
    # The officer re-checks what changed; after the answer, nothing more can be uploaded.
    (answered,) = journey.task("document_recheck")["document_request"]["answers"]
    assert (answered["document"], answered["version"], answered["upload_id"]) == (FLOOR_PLAN, 2, sent.json()["id"])
    assert upload(client, journey.id, FLOOR_PLAN, journey.applicant).status_code == 409
    content = client.get(f"/api/v1/documents/{answered['upload_id']}/content", headers=journey.officer)
    assert content.status_code == 200 and content.content.startswith(b"%PDF")


def test_documents_of_an_application_ended_without_a_licence_are_deleted_after_the_retention_period(
        journey: Journey, client: TestClient, engine: LicensingEngine, clock: Any, auth: Auth) -> None:
    journey.create()
    journey.submit()
    (listed,) = [d for d in client.get(f"/api/v1/applications/{journey.id}/documents",
                                       headers=journey.applicant).json() if d["current"]]
    upload_id = listed["current"]["id"]
    key = f"sha256/{listed['current']['sha256'][:2]}/{listed['current']['sha256']}"
    # Bob's live application holds a byte-identical file: those bytes stay.
    bobs = Journey(client, auth("applicant", "bob"), journey.officer, journey.counter)
    bobs.create(id_number=id_number_of("bob"))
    assert upload(client, bobs.id, FLOOR_PLAN, bobs.applicant).json()["sha256"] == listed["current"]["sha256"]
    assert journey.decide("document_check", "reject", "ไม่ใช่กิจการที่ต้องแจ้ง").status_code == 200

    clock.advance(days=364)
    engine.fire_due_timers_and_notices()
    assert client.get(f"/api/v1/documents/{upload_id}/content", headers=journey.applicant).status_code == 200
    clock.advance(days=2)
    engine.fire_due_timers_and_notices()
    assert client.get(f"/api/v1/documents/{upload_id}/content", headers=journey.applicant).status_code == 404
    (purged,) = [e for e in journey.view()["timeline"] if e["event"] == "documents_purged"]
    assert purged["actor"] == "admin:system" and purged["detail"]["uploads"] == [upload_id]
    assert engine.ctx.object_store.exists(key)  # still Bob's
    assert client.get(f"/api/v1/applications/{bobs.id}/documents", headers=bobs.applicant).json()

    # Once Bob's ends too, the bytes themselves go.
    assert client.post(f"/api/v1/applications/{bobs.id}/withdrawal", json={"reason": "ไม่ทำแล้ว"},
                       headers=bobs.applicant).status_code == 200
    clock.advance(days=366)
    engine.fire_due_timers_and_notices()
    assert not engine.ctx.object_store.exists(key)
