"""The transactional outbox and the jobs it feeds.

A use case calls `enqueue` inside its transaction; after commit the dispatcher hands
pending rows to a job queue (arq workers with Redis, or in-process). `run_job` claims a
row, runs its handler in a fresh transaction together with marking the row done, and on
failure schedules a retry with exponential back-off. Jobs take ids and reload, so a job
delivered twice does its work once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bizportal.engine.backoff import Backoff
from bizportal.engine.clock import Clock
from bizportal.storage.database import transaction
from bizportal.storage.outbox import JobState, OutboxRow

if TYPE_CHECKING:
    from bizportal.engine.context import EngineContext

log = logging.getLogger(__name__)

# A failed job waits 1, 2, 4, 8, 16 s (in practice until the next sweep) and gives up after 6 attempts.
RETRY = Backoff(first=timedelta(seconds=1), factor=2, max_attempts=6)
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


def enqueue(session: Session, job: str, clock: Clock, **payload: Any) -> OutboxRow:
    row = OutboxRow(id=str(uuid.uuid4()), job=job, payload=payload, created_at=clock.now(), available_at=clock.now())
    session.add(row)
    return row


class Outbox:
    """Runs outbox rows with the job of their name, passing `ctx` to it."""

    def __init__(self, engine: Engine, clock: Clock, handlers: Mapping[str, Job], ctx: EngineContext) -> None:
        self.engine = engine
        self.clock = clock
        self.handlers = dict(handlers)
        self.ctx = ctx

    def pending_ids(self, limit: int = 100, stale_after: timedelta = timedelta(minutes=5)) -> list[str]:
        """Claim rows ready to run: pending and due, or dispatched long ago and never finished (lost job).

        Request threads dispatch after every command, so claims race. `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite
        writes one transaction at a time and ignores it) gives each claim rows no other claim holds: a row is
        claimed once, and two claims never wait on each other's rows (an update of overlapping rows in different
        orders deadlocked)."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            query = (select(OutboxRow.id)
                     .where(or_(col(OutboxRow.state) == JobState.PENDING,
                                (col(OutboxRow.state) == JobState.DISPATCHED)
                                & (col(OutboxRow.dispatched_at) <= now - stale_after)))
                     .where(col(OutboxRow.available_at) <= now).order_by(col(OutboxRow.created_at)).limit(limit)
                     .with_for_update(skip_locked=True))
            ids = list(session.exec(query))
            if ids:
                session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids))  # type: ignore[attr-defined]
                                .values(state=JobState.DISPATCHED, dispatched_at=now))
        return ids

    def run_job(self, outbox_id: str) -> bool:
        """Run one job if it is not done yet. Returns True when the job is done after this call."""
        with transaction(self.engine) as session:
            row = session.get(OutboxRow, outbox_id)
            if row is None or row.state in (JobState.DONE, JobState.FAILED):
                return row is not None and row.state == JobState.DONE
            job, payload, attempts = row.job, dict(row.payload), row.attempts
        handler = self.handlers.get(job)
        try:
            if handler is None:
                raise LookupError(f"no handler for job {job!r}")
            with transaction(self.engine) as session:
                # Claim and finish in the same transaction as the job's own writes: either
                # both commit or neither does, and a concurrent duplicate loses the claim.
                claimed = session.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.id) == outbox_id,
                           col(OutboxRow.state).in_((JobState.PENDING, JobState.DISPATCHED)))
                    .values(state=JobState.DONE, done_at=self.clock.now(), attempts=OutboxRow.attempts + 1))
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    return False
                handler(self.ctx, session, payload)
            return True
        except Exception as err:  # any failure: record it and retry later, never lose the row
            log.warning("job %s (%s) failed on attempt %d: %s", outbox_id, job, attempts + 1, err)
            delay = RETRY.delay(attempts + 1)
            with transaction(self.engine) as session:
                final = RETRY.gives_up(attempts + 1)
                session.execute(update(OutboxRow).where(col(OutboxRow.id) == outbox_id).values(
                    state=JobState.FAILED if final else JobState.PENDING, attempts=attempts + 1,
                    last_error=f"{type(err).__name__}: {err}", available_at=self.clock.now() + delay))
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
    """Hand every pending row to the queue; jobs that write new rows are picked up next round."""
    total = 0
    for _ in range(max_rounds):
        ids = outbox.pending_ids()
        if not ids:
            break
        queue.submit(ids)
        total += len(ids)
    return total
