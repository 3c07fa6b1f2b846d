"""`usually`: the condition itself on every database, told to SQLite's planner as likely; SQLite then reads the
index of the other conditions, where its statistics made "IS NULL" look as narrow as any one value."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bizportal.storage.database import make_engine
from bizportal.storage.likelihood import usually

metadata = sa.MetaData()
task = sa.Table("likely_task", metadata, sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("office", sa.String(10), nullable=False), sa.Column("assignee", sa.String(10)),
                sa.Index("ix_likely_office", "office", "id"), sa.Index("ix_likely_assignee", "assignee", "id"))


@pytest.fixture
def db(database_url: str) -> Any:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        # 20 offices; a third of the tasks claimed, each by someone else: the statistics' average per assignee
        # value is a few rows, though NULL is two thirds of them.
        connection.execute(task.insert(), [{"id": n, "office": f"O{n % 20}", "assignee": f"a{n}" if n % 3 == 0
                                            else None} for n in range(6000)])
        connection.execute(sa.text("ANALYZE"))
    yield engine
    engine.dispose()


def test_the_same_rows_with_the_hint_or_without(db: sa.Engine) -> None:
    unclaimed = task.c.assignee.is_(None)
    with db.connect() as connection:
        plain = connection.execute(sa.select(task.c.id).where(task.c.office == "O3", unclaimed).order_by(task.c.id))
        hinted = connection.execute(sa.select(task.c.id).where(task.c.office == "O3", usually(unclaimed))
                                    .order_by(task.c.id))
        assert list(plain.scalars()) == list(hinted.scalars()) != []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_reads_the_other_condition_s_index(db: sa.Engine) -> None:
    def plan(condition: Any) -> str:
        query = sa.select(task.c.id).where(task.c.office == "O3", condition)
        compiled = query.compile(db, compile_kwargs={"literal_binds": True})
        with db.connect() as connection:
            return " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))

    assert "ix_likely_assignee" in plan(task.c.assignee.is_(None))  # the statistics' mistake, shown
    assert "ix_likely_office" in plan(usually(task.c.assignee.is_(None)))


def test_the_hint_is_sqlite_s_only() -> None:
    condition = usually(task.c.assignee.is_(None), 0.95)
    assert str(condition.compile(dialect=sqlite.dialect())) == (
        "likelihood(likely_task.assignee IS NULL, 0.95)")
    assert str(condition.compile(dialect=postgresql.dialect())) == "(likely_task.assignee IS NULL)"
    with pytest.raises(ValueError, match="between 0 and 1"):
        usually(task.c.assignee.is_(None), 1.5)
