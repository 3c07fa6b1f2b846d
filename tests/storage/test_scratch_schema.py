"""A PostgreSQL schema of one's own: what is made through its URL lands in it, and it is gone afterwards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bizportal.storage.database import make_engine
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.scratch_schema import scratch_schema, with_search_path

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"  # the tests' database (tests/conftest.py)


def _schemas(url: str, like: str) -> set[str]:
    admin = make_engine(url)
    try:
        with admin.connect() as connection:
            return set(connection.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :like"),
                                          {"like": like}).scalars())
    finally:
        admin.dispose()


def _tables_in(url: str, schema: str) -> set[str]:
    admin = make_engine(url)
    try:
        with admin.connect() as connection:
            return set(connection.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                                          {"schema": schema}).scalars())
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_the_migrations_land_in_the_schema_which_is_dropped_afterwards() -> None:
    public_before = _tables_in(POSTGRES_URL, "public")
    with scratch_schema(POSTGRES_URL, "t_scratch_") as url:
        schema = url.rsplit("%3D", 1)[1]
        assert schema in _schemas(POSTGRES_URL, "t\\_scratch\\_%")
        db = make_engine(url)
        upgrade_to_head(db)
        db.dispose()
        made = _tables_in(POSTGRES_URL, schema)
        assert {"alembic_version", "workflow_instance", "human_task"} <= made
    assert schema not in _schemas(POSTGRES_URL, "t\\_scratch\\_%")
    assert _tables_in(POSTGRES_URL, "public") == public_before


@pytest.mark.postgres
def test_the_schema_is_dropped_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), scratch_schema(POSTGRES_URL, "t_scratch_") as url:
        schema = url.rsplit("%3D", 1)[1]
        assert schema in _schemas(POSTGRES_URL, "t\\_scratch\\_%")
        raise RuntimeError("the test failed")
    assert schema not in _schemas(POSTGRES_URL, "t\\_scratch\\_%")


def test_a_prefix_that_is_not_a_plain_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="lower-case"), scratch_schema(POSTGRES_URL, 'x"; DROP SCHEMA public; --'):
        pass


def test_the_search_path_joins_the_url_s_own_options() -> None:
    assert with_search_path("postgresql://h/db", "s1") == "postgresql://h/db?options=-csearch_path%3Ds1"
    assert with_search_path("postgresql://h/db?sslmode=disable", "s1") == (
        "postgresql://h/db?sslmode=disable&options=-csearch_path%3Ds1")
