"""The same jobs on arq workers against the real Redis server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol, cast

import pytest
import redis
from arq import create_pool
from fastapi.testclient import TestClient
from sqlmodel import select

from bizportal.adapters.jobs import arq_queue
from bizportal.api.app import create_app
from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.api.worker import build_worker
from bizportal.engine import outbox
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.database import transaction
from bizportal.storage.outbox import OutboxRow
from support.helpers import OFFICE, REDIS_DB, REDIS_URL, Auth, Journey

pytestmark = pytest.mark.redis


class MovableClock(Protocol):  # the `clock` fixture
    def now(self) -> datetime: ...

    def advance(self, **delta: float) -> None: ...


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()  # the database belongs to the tests (one per xdist worker)
    yield settings.model_copy(update={"redis_url": REDIS_URL})
    connection.flushdb()
    connection.close()


def _drain(settings: Settings, engine: LicensingEngine) -> None:
    """Run an arq worker in burst mode until the queue is empty, as a deployed worker would."""

    async def drain() -> None:
        worker = build_worker(settings, engine=engine, burst=True)  # inside the loop that runs it
        try:
            await asyncio.wait_for(worker.main(), timeout=60)
        finally:
            await worker.close()

    asyncio.run(drain())


@pytest.fixture
def redis_engine(redis_settings: Settings, clock: object) -> Iterator[LicensingEngine]:
    engine = engine_from(redis_settings, clock=clock)  # type: ignore[arg-type]
    yield engine
    engine.db.dispose()


@pytest.fixture
def redis_journey(redis_settings: Settings, redis_engine: LicensingEngine, auth: Auth) -> Iterator[Journey]:
    with TestClient(create_app(redis_settings, engine=redis_engine)) as client:
        yield Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                      auth("counter_officer", "carl"))


def test_jobs_run_on_arq_workers(redis_settings: Settings, redis_engine: LicensingEngine,
                                  redis_journey: Journey) -> None:
    engine, journey = redis_engine, redis_journey
    journey.create()
    journey.submit()
    # Dispatch enqueued the start job on Redis; nothing ran in the API process.
    assert journey.view()["licences"][0]["status"] == "submitted"
    queued = redis.Redis.from_url(REDIS_URL).zcard("arq:queue")
    assert queued == 1
    _drain(redis_settings, engine)
    assert journey.view()["status"] == "document_check"

    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    assert journey.pay().status_code == 200
    assert journey.view()["status"] == "issuing"
    _drain(redis_settings, engine)
    assert journey.view()["status"] == "issued"


def test_a_job_enqueued_twice_runs_once(redis_settings: Settings, redis_engine: LicensingEngine,
                                        redis_journey: Journey) -> None:
    engine, journey = redis_engine, redis_journey
    journey.create()
    journey.submit()

    with transaction(engine.db) as session:
        (row,) = session.exec(select(OutboxRow)).all()
    engine.queue.submit([row.id])  # a duplicate delivery: arq keeps one job per id
    _drain(redis_settings, engine)
    assert engine.outbox.run_job(row.id) is True  # already done: a no-op
    view = journey.view()
    assert view["status"] == "document_check"
    assert [e["event"] for e in view["timeline"]].count("licence.status_changed") == 1


class FailsOnce:
    """An outbox job handler that fails on its first run and succeeds on the next."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, ctx: object, session: object, payload: object) -> None:
        self.runs += 1
        if self.runs == 1:
            raise ConnectionError("the provider is down")


def test_a_failed_job_is_retried_at_its_back_off(redis_settings: Settings, redis_engine: LicensingEngine,
                                                 clock: MovableClock) -> None:
    engine, handler = redis_engine, FailsOnce()
    engine.outbox.handlers["fails_once"] = handler
    with transaction(engine.db) as session:
        row_id = outbox.enqueue(session, "fails_once", clock).id
    assert engine.dispatch() == 1
    _drain(redis_settings, engine)
    with transaction(engine.db) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None and (row.state, row.attempts) == ("pending", 1)
        assert row.available_at == clock.now() + timedelta(seconds=1)  # the outbox's back-off: 2**0 s

    assert engine.dispatch() == 0  # not due yet
    clock.advance(seconds=1)
    assert engine.dispatch() == 1
    _drain(redis_settings, engine)  # arq must not refuse the job id of the failed run
    assert handler.runs == 2
    with transaction(engine.db) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None and (row.state, row.attempts) == ("done", 2)


def _queue_connections(connection: redis.Redis) -> int:
    """Connections to the tests' Redis database other than `connection` itself."""
    own = connection.client_id()
    # redis-py types the sync and the async client's replies together: the sync one returns the list.
    clients = cast(list[dict[str, str]], connection.client_list())
    return sum(1 for client in clients if client["db"] == str(REDIS_DB) and int(client["id"]) != own)


def test_dispatches_share_one_redis_pool_closed_at_shutdown(redis_settings: Settings, redis_engine: LicensingEngine,
                                                            clock: MovableClock,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    engine, connection = redis_engine, redis.Redis.from_url(REDIS_URL)
    pools: list[object] = []

    async def counted_pool(*args: object, **kwargs: object) -> object:
        pools.append(await create_pool(*args, **kwargs))  # type: ignore[arg-type]
        return pools[-1]

    monkeypatch.setattr(arq_queue, "create_pool", counted_pool)
    engine.outbox.handlers["noop"] = lambda ctx, session, payload: None
    baseline = _queue_connections(connection)

    def commit_and_dispatch(_: int) -> None:
        with transaction(engine.db) as session:
            outbox.enqueue(session, "noop", clock)
        engine.dispatch()

    with TestClient(create_app(redis_settings, engine=engine)):
        with ThreadPoolExecutor(max_workers=4) as threads:  # request threads dispatch at the same time
            list(threads.map(commit_and_dispatch, range(12)))
        assert connection.zcard("arq:queue") == 12
        assert len(pools) == 1
        assert 1 <= _queue_connections(connection) - baseline <= 4  # the pool's connections, kept open
    # The app's shutdown closed the pool: its connections are gone.
    assert _queue_connections(connection) == baseline
    connection.close()
