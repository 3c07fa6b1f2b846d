"""Bad input gets a clear error; nobody reaches what is not theirs; nothing is half-written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.licences.issuing import RENDER_LICENCE
from bizportal.storage.database import transaction
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.object_store import ObjectStoreUnavailable
from bizportal.storage.outbox import OutboxRow
from support.helpers import LICENCE, Auth, Journey, application_body


def test_health_readiness_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"] == {"database": "ok", "object_store": "ok"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/applications", "/api/v1/applications/{application_id}/submit", "/api/v1/tasks",
                 "/api/v1/tasks/{task_id}/complete", "/api/v1/invoices/{invoice_id}/counter-payment",
                 "/api/v1/issued-licences/{number}/pdf", "/api/v1/licences/{code}"):
        assert path in paths


def test_public_catalogue(client: TestClient) -> None:
    licences = client.get("/api/v1/licences").json()
    assert LICENCE in [item["code"] for item in licences]
    manual = client.get(f"/api/v1/licences/{LICENCE}").json()
    assert manual["agency"] == "LAO" and manual["total_working_days"] == 7
    assert manual["name_th"].startswith("ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่")
    missing = client.get("/api/v1/licences/no_such_licence")
    assert missing.status_code == 404 and "GET /api/v1/licences" in missing.json()["error"]["hint"]


@pytest.mark.parametrize(("change", "field"), [
    ({"licences": []}, "licences"),
    ({"applicant": {"kind": "robot", "id_number": "1101700203395", "name": "x"}}, "applicant.kind"),
    ({"applicant": {"kind": "individual", "id_number": "1101700203391", "name": "x"}}, "applicant.id_number"),
    ({"applicant": {"kind": "individual", "id_number": "12345", "name": "x"}}, "applicant.id_number"),
    ({"business": {"name": "x", "address": "y", "province": "z", "area_m2": -5}}, "business.area_m2"),
    ({"unexpected": 1}, "unexpected"),
])
def test_invalid_application_bodies_name_the_field(client: TestClient, auth: Auth, change: dict[str, object],
                                                   field: str) -> None:
    response = client.post("/api/v1/applications", json={**application_body(), **change},
                           headers=auth("applicant", "alice"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert field in [d["field"] for d in error["details"]] and field in error["message"]
    assert client.get("/api/v1/applications", headers=auth("applicant", "alice")).json() == []


def test_check_digit_error_says_so(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/applications", json=application_body(id_number="1101700203391"),
                           headers=auth("applicant", "alice"))
    assert "check digit" in response.json()["error"]["message"]


def test_unknown_licence_inside_a_body(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/applications", json=application_body(licences=["no_such_licence"]),
                           headers=auth("applicant", "alice"))
    assert response.status_code == 422 and "no_such_licence" in response.json()["error"]["message"]


def test_authentication_is_required_and_checked(client: TestClient) -> None:
    assert client.get("/api/v1/applications").status_code == 401
    forged = client.get("/api/v1/applications", headers={"Authorization": "Bearer not.a.jwt"})
    assert forged.status_code == 401 and forged.headers["www-authenticate"] == "Bearer"
    from bizportal.api.tokens import issue_token
    from bizportal.engine.principal import Role
    other_key = issue_token("another-key-" + "y" * 32, "alice", Role.APPLICANT)
    assert client.get("/api/v1/applications", headers={"Authorization": f"Bearer {other_key}"}).status_code == 401


def test_nobody_reads_anothers_application(journey: Journey, client: TestClient, auth: Auth) -> None:
    journey.create()
    mallory = auth("applicant", "mallory")
    assert client.get(f"/api/v1/applications/{journey.id}", headers=mallory).status_code == 404
    assert client.post(f"/api/v1/applications/{journey.id}/submit", headers=mallory).status_code == 404
    assert client.get("/api/v1/applications", headers=mallory).json() == []
    # An officer sees nothing of a draft, nor of another agency's cases.
    assert client.get(f"/api/v1/applications/{journey.id}", headers=journey.officer).status_code == 404
    journey.submit()
    assert client.get(f"/api/v1/applications/{journey.id}", headers=journey.officer).status_code == 200
    fda = auth("agency_officer", "fred", "FDA")
    assert client.get(f"/api/v1/applications/{journey.id}", headers=fda).status_code == 404


def test_tasks_are_confined_to_their_agency_and_finish_once(journey: Journey, client: TestClient,
                                                            auth: Auth) -> None:
    journey.create()
    journey.submit()
    task = journey.task("document_check")
    fda = auth("agency_officer", "fred", "FDA")
    assert client.get("/api/v1/tasks", headers=fda).json() == []
    foreign = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"}, headers=fda)
    assert foreign.status_code == 403
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"},
                       headers=journey.applicant).status_code == 403
    bad = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "teleport"}, headers=journey.officer)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["allowed"] == [
        "approve", "request_documents", "reject"]
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"},
                       headers=journey.officer).status_code == 200
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"action": "approve"}, headers=journey.officer)
    assert again.status_code == 409
    assert client.post("/api/v1/tasks/nope/complete", json={"action": "approve"},
                       headers=journey.officer).status_code == 404
    assert client.post("/api/v1/applications/" + journey.id + "/submit", headers=journey.applicant).status_code == 409


def test_payments_are_checked_and_recorded_once(journey: Journey, client: TestClient, auth: Auth) -> None:
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    invoice = journey.view()["invoices"][0]
    url = f"/api/v1/invoices/{invoice['id']}/counter-payment"
    assert client.post(url, json={"amount_satang": 1}, headers=journey.counter).status_code == 422
    assert client.post(url, json={"amount_satang": 10.5}, headers=journey.counter).status_code == 422
    assert client.post(url, json={"amount_satang": invoice["amount_satang"]},
                       headers=journey.applicant).status_code == 403
    assert client.post(url, json={"amount_satang": invoice["amount_satang"]},
                       headers=auth("agency_officer", "fred", "FDA")).status_code == 403
    assert journey.view()["invoices"][0]["status"] == "open"
    assert journey.pay().status_code == 200
    assert journey.pay().status_code == 409
    assert client.post("/api/v1/invoices/nope/counter-payment", json={"amount_satang": 1},
                       headers=journey.counter).status_code == 404


class FlakyStore:
    """An object store whose first writes fail, as when MinIO is briefly down."""

    def __init__(self, inner: object, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def put(self, data: bytes, content_type: str) -> object:
        if self.failures > 0:
            self.failures -= 1
            raise ObjectStoreUnavailable("object store down (test)")
        return self.inner.put(data, content_type)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_issuing_survives_an_object_store_outage(journey: Journey, engine: LicensingEngine, clock: object) -> None:
    # Two writes fail: the licence's and the payment's receipt (both jobs run after the payment commits).
    engine.ctx.object_store = FlakyStore(engine.ctx.object_store, failures=2)  # type: ignore[assignment]
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    assert journey.pay().status_code == 200  # the payment is kept even though issuing failed

    view = journey.view()
    assert view["status"] == "issuing" and view["invoices"][0]["status"] == "paid"
    with transaction(engine.db) as session:
        assert session.exec(select(IssuedLicenceRow)).all() == []  # nothing half-written
        # The number was taken (its own job, done); the rendering job failed and waits for its retry.
        (numbered,) = session.exec(select(OutboxRow).where(OutboxRow.job == "issue_licence")).all()
        (job,) = session.exec(select(OutboxRow).where(OutboxRow.job == RENDER_LICENCE)).all()
        assert numbered.state == "done" and job.payload["number"].startswith("LAO-")
        assert job.state == "pending" and job.attempts == 1 and "down" in (job.last_error or "")

    clock.advance(seconds=5)  # type: ignore[attr-defined]
    engine.dispatch()  # the retry after back-off
    assert journey.view()["status"] == "issued"
