"""Dispatchers racing for the outbox: request threads dispatch after every command, so several claim pending rows
at once. Each row must be claimed by exactly one of them, and the race must never deadlock (PostgreSQL: two
claims updating overlapping rows in different orders did, once in a CI run).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from bizportal.engine import outbox
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.database import transaction
from support.clock import MovableClock

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql",
                                                                           marks=pytest.mark.postgres)],
                                     indirect=True)

ROWS, DISPATCHERS, ROUNDS = 60, 6, 5


def test_racing_dispatchers_claim_each_row_once(engine: LicensingEngine, clock: MovableClock) -> None:
    claimed: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(DISPATCHERS)
    lock = threading.Lock()

    def dispatcher() -> None:
        try:
            start.wait()
            for _ in range(ROUNDS):
                with transaction(engine.db) as session:  # new work arrives while the others claim
                    for _ in range(ROWS // (DISPATCHERS * ROUNDS)):
                        outbox.enqueue(session, "noop", clock)
                ids = engine.outbox.pending_ids(limit=7)
                with lock:
                    claimed.extend(ids)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=dispatcher) for _ in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed += engine.outbox.pending_ids(limit=ROWS)  # what the racing claims left behind
    assert sorted(Counter(claimed).values()) == [1] * ROWS
