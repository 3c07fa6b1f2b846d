"""The same jobs on arq workers against the real Redis server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from helpers import OFFICE, REDIS_URL, Auth, Journey
from sqlmodel import select

from bizportal.api.app import create_app
from bizportal.api.composition import portal_from
from bizportal.api.settings import Settings
from bizportal.api.worker import build_worker
from bizportal.engine.portal import Portal
from bizportal.storage.database import transaction
from bizportal.storage.outbox import OutboxRow

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()  # database 15 belongs to the tests
    yield settings.model_copy(update={"redis_url": REDIS_URL})
    connection.flushdb()
    connection.close()


def _drain(settings: Settings, portal: Portal) -> None:
    """Run an arq worker in burst mode until the queue is empty, as a deployed worker would."""

    async def drain() -> None:
        worker = build_worker(settings, portal=portal, burst=True)  # inside the loop that runs it
        try:
            await asyncio.wait_for(worker.main(), timeout=60)
        finally:
            await worker.close()

    asyncio.run(drain())


@pytest.fixture
def redis_portal(redis_settings: Settings, clock: object) -> Iterator[Portal]:
    portal = portal_from(redis_settings, clock=clock)  # type: ignore[arg-type]
    yield portal
    portal.db.dispose()


@pytest.fixture
def redis_journey(redis_settings: Settings, redis_portal: Portal, auth: Auth) -> Iterator[Journey]:
    with TestClient(create_app(redis_settings, portal=redis_portal)) as client:
        yield Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                      auth("counter_officer", "carl"))


def test_jobs_run_on_arq_workers(redis_settings: Settings, redis_portal: Portal, redis_journey: Journey) -> None:
    portal, journey = redis_portal, redis_journey
    journey.create()
    journey.submit()
    # Dispatch enqueued the start job on Redis; nothing ran in the API process.
    assert journey.view()["licences"][0]["status"] == "submitted"
    queued = redis.Redis.from_url(REDIS_URL).zcard("arq:queue")
    assert queued == 1
    _drain(redis_settings, portal)
    assert journey.view()["status"] == "document_check"

    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    assert journey.pay().status_code == 200
    assert journey.view()["status"] == "issuing"
    _drain(redis_settings, portal)
    assert journey.view()["status"] == "issued"


def test_a_job_enqueued_twice_runs_once(redis_settings: Settings, redis_portal: Portal,
                                        redis_journey: Journey) -> None:
    portal, journey = redis_portal, redis_journey
    journey.create()
    journey.submit()

    with transaction(portal.db) as session:
        (row,) = session.exec(select(OutboxRow)).all()
    portal.queue.submit([row.id])  # a duplicate delivery: arq keeps one job per id
    _drain(redis_settings, portal)
    assert portal.outbox.run_job(row.id) is True  # already done: a no-op
    view = journey.view()
    assert view["status"] == "document_check"
    assert [e["event"] for e in view["timeline"]].count("licence.status_changed") == 1
