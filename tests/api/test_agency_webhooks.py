"""An agency with its own system, end to end over real HTTP.

Biz Portal and the example back-office each run under uvicorn on a port of their own. DLD is served by
the `webhook` adapter: every ready step is POSTed, signed, to the back-office, which answers with a
signed callback. Nothing in between is called directly.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import col, func, select

from bizportal.adapters.agencies.webhook import CALLBACK, DISPATCH, signed_headers
from bizportal.adapters.example_backoffice.app import create_backoffice
from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.api.stack.ports import free_port
from bizportal.engine.errors import StartupError
from bizportal.storage.agency_tables import AgencyCallbackRow, TaskDeliveryRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import transaction
from bizportal.storage.workflow_tables import HumanTaskRow
from support.helpers import Auth, application_body
from support.uploads import upload_required

PLAN = "vet_facility_plan_approval"
FORM = {PLAN: {"facility_type": "hospital", "animal_kind": "small", "building_floor_area_m2": 240,
              "examination_rooms": 3}}
SECRET = "dld-shared-secret-" + "k" * 24
STEPS = ["document_check", "plan_review"]


class MovableClock(Protocol):  # the `clock` fixture
    def now(self) -> datetime: ...

    def advance(self, **delta: float) -> None: ...



def _eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class ServerThread:
    """A real uvicorn server on 127.0.0.1 in a background thread."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"uvicorn-{port}")

    def start(self) -> ServerThread:
        self.thread.start()
        _eventually(lambda: self.server.started or not self.thread.is_alive(), 10, f"{self.url} to start")
        assert self.server.started, f"{self.url} did not start"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Agency:
    """Biz Portal with DLD on the webhook adapter, and DLD's example back-office, both over HTTP."""

    def __init__(self, settings: Settings, clock: MovableClock, auth: Auth) -> None:
        self.clock, self.auth = clock, auth
        self.backoffice_port, self.portal_port = free_port(), free_port()
        settings = settings.model_copy(update={"agency_adapters": {"DLD": {
            "adapter": "webhook", "url": f"http://127.0.0.1:{self.backoffice_port}/tasks", "secret": SECRET,
            "allow_http_loopback": True}}})
        self.engine = engine_from(settings, clock=clock)
        self.bizportal = ServerThread(create_app(settings, engine=self.engine), self.portal_port).start()
        self.api = httpx.Client(base_url=self.bizportal.url, timeout=30)
        self.backoffice: ServerThread | None = None
        self.applicant = auth("applicant", "alice")
        self.application_id = ""

    def start_backoffice(self, decide: Callable[[dict[str, Any]], Any] | None = None) -> FastAPI:
        kwargs: dict[str, Any] = {"decide": decide} if decide is not None else {}
        app = create_backoffice(self.bizportal.url, "DLD", SECRET, clock=self.clock.now, **kwargs)
        self.backoffice = ServerThread(app, self.backoffice_port).start()
        return app

    def apply(self) -> str:
        created = self.api.post("/api/v1/applications", json=application_body(licences=[PLAN], form=FORM),
                                headers=self.applicant)
        assert created.status_code == 201, created.text
        self.application_id = created.json()["id"]
        upload_required(self.api, self.application_id, self.applicant)
        submitted = self.api.post(f"/api/v1/applications/{self.application_id}/submit", headers=self.applicant)
        assert submitted.status_code == 200, submitted.text
        return self.application_id

    def view(self) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/applications/{self.application_id}", headers=self.applicant)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_status(self, status: str) -> dict[str, Any]:
        return _eventually(lambda: (view := self.view())["status"] == status and view, what=f"status {status}")

    def callback(self, headers: dict[str, str], body: bytes, agency: str = "DLD") -> httpx.Response:
        return self.api.post(f"/api/v1/agencies/{agency}/callbacks", content=body, headers=headers)

    def count(self, table: Any) -> int:
        with transaction(self.engine.db) as session:
            return session.exec(select(func.count()).select_from(table)).one()

    def deliveries(self) -> list[TaskDeliveryRow]:
        with transaction(self.engine.db) as session:
            return list(session.exec(select(TaskDeliveryRow).order_by(col(TaskDeliveryRow.created_at))))

    def close(self) -> None:
        for server in (self.backoffice, self.bizportal):
            if server is not None:
                server.stop()
        self.api.close()
        self.engine.db.dispose()


@pytest.fixture
def agency(settings: Settings, clock: MovableClock, auth: Auth) -> Iterator[Agency]:
    running = Agency(settings, clock, auth)
    yield running
    running.close()


def _completions(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [event for event in view["timeline"] if event["event"] == "task.completed"]


def test_the_agency_back_office_decides_the_licence_over_http(agency: Agency) -> None:
    backoffice = agency.start_backoffice()
    agency.apply()

    issued = agency.wait_for_status("issued")
    (licence,) = issued["licences"]
    assert licence["code"] == PLAN and licence["status"] == "issued" and licence["licence_number"]
    assert [e["detail"]["step"] for e in _completions(issued)] == STEPS
    assert {e["detail"]["action"] for e in _completions(issued)} == {"approve"}

    dld_inbox = agency.api.get("/api/v1/tasks", headers=agency.auth("agency_officer", "dara", "DLD"))
    assert dld_inbox.status_code == 200 and dld_inbox.json() == []  # decided in DLD's own system, not here
    received = backoffice.state.backoffice.tasks
    assert [r["task"]["step"] for r in received.values()] == STEPS
    for record in received.values():
        assert record["state"] == "answered" and record["answer"]["status"] == 200
        task = record["task"]
        assert task["agency"] == "DLD" and task["licence_code"] == PLAN
        assert task["tracking_number"] == issued["tracking_number"] and task["applicant"]["name"] == "สมหญิง ใจดี"
        assert task["form"] == FORM[PLAN]  # the agency's officer sees all the applicant gave, as ours do
        assert task["callback_url"] == "https://bizportal.test/api/v1/agencies/DLD/callbacks"
    deliveries = agency.deliveries()
    assert [(d.state, d.attempts) for d in deliveries] == [("delivered", 1)] * 2
    assert [d.external_reference for d in deliveries] == ["DLD-1", "DLD-2"]
    with transaction(agency.engine.db) as session:
        actors = {e.actor for e in session.exec(select(AuditEventRow).where(AuditEventRow.event == "task.completed"))}
        assert actors == {"agency_officer:DLD:DLD%3Abackoffice"}
        assert {t.completed_by for t in session.exec(select(HumanTaskRow))} == {"agency_officer:DLD:DLD%3Abackoffice"}


def test_forged_stale_and_replayed_callbacks_change_nothing(agency: Agency) -> None:
    backoffice = agency.start_backoffice(decide=lambda task: None).state.backoffice  # officers decide by hand
    agency.apply()
    task_id = _eventually(lambda: next(iter(backoffice.tasks), None), what="the first task at the back-office")
    assert backoffice.tasks[task_id]["task"]["step"] == "document_check"
    before = agency.view()
    assert agency.api.get("/api/v1/tasks", headers=agency.auth("agency_officer", "dara", "DLD")).json() == []
    assert [t["id"] for t in agency.api.get("/api/v1/tasks", headers=agency.auth("admin", "root")).json()] == [task_id]

    body = (b'{"callback_id": "cb-1", "task_id": "%s", "action": "approve", "comment": "", "officer": "dara"}'
            % task_id.encode())
    now = int(agency.clock.now().timestamp())

    def signed(payload: bytes, timestamp: int = now) -> dict[str, str]:
        return signed_headers(SECRET, timestamp, payload, direction=CALLBACK)

    forged = signed_headers("not-the-shared-secret-at-all", now, body, direction=CALLBACK)
    # L11: a message Biz Portal sent to the agency, posted back here, is not a callback.
    dispatch_signed = signed_headers(SECRET, now, body, direction=DISPATCH)
    huge_timestamp = {**signed(body), "X-BizPortal-Timestamp": "9" * 400}  # L1: was a 500 (float overflow)
    refusals = [agency.callback(headers, body) for headers in (
        forged, dispatch_signed, signed(body, now - 301), signed(body, now + 301), {"Content-Type": "application/json"},
        huge_timestamp)]
    refusals.append(agency.callback(signed(body), body.replace(b"approve", b"reject")))
    # L9: an agency working in the inbox, or no agency at all, answers like a bad signature: the callback
    # endpoint does not tell which agencies are connected to a system of their own.
    refusals += [agency.callback(signed(body), body, agency=code) for code in ("LAO", "NOPE")]
    for response in refusals:
        assert response.status_code == 401, response.text
    assert {response.text for response in refusals} == {refusals[0].text}
    assert refusals[0].json()["error"]["message"] == "the callback is not authentic"
    assert agency.count(AgencyCallbackRow) == 0
    assert agency.view() == before

    # Authentic, but about a task that is not DLD's, or breaking the step's rules: refused, nothing written.
    other = body.replace(task_id.encode(), b"00000000-0000-0000-0000-000000000000")
    assert agency.callback(signed(other), other).status_code == 404
    reject = body.replace(b'"approve"', b'"reject"')
    refused = agency.callback(signed(reject), reject)
    assert refused.status_code == 422 and "comment" in refused.text
    unnamed = body.replace(b'"approve", "comment": ""', b'"request_documents", "comment": "x"')
    refused = agency.callback(signed(unnamed), unnamed)
    assert refused.status_code == 422 and "`documents` is required" in refused.text  # which documents, too
    assert agency.count(AgencyCallbackRow) == 0 and agency.view() == before

    # The officer decides in the back-office, which sends the signed callback.
    decided = agency.api.post(f"{agency.backoffice.url}/tasks/{task_id}/decision",  # type: ignore[union-attr]
                              json={"action": "approve", "comment": "ครบ", "officer": "dara"})
    assert decided.status_code == 202
    _eventually(lambda: backoffice.tasks[task_id]["state"] == "answered", what="the back-office's answer")
    first = backoffice.tasks[task_id]["answer"]["body"]
    assert first["replayed"] is False and first["action"] == "approve" and first["officer"] == "dara"
    next_task = _eventually(lambda: len(backoffice.tasks) == 2 and list(backoffice.tasks)[1], what="plan_review")
    after = agency.view()
    assert [e["detail"]["step"] for e in _completions(after)] == ["document_check"]

    # The same callback again (within the replay window): the first outcome, and nothing moves.
    headers, sent = backoffice.sent[-1]
    replay = agency.callback(headers, sent)
    assert replay.status_code == 200, replay.text
    assert replay.json() == {**first, "replayed": True}
    # Its id reused for another decision is a conflict, not a second completion.
    reused = sent.replace(b'"approve"', b'"reject"')
    assert agency.callback(signed(reused), reused).status_code == 409
    assert agency.count(AgencyCallbackRow) == 1
    assert agency.view() == after and list(backoffice.tasks) == [task_id, next_task]


def test_a_dead_agency_system_becomes_an_incident_an_admin_retries(agency: Agency) -> None:
    admin = agency.auth("admin", "root")
    agency.apply()  # nothing listens at the back-office's address yet
    _eventually(lambda: [d.attempts for d in agency.deliveries()] == [1], what="the first attempt")
    (delivery,) = agency.deliveries()
    assert delivery.state == "pending" and "unreachable" in (delivery.last_error or "")

    agency.clock.advance(seconds=29)
    agency.engine.dispatch()  # the back-off is not over: no attempt
    assert agency.deliveries()[0].attempts == 1
    for attempt, wait in zip(range(2, 7), (1, 60, 120, 240, 480), strict=True):
        agency.clock.advance(seconds=wait)
        agency.engine.dispatch()
        assert agency.deliveries()[0].attempts == attempt
    (failed,) = agency.deliveries()
    assert failed.state == "failed" and "failed 6 times" in (failed.last_error or "")

    assert agency.api.get("/api/v1/incidents", headers=agency.applicant).status_code == 403
    incidents = agency.api.get("/api/v1/incidents", params={"state": "open"}, headers=admin).json()
    (incident,) = incidents
    assert incident["kind"] == "task_delivery" and incident["reference"] == failed.id
    assert incident["agency"] == "DLD" and incident["state"] == "open" and incident["task_id"] == failed.task_id
    assert "document_check" in incident["message"] and PLAN in incident["message"]
    assert agency.view()["status"] == "document_check"  # the case waits; nothing was decided

    agency.start_backoffice()
    assert agency.api.post(f"/api/v1/incidents/{incident['id']}/retry",
                           headers=agency.applicant).status_code == 403
    retried = agency.api.post(f"/api/v1/incidents/{incident['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["state"] == "retried"
    assert agency.api.post(f"/api/v1/incidents/{incident['id']}/retry", headers=admin).status_code == 409

    agency.wait_for_status("issued")
    assert [(d.state, d.attempts) for d in agency.deliveries()] == [("delivered", 1)] * 2
    (resolved,) = agency.api.get("/api/v1/incidents", headers=admin).json()
    assert resolved["state"] == "resolved" and resolved["resolved_at"] is not None
    assert agency.api.get("/api/v1/incidents", params={"state": "open"}, headers=admin).json() == []


def test_agency_adapters_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"DLD": {"adapter": "webhook", "url": "http://dld.test/tasks", "secret": SECRET}}
    monkeypatch.setenv("BIZPORTAL_AGENCY_ADAPTERS", json.dumps(config))
    settings = Settings()
    assert settings.agency_adapters["DLD"]["adapter"] == "webhook"
    assert SECRET not in repr(settings)


def test_a_missing_or_misconfigured_adapter_stops_start_up(settings: Settings, clock: MovableClock) -> None:
    for config, message in (({"DLD": {"adapter": "soap"}}, "agency DLD: adapter 'soap' is not installed"),
                            ({"DLD": {"adapter": "webhook", "url": "http://dld.test"}},
                             "agency DLD: adapter 'webhook' rejected its settings: .*secret: Field required"),
                            # L11: dispatches carry ID numbers; plain http to another host stops start-up.
                            ({"DLD": {"adapter": "webhook", "url": "http://dld.test/tasks", "secret": SECRET,
                                      "allow_http_loopback": True}},
                             "agency DLD: adapter 'webhook' rejected its settings: .*url: .*must be https")):
        with pytest.raises(StartupError, match=message):
            create_app(settings.model_copy(update={"agency_adapters": config}), clock=clock)


def test_in_house_officers_cannot_decide_a_step_the_agency_system_handles(agency: Agency) -> None:
    agency.apply()
    agency.wait_for_status("document_check")  # the process starts after the submit commits
    with transaction(agency.engine.db) as session:
        (task,) = session.exec(select(HumanTaskRow).where(HumanTaskRow.state == "open")).all()
    response = agency.api.post(f"/api/v1/tasks/{task.id}/complete", json={"action": "approve"},
                               headers=agency.auth("agency_officer", "dara", "DLD"))
    assert response.status_code == 403 and "/api/v1/agencies/DLD/callbacks" in response.json()["error"]["hint"]
    assert agency.view()["licences"][0]["status"] == "document_check"
