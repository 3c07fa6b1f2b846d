"""Live status: an application's status as JSON, and as a Server-Sent Events stream that sends it again
whenever the case moves (the tracking page listens to it; a plain refresh is the fallback).

The stream polls the projection (one indexed read) rather than the workflow: cheap, and right whichever
process moved the case. It ends once every licence has reached its end, and otherwise after a few minutes,
when the browser's EventSource reconnects (sending the last event id, so an unchanged status is not resent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from bizportal.api.deps import EngineDep, PrincipalDep, query
from bizportal.engine.applications import status
from bizportal.engine.applications.status import StatusSnapshot

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])

POLL_SECONDS = 2.0  # how often the projection is read while a stream is open (app.state.status_poll_seconds)
HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies from closing a quiet stream
MAX_STREAM_SECONDS = 300.0  # then the browser reconnects: no connection is held for ever
RETRY_MS = 3000


class StatusReader:
    """Reads one application's status for the signed-in caller; the first read, made before anything is sent,
    turns an unknown or unreadable application into a plain 404 and is the answer of a single status read."""

    def __init__(self, engine: EngineDep, principal: PrincipalDep, application_id: str) -> None:
        self.engine, self.principal, self.application_id = engine, principal, application_id
        self.first = self()

    def __call__(self) -> StatusSnapshot:
        with query(self.engine) as session:
            return status.snapshot(self.engine.ctx, session, self.principal, self.application_id)


Reader = Annotated[StatusReader, Depends()]


@router.get("/{application_id}/status", response_model=StatusSnapshot,
            summary="The application's status and each licence's step (what the live stream sends)")
async def application_status(read: Reader) -> StatusSnapshot:  # read already (on a thread): no second hop to one
    return read.first


@router.get("/{application_id}/status-stream", response_class=EventSourceResponse,
            summary="Server-Sent Events: the status now, then again whenever it changes",
            responses={200: {"description": "`event: status` with the JSON of GET .../status, its `id` the "
                             "status's version; comment lines as heartbeats; ends when every licence is finished"}})
async def application_status_stream(
        request: Request, read: Reader,
        last_event_id: Annotated[str | None, Header(max_length=64, description="set by EventSource on reconnect")]
        = None) -> AsyncIterator[ServerSentEvent]:
    poll = getattr(request.app.state, "status_poll_seconds", POLL_SECONDS)
    first: StatusSnapshot | None = read.first

    async def snapshot() -> StatusSnapshot:  # the first event sends the read made already
        nonlocal first
        if first is not None:
            taken, first = first, None
            return taken
        return await run_in_threadpool(read)

    async for event in status_events(snapshot, poll, last_event_id):
        if await request.is_disconnected():
            return
        yield event


async def status_events(read: Callable[[], Awaitable[StatusSnapshot]], poll_seconds: float,
                        last_event_id: str | None = None, max_seconds: float = MAX_STREAM_SECONDS,
                        monotonic: Callable[[], float] = time.monotonic) -> AsyncIterator[ServerSentEvent]:
    """The events of one stream: each new version of the status, heartbeats between, until it is finished or
    `max_seconds` have passed."""
    started = last_beat = monotonic()
    sent = last_event_id
    while True:
        snapshot = await read()
        if snapshot.version != sent:
            sent = snapshot.version
            yield ServerSentEvent(event="status", id=snapshot.version, data=snapshot.model_dump(mode="json"),
                                  retry=RETRY_MS)
            last_beat = monotonic()
        if snapshot.finished or monotonic() - started >= max_seconds:
            return
        if monotonic() - last_beat >= HEARTBEAT_SECONDS:
            yield ServerSentEvent(comment="still here")
            last_beat = monotonic()
        await asyncio.sleep(poll_seconds)
