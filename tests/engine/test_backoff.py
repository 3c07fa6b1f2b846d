"""The one back-off policy, with the two schedules that use it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bizportal.engine import outbox
from bizportal.engine.backoff import Backoff
from bizportal.engine.cases import agency_delivery


def test_the_outbox_waits_one_second_doubling_to_five_minutes_and_gives_up_after_about_eighteen() -> None:
    delays = [outbox.RETRY.delay(n).total_seconds() for n in range(1, 12)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert [outbox.RETRY.gives_up(n) for n in range(1, 13)] == [False] * 11 + [True]
    assert outbox.MAX_ATTEMPTS == 12
    assert 18 * 60 < sum(delays) < 19 * 60  # an outage of a store or the database shorter than that is ridden out


def test_an_agency_delivery_waits_thirty_seconds_doubling_about_fifteen_minutes_in_all() -> None:
    delays = [agency_delivery.RETRY.delay(n) for n in range(1, 6)]
    assert [d.total_seconds() for d in delays] == [30, 60, 120, 240, 480]
    assert sum(delays, timedelta()) == timedelta(minutes=15, seconds=30)
    assert agency_delivery.RETRY.gives_up(6) and not agency_delivery.RETRY.gives_up(5)


def test_a_cap_bounds_the_wait_and_attempts_count_from_one() -> None:
    capped = Backoff(first=timedelta(seconds=10), factor=3, cap=timedelta(minutes=1), max_attempts=10)
    assert [capped.delay(n).total_seconds() for n in range(1, 5)] == [10, 30, 60, 60]
    with pytest.raises(ValueError):
        capped.delay(0)
