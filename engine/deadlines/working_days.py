"""Thai working days: the unit of every service time in the citizen's manuals.

Weekends and Thai public holidays (the `holidays` package's calendar for Thailand) do not
count. A due date is the end of the last working day in Bangkok time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from bizportal.engine.clock import BANGKOK

END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=8)
def _thai_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("TH", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _thai_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `start` (Bangkok time), returned in UTC.

    The day a request arrives does not count, as in the manuals' "within N working days".
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start.astimezone(BANGKOK).date()
    while days == 0 and not is_working_day(day):  # "same day" filed on a holiday means the next working day
        day += timedelta(days=1)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, END_OF_DAY, BANGKOK).astimezone(start.tzinfo or BANGKOK)


def calendar_deadline(start: datetime, days: int) -> datetime:
    """The end of the `days`-th calendar day after `start` (Bangkok time), moved on to the next working
    day when it falls on a weekend or holiday; returned in `start`'s time zone.

    For deadlines the law or a policy counts in plain days (paying a fee): a deadline that ends when
    counters are closed would take a day from those who pay in cash.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start.astimezone(BANGKOK).date() + timedelta(days=days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, END_OF_DAY, BANGKOK).astimezone(start.tzinfo or BANGKOK)
