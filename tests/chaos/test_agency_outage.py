"""An agency's system answering 500 for a while, then recovering: the step is delivered again with back-off, the
retries are visible meanwhile (the delivery's attempts and last error, the next attempt queued in the outbox), and
once the system answers the case goes on once: each step reaches the agency once and is decided once.

Biz Portal and DLD's example back-office (adapters/example_backoffice) run under uvicorn on ports of their own;
in front of the back-office, a gate answers 500 to the first requests, as a failing system would, before
the back-office sees them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlmodel import col, select

from bizportal.adapters.example_backoffice.app import create_backoffice
from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.agency_tables import IncidentRow, TaskDeliveryRow
from bizportal.storage.database import read_session
from bizportal.storage.outbox import JobState, OutboxRow
from support.clock import MovableClock
from support.helpers import Auth, application_body
from support.invariants import assert_consistent
from support.local_server import serve_in_thread
from support.uploads import upload_required

pytestmark = pytest.mark.chaos
PLAN = "vet_facility_plan_approval"  # DLD's: two steps, document_check and plan_review
FORM = {PLAN: {"facility_type": "hospital", "animal_kind": "small", "building_floor_area_m2": 240,
               "examination_rooms": 3}}
SECRET = "dld-shared-secret-" + "k" * 24


class Gate:
    """Answers 500 to the next `failures` requests, then lets them through to the back-office mounted behind."""

    def __init__(self) -> None:
        self.failures = 0
        self.refused = 0
        self.passed = 0
        self.app = FastAPI()
        self.app.middleware("http")(self._gate)

    async def _gate(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if self.failures > 0:
            self.failures -= 1
            self.refused += 1
            return Response("internal error (the agency's system is down)", status_code=500)
        self.passed += 1
        return await call_next(request)


@dataclass
class Portal:
    engine: LicensingEngine
    api: httpx.Client
    gate: Gate
    backoffice: FastAPI


@pytest.fixture
def portal(settings: Settings, clock: MovableClock) -> Iterator[Portal]:
    gate = Gate()
    gate_url, stop_gate = serve_in_thread(gate.app, "dld-gate")
    settings = settings.model_copy(update={"agency_adapters": {"DLD": {
        "adapter": "webhook", "url": f"{gate_url}/tasks", "secret": SECRET, "allow_http_loopback": True}}})
    engine = engine_from(settings, clock=clock)
    url, stop_portal = serve_in_thread(create_app(settings, engine=engine), "bizportal", lifespan="on")
    backoffice = create_backoffice(url, "DLD", SECRET, clock=clock.now)
    gate.app.mount("/", backoffice)
    api = httpx.Client(base_url=url, timeout=30)
    try:
        yield Portal(engine, api, gate, backoffice)
    finally:
        api.close()
        stop_portal()
        stop_gate()
        engine.db.dispose()


def _eventually(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll until `check` answers something true (the back-office answers from its own thread)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def _deliveries(engine: LicensingEngine) -> list[TaskDeliveryRow]:
    with read_session(engine.db) as session:
        return list(session.exec(select(TaskDeliveryRow).order_by(col(TaskDeliveryRow.created_at))))


def _queued_deliveries(engine: LicensingEngine) -> list[OutboxRow]:
    with read_session(engine.db) as session:
        return list(session.exec(select(OutboxRow).where(OutboxRow.job == "deliver_task",
                                                         OutboxRow.state == JobState.PENDING)))


def test_an_agency_answering_500_then_recovering_gets_each_step_once(portal: Portal, auth: Auth,
                                                                     clock: MovableClock) -> None:
    applicant = auth("applicant", "alice")
    portal.gate.failures = 3  # the first attempt and two retries fail
    created = portal.api.post("/api/v1/applications", json=application_body(licences=[PLAN], form=FORM),
                              headers=applicant)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    upload_required(portal.api, application_id, applicant)
    assert portal.api.post(f"/api/v1/applications/{application_id}/submit", headers=applicant).status_code == 200

    # The first attempt follows the submission (the server runs the jobs after answering): wait for it.
    _eventually(lambda: [d.attempts for d in _deliveries(portal.engine)] == [1], "the first attempt")
    for attempt, wait in ((1, 0), (2, 30), (3, 60)):  # RETRY in engine/cases/agency_delivery.py: 30 s, 1 min, ...
        clock.advance(seconds=wait)
        portal.engine.dispatch()
        (delivery,) = _deliveries(portal.engine)
        # Meanwhile, in sight: the attempts, the agency's answer, and the next attempt waiting in the outbox.
        assert (delivery.state, delivery.attempts) == ("pending", attempt)
        assert "answered 500" in (delivery.last_error or "")
        (queued,) = _queued_deliveries(portal.engine)
        assert queued.available_at > clock.now()
        assert_consistent(portal.engine)  # waiting on the agency is not stuck, and no job gave up
    assert portal.gate.refused == 3 and portal.backoffice.state.backoffice.tasks == {}

    clock.advance(seconds=120)  # the system is back: the fourth attempt is delivered, and the case goes on
    portal.engine.dispatch()
    view = _eventually(lambda: (v := portal.api.get(f"/api/v1/applications/{application_id}",
                                                     headers=applicant).json())["status"] == "issued" and v,
                       "the licence issued")
    assert [(d.state, d.attempts) for d in _deliveries(portal.engine)] == [("delivered", 4), ("delivered", 1)]
    received = portal.backoffice.state.backoffice.tasks
    assert [r["task"]["step"] for r in received.values()] == ["document_check", "plan_review"]  # once each
    assert portal.gate.passed == 2  # the two steps: no second dispatch of a delivered one
    completions = [e["detail"]["step"] for e in view["timeline"] if e["event"] == "task.completed"]
    assert completions == ["document_check", "plan_review"]
    with read_session(portal.engine.db) as session:
        assert session.exec(select(IncidentRow)).all() == []  # recovered before giving up: nothing for an admin
    assert_consistent(portal.engine)
