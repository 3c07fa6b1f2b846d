"""How documents and messages print dates, times and money: Thai with Buddhist-era years, English, baht.

Independent of the process locale, so a rendering never changes with the machine it runs on.
"""

from __future__ import annotations

from datetime import date, datetime

from bizportal.engine.clock import BANGKOK

BUDDHIST_ERA_OFFSET = 543

_THAI_MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def buddhist_year(day: date | datetime) -> int:
    """The Buddhist-era year of a date, or of an aware datetime's day in Bangkok: 2026-11-22 -> 2569."""
    if isinstance(day, datetime):
        day = _bangkok(day)
    return day.year + BUDDHIST_ERA_OFFSET


def thai_date(d: date) -> str:
    """`date(2026, 11, 22)` -> "22 พฤศจิกายน 2569" (Thai month name, Buddhist-era year)."""
    return f"{d.day} {_THAI_MONTHS[d.month - 1]} {buddhist_year(d)}"


def english_date(d: date) -> str:
    """`date(2026, 11, 22)` -> "22 November 2026"."""
    return f"{d.day} {_ENGLISH_MONTHS[d.month - 1]} {d.year}"


def thai_datetime(moment: datetime) -> str:
    """An aware datetime in Bangkok time: "1 ธันวาคม 2569 เวลา 09:05 น."."""
    local = _bangkok(moment)
    return f"{thai_date(local.date())} เวลา {local:%H:%M} น."


def english_datetime(moment: datetime) -> str:
    """An aware datetime in Bangkok time: "1 December 2026, 09:05 (UTC+7)"."""
    local = _bangkok(moment)
    return f"{english_date(local.date())}, {local:%H:%M} (UTC+7)"


def baht(satang: int) -> str:
    """Integer satang as baht with thousands separators: 123450 -> "1,234.50"."""
    if isinstance(satang, bool) or not isinstance(satang, int):
        raise TypeError(f"amounts are integer satang, got {satang!r}")
    sign = "-" if satang < 0 else ""
    whole, fraction = divmod(abs(satang), 100)
    return f"{sign}{whole:,}.{fraction:02d}"


def _bangkok(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware one (times print in Bangkok time)")
    return moment.astimezone(BANGKOK)
