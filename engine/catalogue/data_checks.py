"""Checks shared by the data-file schemas (manuals, finder)."""

from __future__ import annotations

from collections.abc import Iterable


def reject_duplicates(values: Iterable[str], what: str) -> None:
    """Raise ValueError naming the first value seen twice (pydantic reports it with the field)."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)
