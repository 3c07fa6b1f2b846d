"""The migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bizportal.storage.database import make_engine
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.tables import metadata


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # idempotent: safe on every start
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == [], "run alembic autogenerate: the tables changed without a migration"
