"""What the chaos tests (tests/chaos/) share: the check each ends with (every invariant of
engine/reporting/consistency.py holds), and how many rounds a race is run."""

from __future__ import annotations

import os

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.reporting.consistency import check_consistency
from bizportal.storage.database import read_session


def rounds(bounded: int) -> int:
    """How many rounds a race runs: `bounded` in `make test`, BIZPORTAL_CHAOS_ROUNDS (20) in `make chaos`."""
    return int(os.environ.get("BIZPORTAL_CHAOS_ROUNDS", bounded))


def assert_consistent(engine: LicensingEngine) -> None:
    """Every invariant holds on the engine's database, read at the engine's clock (the test's)."""
    with read_session(engine.db) as session:
        violations = check_consistency(session, engine.ctx.clock.now())
    assert violations == [], "\n".join(f"{v.invariant}: {v.subject}: {v.detail}" for v in violations)
