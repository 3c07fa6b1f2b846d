"""Time as the engine sees it; tests hand in a clock they can move. Stored times are UTC; Thai dates are Bangkok's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

# The one time zone of Thai dates: due dates, issue dates, B.E. years, and what documents and messages print.
# Thailand keeps no daylight saving time, so since 1920 this is a fixed UTC+7.
BANGKOK = ZoneInfo("Asia/Bangkok")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
