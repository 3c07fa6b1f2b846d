"""The after-command dispatch: it hands over the rows this process committed, without polling the table each time,
and still finds by a poll what it does not know about."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bizportal.engine import outbox
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.outbox import InProcessQueue, Outbox
from bizportal.storage.database import transaction
from bizportal.storage.outbox import JobState, OutboxRow
from support.clock import MovableClock

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql",
                                                                           marks=pytest.mark.postgres)],
                                     indirect=True)


class Recorder:
    """A job handler that records each payload it ran, and fails while `failing` is set."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.failing = False

    def __call__(self, ctx: object, session: Session, payload: Mapping[str, Any]) -> None:
        if self.failing:
            raise ConnectionError("the provider is down")
        self.ran.append(payload["n"])


@pytest.fixture
def recorder(engine: LicensingEngine) -> Recorder:
    engine.outbox.handlers["record"] = recorder = Recorder()
    engine.dispatch()  # the first dispatch polls (rows left from before it started): done with here
    return recorder


def _polls(engine: LicensingEngine) -> list[str]:
    """Collects the claim queries that poll the outbox table (a SELECT of pending rows)."""
    seen: list[str] = []

    @event.listens_for(engine.db, "before_cursor_execute")
    def _seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT OUTBOX.ID"):
            seen.append(statement)

    return seen


def test_a_command_s_rows_are_dispatched_without_polling(engine: LicensingEngine, clock: MovableClock,
                                                          recorder: Recorder) -> None:
    polls = _polls(engine)
    with transaction(engine.db) as session:
        outbox.enqueue(session, "record", clock, n="a")
        outbox.enqueue(session, "record", clock, n="b")
    assert engine.dispatch() == 2
    assert sorted(recorder.ran) == ["a", "b"] and polls == []
    assert engine.dispatch() == 0  # handed over once
    with Session(engine.db) as session:
        assert {row.state for row in session.exec(select(OutboxRow))} == {JobState.DONE}


def test_a_rolled_back_row_is_never_dispatched(engine: LicensingEngine, clock: MovableClock,
                                               recorder: Recorder) -> None:
    with pytest.raises(RuntimeError), transaction(engine.db) as session:
        outbox.enqueue(session, "record", clock, n="lost")
        raise RuntimeError("the command failed")
    with transaction(engine.db) as session:
        with pytest.raises(RuntimeError), session.begin_nested():
            outbox.enqueue(session, "record", clock, n="savepoint")
            raise RuntimeError("a part of the command failed")
        outbox.enqueue(session, "record", clock, n="kept")
    assert engine.dispatch() == 1
    assert recorder.ran == ["kept"]


def test_a_delayed_row_and_a_retry_wait_until_due(engine: LicensingEngine, clock: MovableClock,
                                                  recorder: Recorder) -> None:
    polls = _polls(engine)
    with transaction(engine.db) as session:
        outbox.enqueue_at(session, "record", clock, clock.now() + timedelta(seconds=30), n="later")
    assert engine.dispatch() == 0
    clock.advance(seconds=30)
    assert engine.dispatch() == 1 and recorder.ran == ["later"]

    recorder.failing = True
    with transaction(engine.db) as session:
        outbox.enqueue(session, "record", clock, n="retried")
    assert engine.dispatch() == 1 and recorder.ran == ["later"]  # ran and failed: retried after its back-off
    recorder.failing = False
    assert engine.dispatch() == 0
    clock.advance(seconds=1)
    assert engine.dispatch() == 1 and recorder.ran == ["later", "retried"]
    assert polls == []


def test_a_row_another_dispatcher_claimed_is_not_handed_over_again(engine: LicensingEngine, clock: MovableClock,
                                                                   recorder: Recorder) -> None:
    with transaction(engine.db) as session:
        row_id = outbox.enqueue(session, "record", clock, n="once").id
    assert engine.outbox.pending_ids() == [row_id]  # a sweeper's poll took it first
    assert engine.dispatch() == 0 and recorder.ran == []


def test_rows_nobody_here_dispatched_are_found_by_a_poll(engine: LicensingEngine, clock: MovableClock,
                                                         recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process's outbox on the same database: its commits are not this one's to hand over.
    with transaction(engine.db) as session:
        session.add(OutboxRow(id="written-elsewhere", job="record", payload={"n": "elsewhere"},
                              created_at=clock.now(), available_at=clock.now()))
    assert engine.dispatch() == 0  # polled just now (the fixture): no reason to poll again yet
    monkeypatch.setattr(outbox, "POLL_EVERY", timedelta(0))
    assert engine.dispatch() == 1 and recorder.ran == ["elsewhere"]


def test_a_fresh_outbox_polls_on_its_first_dispatch(engine: LicensingEngine, clock: MovableClock,
                                                    recorder: Recorder) -> None:
    with transaction(engine.db) as session:
        session.add(OutboxRow(id="left-by-a-crash", job="record", payload={"n": "crash"},
                              created_at=clock.now(), available_at=clock.now()))
    restarted = Outbox(engine.db, clock, {"record": recorder}, engine.ctx)
    assert outbox.dispatch_committed(restarted, InProcessQueue(restarted)) == 1
    assert recorder.ran == ["crash"]
