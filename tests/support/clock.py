"""The clock tests move (the `clock` fixture of tests/conftest.py), importable by any test module.

A test module imports it from here, not from `conftest`: with several conftest files in one run, `import conftest`
finds whichever was imported first (tests/storage/conftest.py once it was collected first, which broke the
import in one pytest-xdist worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Tuesday 1 December 2026, 09:00 Bangkok: a working week without holidays ahead.
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@dataclass
class MovableClock:
    current: datetime = START

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)
