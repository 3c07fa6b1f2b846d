"""Live status (issue 13): the status as JSON, and as Server-Sent Events sent again whenever the case moves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bizportal.api.routes.status_stream import HEARTBEAT_SECONDS, status_events
from bizportal.engine.applications.status import LicenceStatus, StatusSnapshot
from support.helpers import LICENCE, Auth, Journey

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the reads are the engine's


def _events(body: str) -> list[dict[str, str]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if fields:
            events.append(fields)
    return events


@ON_SQLITE
def test_the_status_is_read_by_those_who_may_read_the_application(journey: Journey, client: TestClient,
                                                                   auth: Auth) -> None:
    journey.create()
    journey.submit()
    answer = client.get(f"/api/v1/applications/{journey.id}/status", headers=journey.applicant)
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["status"] == "document_check" and seen["licences"][0]["current_step"] == "document_check"
    assert not seen["finished"]
    for path in ("status", "status-stream"):
        assert client.get(f"/api/v1/applications/{journey.id}/{path}",
                          headers=auth("applicant", "mallory")).status_code == 404
    journey.decide("document_check", "approve")
    moved = client.get(f"/api/v1/applications/{journey.id}/status", headers=journey.officer).json()
    assert moved["version"] != seen["version"] and moved["licences"][0]["current_step"] == "consideration"


@ON_SQLITE
def test_a_finished_application_streams_its_status_once_and_ends(journey: Journey, client: TestClient) -> None:
    journey.issue()
    with client.stream("GET", f"/api/v1/applications/{journey.id}/status-stream",
                       headers=journey.applicant) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = stream.read().decode()
    (event,) = _events(body)
    data = json.loads(event["data"])
    assert event["event"] == "status" and data["status"] == "issued" and data["finished"] is True
    assert event["id"] == data["version"] and event["retry"] == "3000"


def _snapshot(step: str | None, status: str = "document_check") -> StatusSnapshot:
    licence = LicenceStatus(code="food", status=status, current_step=step, due_at=None, licence_number=None)
    return StatusSnapshot(application_id="a", status=status, tracking_number="BP-1", licences=[licence],
                          finished=status == "issued", version=f"{status}:{step}")


def _collect(snapshots: list[StatusSnapshot], last_event_id: str | None = None, max_seconds: float = 1e9,
             ticks: Iterator[float] | None = None) -> list[tuple[str | None, str | None]]:
    """Run the stream over a sequence of reads (no real waiting: the poll is 0 s, the clock is given)."""
    reads = iter(snapshots)
    clock = ticks or iter(range(10_000))

    async def read() -> StatusSnapshot:
        return next(reads)

    async def run() -> list[tuple[str | None, str | None]]:
        return [(e.id, e.comment) async for e in status_events(read, 0, last_event_id, max_seconds,
                                                                 lambda: float(next(clock)))]
    return asyncio.run(run())


def test_the_stream_sends_each_new_version_once_until_the_case_is_finished() -> None:
    reads = [_snapshot("document_check"), _snapshot("document_check"), _snapshot("consideration"),
             _snapshot(None, "issued")]
    assert _collect(reads) == [("document_check:document_check", None), ("document_check:consideration", None),
                               ("issued:None", None)]
    # On reconnect, the version the browser already has is not sent again.
    assert _collect(reads[1:], last_event_id="document_check:document_check") == [
        ("document_check:consideration", None), ("issued:None", None)]


def test_a_quiet_stream_sends_heartbeats_and_ends_after_its_time() -> None:
    quiet = [_snapshot("document_check")] * 10
    ticks = iter(x * HEARTBEAT_SECONDS / 2 for x in range(100))  # half a heartbeat per clock read
    events = _collect(quiet, max_seconds=3 * HEARTBEAT_SECONDS, ticks=ticks)
    assert events[0] == ("document_check:document_check", None)
    assert events[1:] and all(comment == "still here" for _, comment in events[1:])


@ON_SQLITE
def test_the_process_diagram_shows_the_steps_done_and_the_current_one(journey: Journey, client: TestClient,
                                                                      auth: Auth) -> None:
    journey.create()
    url = f"/api/v1/applications/{journey.id}/licences/{LICENCE}/process"
    draft = client.get(url, headers=journey.applicant).json()
    assert draft["process_id"] == LICENCE and (draft["done"], draft["current"]) == ([], [])
    assert draft["bpmn_xml"].lstrip().startswith("<?xml") and 'id="document_check"' in draft["bpmn_xml"]
    journey.submit()
    journey.decide("document_check", "approve")
    moving = client.get(url, headers=journey.applicant).json()
    assert (moving["done"], moving["current"]) == (["document_check"], ["consideration"])
    assert client.get(url, headers=auth("applicant", "mallory")).status_code == 404
    assert client.get(f"/api/v1/applications/{journey.id}/licences/other_licence/process",
                      headers=journey.applicant).status_code == 404
