"""The check every chaos test ends with: the invariants of engine/reporting/consistency.py all hold."""

from __future__ import annotations

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.reporting.consistency import check_consistency
from bizportal.storage.database import read_session


def assert_consistent(engine: LicensingEngine) -> None:
    """Every invariant holds on the engine's database, read at the engine's clock (the test's)."""
    with read_session(engine.db) as session:
        violations = check_consistency(session, engine.ctx.clock.now())
    assert violations == [], "\n".join(f"{v.invariant}: {v.subject}: {v.detail}" for v in violations)
