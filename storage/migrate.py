"""Apply the Alembic migrations programmatically (used by `bizportal migrate` and start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x62697A706F7274  # "bizport": the advisory lock key the upgrade holds on PostgreSQL


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs carry percent-escapes (e.g. search_path options).
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run on every start."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes starting together (API processes, workers) would each upgrade: the first takes this lock
            # and upgrades, the others wait for it and then find the schema at head. SQLite's write lock does this.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def known_revision(revision: str) -> bool:
    """Whether `revision` is one of this version's migrations (a database from a newer version is not)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False
