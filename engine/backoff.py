"""The one retry policy of persisted jobs: exponential back-off and when to give up.

The outbox and the agency deliveries keep their attempt count in a database row and the next attempt
time in `available_at`, so a retry survives a restart; this module only says how long to wait and when
to stop. (An in-process loop would use a library such as stamina; none of them persists the schedule.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    """Wait `first * factor**(attempt-1)` after failed attempt `attempt` (1-based), at most `cap`."""

    first: timedelta
    factor: float = 2
    cap: timedelta | None = None
    max_attempts: int = 6

    def delay(self, attempt: int) -> timedelta:
        """How long after failed attempt `attempt` (1 for the first) the next one is due."""
        if attempt < 1:
            raise ValueError(f"attempts count from 1, got {attempt}")
        wait = self.first * self.factor ** (attempt - 1)
        return wait if self.cap is None else min(wait, self.cap)

    def gives_up(self, attempt: int) -> bool:
        """True when failed attempt `attempt` was the last one allowed."""
        return attempt >= self.max_attempts
