"""Yearly numbers on gap-free counters, and the due-row claim every scanner uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from bizportal.engine.documents.formats import buddhist_year
from bizportal.storage.counters import CounterRow, yearly_number
from bizportal.storage.database import claim_due, make_engine, transaction


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    SQLModel.metadata.create_all(engine, tables=[CounterRow.__table__])  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def test_a_yearly_number_counts_per_counter_and_year(engine: Engine) -> None:
    with transaction(engine) as session:
        numbers = [yearly_number(session, "BP", "tracking", 2569, digits=7) for _ in range(2)]
        numbers.append(yearly_number(session, "BP", "tracking", 2570, digits=7))
        numbers.append(yearly_number(session, "DBD", "licence:DBD", 2569, digits=6))
    assert numbers == ["BP-2569-0000001", "BP-2569-0000002", "BP-2570-0000001", "DBD-2569-000001"]


def test_the_buddhist_year_of_a_moment_is_that_of_its_day_in_bangkok() -> None:
    assert buddhist_year(date(2026, 12, 31)) == 2569
    assert buddhist_year(datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == 2569
    assert buddhist_year(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == 2570  # midnight in Bangkok
    with pytest.raises(ValueError):
        buddhist_year(datetime(2026, 12, 31, 17, 0))


def test_claim_due_returns_the_rows_of_the_query_on_sqlite(engine: Engine) -> None:
    with transaction(engine) as session:
        yearly_number(session, "BP", "tracking", 2569, digits=7)
        assert [row.name for row in claim_due(session, select(CounterRow))] == ["tracking:2569"]
