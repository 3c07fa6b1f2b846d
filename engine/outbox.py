"""The transactional outbox and the jobs it feeds.

A use case calls `enqueue` inside its transaction; after commit the dispatcher hands
pending rows to a job queue (arq workers with Redis, or in-process). `run_job` claims a
row, runs its handler in a fresh transaction together with marking the row done, and on
failure schedules a retry with exponential back-off. Jobs take ids and reload, so a job
delivered twice does its work once.

Dispatching after a command (`dispatch_committed`) hands over the rows this process's own transactions
committed: `enqueue` notes each row's id in its session, and the session's commit passes the ids on to
the outbox of that database (rolled-back ones never). Polling the table for pending rows
(`dispatch_pending`, one claim query per round) is only needed for rows nobody here knows about: left by a
crash, written by another process that did not dispatch them. The after-command dispatch polls on the first
call, when it lost track of rows, and otherwise at most every `POLL_EVERY`; the sweepers' periodic calls
(every 30-60 s) therefore poll each time.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from bizportal.engine.backoff import Backoff
from bizportal.engine.clock import Clock
from bizportal.storage.agency_tables import IncidentRow, IncidentState
from bizportal.storage.database import transaction
from bizportal.storage.outbox import JobState, OutboxRow

if TYPE_CHECKING:
    from bizportal.engine.context import EngineContext

log = logging.getLogger(__name__)

# A failed job waits 1, 2, 4, 8, 16 s (in practice until the next sweep) and gives up after 6 attempts.
# 1 s doubling to at most 5 minutes, 12 attempts: a job gives up (and opens an incident) after about 18 minutes.
# It gave up after 31 s (6 attempts): every licence and receipt rendered during a one-minute outage of the object
# store was left for an administrator to start again (tests/chaos, the object store stopped a minute).
RETRY = Backoff(first=timedelta(seconds=1), factor=2, cap=timedelta(minutes=5), max_attempts=12)
MAX_ATTEMPTS = RETRY.max_attempts


class Job(Protocol):
    """What runs an outbox row: called with the engine's context, the job's own transaction and the row's payload."""

    def __call__(self, ctx: EngineContext, session: Session, payload: Mapping[str, Any], /) -> None: ...


class JobQueue(Protocol):
    def submit(self, outbox_ids: list[str]) -> None:
        """Hand committed outbox rows to whatever runs jobs."""
        ...

    def close(self) -> None:
        """Release connections at shutdown (a later `submit` may open them again)."""
        ...


# The incident a job that gave up opens, so administrators see it (GET /api/v1/incidents) and can retry it.
INCIDENT_KIND = "outbox_job"

# How often the after-command dispatch polls the table at most when it has no other reason to.
POLL_EVERY = timedelta(seconds=10)

_QUEUED = "bizportal.outbox.queued"  # session.info: (available_at, id) of the rows the session's transaction queued


def enqueue(session: Session, job: str, clock: Clock, **payload: Any) -> OutboxRow:
    """Queue `job` with `payload` in the session's transaction; it runs once that commits."""
    return enqueue_at(session, job, clock, clock.now(), **payload)


def enqueue_at(session: Session, job: str, clock: Clock, available_at: datetime, /, **payload: Any) -> OutboxRow:
    """Queue `job` to run once the session's transaction commits, not before `available_at`."""
    row = OutboxRow(id=str(uuid.uuid4()), job=job, payload=payload, created_at=clock.now(), available_at=available_at)
    session.add(row)
    session.info.setdefault(_QUEUED, []).append((available_at, row.id))
    return row


class _Committed:
    """Rows of one database that this process committed (or scheduled for a retry) and has not dispatched
    yet, by when they are due. Shared by the threads that commit and those that dispatch."""

    CAPACITY = 10_000  # past this the ids are dropped and the next dispatch polls instead

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[tuple[datetime, str]] = []  # a heap: the earliest due first
        self.lost = False  # ids were dropped: only a poll finds those rows

    def add(self, rows: Iterable[tuple[datetime, str]]) -> None:
        with self._lock:
            for row in rows:
                if len(self._rows) >= self.CAPACITY:
                    self.lost = True
                    return
                heapq.heappush(self._rows, row)

    def take_due(self, now: datetime, limit: int) -> list[str]:
        with self._lock:
            due: list[str] = []
            while self._rows and self._rows[0][0] <= now and len(due) < limit:
                due.append(heapq.heappop(self._rows)[1])
            return due


# The committed rows of each database an outbox in this process dispatches for (a database without one
# records nothing: its rows are found by polls).
_COMMITTED: weakref.WeakKeyDictionary[Engine, _Committed] = weakref.WeakKeyDictionary()
_COMMITTED_LOCK = threading.Lock()


def _committed_for(engine: Engine) -> _Committed:
    with _COMMITTED_LOCK:
        committed = _COMMITTED.get(engine)
        if committed is None:
            committed = _COMMITTED[engine] = _Committed()
        return committed


@event.listens_for(OrmSession, "after_commit")
def _hand_over(session: OrmSession) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: its rows are only committed with the outer transaction
    queued = session.info.pop(_QUEUED, None)
    if not queued:
        return
    bind = session.bind  # an engine, or a connection (never raises, unlike get_bind() on an unbound session)
    engine = bind.engine if isinstance(bind, Connection) else bind
    committed = _COMMITTED.get(engine) if isinstance(engine, Engine) else None
    if committed is not None:
        committed.add(queued)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    # A savepoint's rollback keeps the list: the ids of the rows it undid match no row when claimed.
    if not previous_transaction.nested:
        session.info.pop(_QUEUED, None)


DEFAULT_STALE_AFTER = timedelta(minutes=5)


class Outbox:
    """Runs outbox rows with the job of their name, passing `ctx` to it."""

    def __init__(self, engine: Engine, clock: Clock, handlers: Mapping[str, Job], ctx: EngineContext,
                 stale_after: timedelta = DEFAULT_STALE_AFTER) -> None:
        self.engine = engine
        # A row dispatched this long ago and not finished was lost (its worker died, Redis lost its queue): it is
        # dispatched again. Longer than any job may run (the worker's job timeout), or a running job is doubled:
        # harmless (the claim in run_job lets one finish) but wasted.
        self.stale_after = stale_after
        self.clock = clock
        self.handlers = dict(handlers)
        self.ctx = ctx
        self._committed = _committed_for(engine)
        self._last_poll: float | None = None  # time.monotonic() of the last poll; None: never polled

    def take_committed(self, limit: int = 100) -> list[str]:
        """Ids of rows this process committed (or scheduled for a retry) that are due now, up to `limit`;
        each id is handed out once."""
        return self._committed.take_due(self.clock.now(), limit)

    def claim(self, ids: list[str]) -> list[str]:
        """Claim the rows `ids` that are still pending and due, in one statement; returns those claimed.

        A row another dispatcher claimed first, one rolled back in a savepoint or not yet due is left out
        (on PostgreSQL the UPDATE waits for a poll that holds the row locked, then sees it dispatched)."""
        if not ids:
            return []
        now = self.clock.now()
        with transaction(self.engine) as session:
            claimed = session.execute(
                update(OutboxRow)
                .where(col(OutboxRow.id).in_(ids), col(OutboxRow.state) == JobState.PENDING,
                       col(OutboxRow.available_at) <= now)
                .values(state=JobState.DISPATCHED, dispatched_at=now)
                .returning(col(OutboxRow.id))
                .execution_options(synchronize_session=False))
            return list(claimed.scalars())

    def should_poll(self) -> bool:
        """Whether the after-command dispatch has a reason to poll: never polled, ids dropped, or the last
        poll is `POLL_EVERY` old (rows other processes queued and did not dispatch, a crash's leftovers)."""
        last = self._last_poll
        return (last is None or self._committed.lost
                or time.monotonic() - last >= POLL_EVERY.total_seconds())

    def pending_ids(self, limit: int = 100) -> list[str]:
        """Claim rows ready to run: pending and due, or dispatched long ago and never finished (lost job).

        Request threads dispatch after every command, so claims race. `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite
        writes one transaction at a time and ignores it) gives each claim rows no other claim holds: a row is
        claimed once, and two claims never wait on each other's rows (an update of overlapping rows in different
        orders deadlocked)."""
        now = self.clock.now()
        self._last_poll, self._committed.lost = time.monotonic(), False
        with transaction(self.engine) as session:
            query = (select(OutboxRow.id)
                     .where(or_(col(OutboxRow.state) == JobState.PENDING,
                                (col(OutboxRow.state) == JobState.DISPATCHED)
                                & (col(OutboxRow.dispatched_at) <= now - self.stale_after)))
                     .where(col(OutboxRow.available_at) <= now).order_by(col(OutboxRow.created_at)).limit(limit)
                     .with_for_update(skip_locked=True))
            ids = list(session.exec(query))
            if ids:
                session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids))  # type: ignore[attr-defined]
                                .values(state=JobState.DISPATCHED, dispatched_at=now))
        return ids

    def run_job(self, outbox_id: str) -> bool:
        """Run one job if it is not done yet. Returns True when the job is done after this call."""
        claimed: tuple[str, dict[str, Any], int] | None = None
        try:
            with transaction(self.engine) as session:
                # Claim and finish in the same transaction as the job's own writes: either both commit or
                # neither does, and a concurrent duplicate loses the claim. The claim returns what the job
                # needs, so the row is not read first.
                row = session.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.id) == outbox_id,
                           col(OutboxRow.state).in_((JobState.PENDING, JobState.DISPATCHED)))
                    .values(state=JobState.DONE, done_at=self.clock.now(), attempts=OutboxRow.attempts + 1)
                    .returning(col(OutboxRow.job), col(OutboxRow.payload), col(OutboxRow.attempts))
                    .execution_options(synchronize_session=False)).first()
                if row is None:  # done, failed, or no such row
                    return session.exec(select(OutboxRow.state).where(OutboxRow.id == outbox_id)).first() == \
                        JobState.DONE
                claimed = (row[0], dict(row[1]), row[2])
                handler = self.handlers.get(claimed[0])
                if handler is None:
                    raise LookupError(f"no handler for job {claimed[0]!r}")
                handler(self.ctx, session, claimed[1])
            return True
        except Exception as err:  # any failure of the job: record it and retry later, never lose the row
            if claimed is None:
                raise  # the claim itself failed (the database): nothing ran, the row is as it was
            job, _, attempts = claimed  # attempts counts this one
            log.warning("job %s (%s) failed on attempt %d: %s", outbox_id, job, attempts, err)
            available_at = self.clock.now() + RETRY.delay(attempts)
            final = RETRY.gives_up(attempts)
            with transaction(self.engine) as session:
                session.execute(update(OutboxRow).where(col(OutboxRow.id) == outbox_id).values(
                    state=JobState.FAILED if final else JobState.PENDING, attempts=attempts,
                    last_error=f"{type(err).__name__}: {err}", available_at=available_at))
                if final:  # nothing retries it any more: an administrator must see it (and may retry it)
                    log.error("job %s (%s) gave up after %d attempts: %s", outbox_id, job, attempts, err)
                    session.add(IncidentRow(id=str(uuid.uuid4()), kind=INCIDENT_KIND, reference=outbox_id,
                                            message=f"job {job} gave up after {attempts} attempts: "
                                                    f"{type(err).__name__}: {err}",
                                            state=IncidentState.OPEN, created_at=self.clock.now()))
            if not final:  # dispatched again here once due, without waiting for a poll
                self._committed.add([(available_at, outbox_id)])
            return False


class InProcessQueue:
    """The embedded default: jobs run in this process, right after the commit that wrote them."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def submit(self, outbox_ids: list[str]) -> None:
        for outbox_id in outbox_ids:
            self.outbox.run_job(outbox_id)

    def close(self) -> None:
        """Nothing to release."""


def dispatch_pending(outbox: Outbox, queue: JobQueue, max_rounds: int = 20) -> int:
    """Hand every pending row to the queue, polling the table; jobs that write new rows are picked up next
    round."""
    total = 0
    for _ in range(max_rounds):
        ids = outbox.pending_ids()
        if not ids:
            break
        queue.submit(ids)
        total += len(ids)
    return total


def dispatch_committed(outbox: Outbox, queue: JobQueue, max_rounds: int = 20, limit: int = 100) -> int:
    """Hand the queue the rows this process committed and that are due (what a command just queued, what
    its jobs queued in turn, retries of jobs that failed here), polling the table only when
    `Outbox.should_poll` says so. Each row is claimed before it is handed over, so it is handed over once."""
    total = 0
    poll = outbox.should_poll()
    for _ in range(max_rounds):
        ids = outbox.claim(outbox.take_committed(limit))
        if poll:
            polled = outbox.pending_ids(limit)
            ids += polled
            poll = len(polled) == limit  # a full batch: there may be more
        if not ids:
            break
        queue.submit(ids)
        total += len(ids)
    return total
