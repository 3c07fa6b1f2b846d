"""Keyset paging (engine/paging.py) on both databases: paging with any limit visits every row once in the list's
order, nulls last and ties broken by the unique key, also when rows are added between pages; a cursor that is
not the list's is an InvalidInput."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bizportal.engine.errors import InvalidInput
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page, page_in_memory
from bizportal.storage.columns import UTCDateTime
from bizportal.storage.database import make_engine

metadata = sa.MetaData()
item = sa.Table("paging_item", metadata, sa.Column("id", sa.String(10), primary_key=True),
                sa.Column("late", sa.Boolean, nullable=False), sa.Column("due", UTCDateTime, nullable=True),
                sa.Column("n", sa.Integer, nullable=False))
ORDER = Keyset("items", (SortKey(item.c.late, bool, descending=True), SortKey(item.c.due, datetime, nullable=True),
                         SortKey(item.c.n, int, descending=True), SortKey(item.c.id, str)))
START = datetime(2026, 12, 1, tzinfo=UTC)


def _expected(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in sorted(rows, key=lambda r: (not r["late"], r["due"] is None, r["due"] or START,
                                                         -r["n"], r["id"]))]


def _row(rng: random.Random, number: int) -> dict[str, Any]:
    # Few distinct values, so that every key decides some ties.
    return {"id": f"r{number:04d}", "late": rng.random() < 0.3, "n": rng.randint(0, 2),
            "due": None if rng.random() < 0.25 else START + timedelta(days=rng.randint(0, 3))}


def _walk(session: Session, limit: int, between: Any = None) -> list[str]:
    seen: list[str] = []
    cursor: list[Any] | None = None
    while True:
        page: Page[Any] = fetch_page(session, sa.select(item), ORDER, limit, cursor)
        seen += [row.id for row in page.items]
        if page.next is None:
            return seen
        if between:
            between()
        cursor = page.next


@pytest.fixture
def db(database_url: str) -> Any:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_every_row_once_in_order_for_any_limit(db: Any) -> None:
    rng = random.Random(14)
    rows = [_row(rng, number) for number in range(60)]
    with Session(db) as session:
        session.execute(item.insert(), rows)
        session.commit()
        for limit in (1, 2, 7, 60, 100):
            assert _walk(session, limit) == _expected(rows), limit


def test_rows_added_between_pages_neither_skip_nor_repeat_the_others(db: Any) -> None:
    rng = random.Random(7)
    rows = [_row(rng, number) for number in range(40)]
    added: list[dict[str, Any]] = []
    with Session(db) as session:
        session.execute(item.insert(), rows)
        session.commit()

        def insert() -> None:
            new = _row(rng, 1000 + len(added))
            added.append(new)
            session.execute(item.insert(), [new])
            session.commit()

        seen = _walk(session, 3, insert)
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(r["id"] for r in rows) <= set(seen)  # nothing that was there is skipped
    assert seen == [i for i in _expected(rows + added) if i in seen]  # and all in the list's order


def test_a_cursor_must_be_this_lists(db: Any) -> None:
    with Session(db) as session:
        for bad in (["other", True, None, 1, "x"], ["items", True], ["items", "yes", None, 1, "x"],
                    ["items", True, "not a time", 1, "x"], ["items", True, "2026-12-01T00:00:00", 1, "x"],
                    ["items", True, None, 2**70, "x"], ["items", True, None, 1, None], ["items", None, None, 1, "x"]):
            with pytest.raises(InvalidInput) as raised:
                fetch_page(session, sa.select(item), ORDER, 5, bad)
            assert raised.value.details == {"field": "cursor"}
        with pytest.raises(InvalidInput, match="not both"):
            fetch_page(session, sa.select(item), ORDER, 5, ["items", True, None, 1, "x"], offset=3)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_lists_in_memory_page_the_same_way(database_url: str) -> None:
    keyset = Keyset("codes", (SortKey(sa.column("position"), int), SortKey(sa.column("code"), str)))
    codes = [f"c{n}" for n in range(11)]
    seen, position = [], None
    while True:
        page = page_in_memory(list(enumerate(codes)), keyset, lambda pair: pair, position, 4)
        seen += [code for _, code in page.items]
        if page.next is None:
            break
        position = keyset.position(page.next)
    assert seen == codes
