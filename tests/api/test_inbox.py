"""The officer inbox: filters, claim and release, and completion respecting a claim."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.helpers import LICENCE, OFFICE, Auth, Journey


def test_filters_narrow_the_inbox(journey: Journey, client: TestClient, engine: object, clock: object) -> None:
    journey.create()
    journey.submit()
    officer = journey.officer

    def listed(**params: str) -> list[str]:
        response = client.get("/api/v1/tasks", params=params, headers=officer)
        assert response.status_code == 200, response.text
        return [t["step"] for t in response.json() if t["application_id"] == journey.id]

    assert listed() == ["document_check"]
    assert listed(licence=LICENCE, step="document_check") == ["document_check"]
    assert listed(licence="liquor_sale_licence") == [] and listed(step="consideration") == []
    assert listed(overdue="true") == [] and listed(overdue="false") == ["document_check"]
    clock.advance(days=2)  # type: ignore[attr-defined]
    engine.fire_due_timers_and_notices()  # type: ignore[attr-defined]
    assert listed(overdue="true") == ["document_check"]
    assert listed(assigned="me") == [] and listed(assigned="unassigned") == ["document_check"]
    bad = client.get("/api/v1/tasks", params={"assigned": "somebody"}, headers=officer)
    assert bad.status_code == 422 and "assigned" in bad.json()["error"]["message"]


def test_claim_release_and_complete(journey: Journey, client: TestClient, auth: Auth) -> None:
    journey.create()
    journey.submit()
    task = journey.task("document_check")
    olivia, oscar = journey.officer, auth("agency_officer", "oscar", "LAO", OFFICE)

    claimed = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=olivia)
    assert claimed.status_code == 200 and claimed.json()["assignee"] == f"agency_officer:LAO:{OFFICE}:olivia"
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=olivia).status_code == 200  # idempotent
    assert [t["step"] for t in client.get("/api/v1/tasks?assigned=me", headers=olivia).json()] == ["document_check"]
    assert client.get("/api/v1/tasks?assigned=me", headers=oscar).json() == []

    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=oscar).status_code == 409
    assert client.post(f"/api/v1/tasks/{task['id']}/release", headers=oscar).status_code == 403
    blocked = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"}, headers=oscar)
    assert blocked.status_code == 409 and "claimed by" in blocked.json()["error"]["message"]
    foreign = auth("agency_officer", "bob", "LAO", "BKK-BANG-RAK")
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=foreign).status_code == 403

    assert client.post(f"/api/v1/tasks/{task['id']}/release", headers=olivia).json()["assignee"] is None
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=oscar).status_code == 200
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"},
                       headers=oscar).status_code == 200
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=oscar).status_code == 409  # finished
    events = [e["event"] for e in journey.view()["timeline"]]
    assert events.count("task.claimed") == 2 and events.count("task.released") == 1
