"""`starts_with` finds exactly the rows that start with a prefix, on SQLite and PostgreSQL, from an index."""

from __future__ import annotations

import sqlalchemy as sa

from bizportal.storage.database import make_engine
from bizportal.storage.prefix import starts_with

VALUES = ["BP-2569-0000120", "BP-2569-0000129", "BP-2569-0000130", "BP-2569-000012", "bp-2569-0000125",
          "AB%C1", "ABXC2", "AB_C3", "ABXC_", "A/B", "A\U0010ffffZ", "A\U0010ffff", "a\U0010ffffZ", "\ud7ffX", "\ue000"]


def test_starts_with_is_exactly_the_prefix(database_url: str) -> None:
    db = make_engine(database_url)
    table = sa.Table("prefixed", sa.MetaData(), sa.Column("value", sa.String(40), primary_key=True))
    table.create(db)
    try:
        with db.begin() as connection:
            connection.execute(sa.insert(table), [{"value": value} for value in VALUES])
            for prefix in ("BP-2569-000012", "BP-2569-0000129", "AB%", "AB_", "A/", "A\U0010ffff", "\ud7ff", "", "ZZ"):
                found = connection.execute(sa.select(table.c.value).where(starts_with(table.c.value, prefix)))
                assert sorted(found.scalars()) == sorted(v for v in VALUES if v.startswith(prefix)), prefix
                others = connection.execute(sa.select(table.c.value).where(
                    sa.not_(starts_with(table.c.value, prefix)), table.c.value != "ZZ"))
                assert sorted(others.scalars()) == sorted(v for v in VALUES if not v.startswith(prefix)), prefix
    finally:
        table.drop(db)
        db.dispose()


def test_starts_with_reads_a_range_of_the_index_on_sqlite(tmp_path: object) -> None:
    db = make_engine(f"sqlite:///{tmp_path}/prefix.db")
    table = sa.Table("prefixed", sa.MetaData(), sa.Column("value", sa.String(40), unique=True))
    table.create(db)
    query = str(sa.select(table.c.value).where(starts_with(table.c.value, "BP-25")).compile(db))
    with db.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}", ("BP-25", "BP-26")).all()
    db.dispose()
    assert "USING COVERING INDEX" in str(plan) and "value>?ANDvalue<?" in str(plan).replace(" ", ""), plan
