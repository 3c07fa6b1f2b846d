"""A consistent copy of the database, and putting one back into an empty database.

PostgreSQL: `pg_dump` in its custom format (one consistent snapshot, taken while the service runs) and
`pg_restore` in a single transaction, so a restore that fails half-way leaves the target as empty as it was.
The whole database the URL names is copied (a `search_path` in the URL does not narrow it). SQLite (the embedded
default): the online backup API, which copies a consistent snapshot while others write, and back into the target
in one write transaction.

The password never goes on a command line (other users' `ps` shows it): `pg_dump` and `pg_restore` get it in
their environment.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bizportal.storage.backup_manifest import BackupError, DatabaseCopy, file_sha256
from bizportal.storage.database import make_engine

__all__ = ["database_kind", "dump_database", "is_empty", "restore_database"]

DatabaseKind = Literal["postgresql", "sqlite"]
_FILES: dict[DatabaseKind, Literal["database.pgdump", "database.sqlite"]] = {"postgresql": "database.pgdump",
                                                                              "sqlite": "database.sqlite"}
_STDERR_LINES = 5  # enough of pg_dump's complaint to act on
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


def database_kind(url: str) -> DatabaseKind:
    """Which kind of database `url` names.

    Raises:
        BackupError: neither PostgreSQL nor SQLite.
    """
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return "postgresql"
    if backend == "sqlite":
        return "sqlite"
    raise BackupError(f"cannot back up a {backend} database: only PostgreSQL and SQLite are supported")


def dump_database(url: str, folder: Path) -> DatabaseCopy:
    """Copy the database at `url` into a new file in `folder`.

    Raises:
        BackupError: the database cannot be reached, `pg_dump` is missing or fails.
    """
    kind = database_kind(url)
    target = folder / _FILES[kind]
    revision = _revision(url)  # also proves the database answers, before a program is started
    if kind == "postgresql":
        _run(_program("pg_dump"), ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], url)
    else:
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"the SQLite database {source} does not exist")
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
    return DatabaseCopy(kind=kind, file=target.name, size=target.stat().st_size, sha256=file_sha256(target),
                        alembic_revision=revision)


def is_empty(url: str) -> bool:
    """Whether the database at `url` holds no table (nor view or sequence) of its own: a restore's target.

    Raises:
        BackupError: the database cannot be reached.
    """
    if database_kind(url) == "sqlite" and not _sqlite_path(url).exists():
        return True
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                count = connection.execute(sa.text("SELECT count(*) FROM sqlite_master "
                                                   "WHERE name NOT LIKE 'sqlite_%'")).scalar_one()
            else:
                count = connection.execute(sa.text(
                    "SELECT count(*) FROM pg_catalog.pg_class c"
                    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN :system"
                    " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
                ).bindparams(sa.bindparam("system", expanding=True)), {"system": list(_SYSTEM_SCHEMAS)}).scalar_one()
    except sa.exc.OperationalError as err:
        raise BackupError(f"the database is unreachable: {_first_line(err.orig or err)}") from err
    finally:
        engine.dispose()
    return int(count) == 0


def restore_database(url: str, folder: Path, copy: DatabaseCopy) -> None:
    """Put the copy described by `copy` (a file in `folder`) into the empty database at `url`, all or nothing.

    The caller has checked that the target is empty and that the file matches its manifest.

    Raises:
        BackupError: the copy is of another kind than the target, `pg_restore` is missing or fails.
    """
    kind = database_kind(url)
    if kind != copy.kind:
        raise BackupError(f"the backup holds a {copy.kind} database; the target is {kind}")
    source = folder / copy.file
    if kind == "postgresql":
        _run(_program("pg_restore"), ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                                      str(source)], url)
        return
    target = _sqlite_path(url)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_engine(url).dispose()  # creates the file private (0600) if it is new, as the service would
    with closing(sqlite3.connect(source)) as backup, closing(sqlite3.connect(target)) as restored:
        backup.backup(restored)  # one write transaction on the target: all pages or none


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.OperationalError as err:
        raise BackupError(f"the database is unreachable: {_first_line(err.orig or err)}") from err
    finally:
        engine.dispose()


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (or not on PATH): install PostgreSQL's client programs "
                          "(Debian: apt-get install postgresql-client), of the server's major version or newer")
    return found


def _run(program: str, arguments: list[str], url: str) -> None:
    """Run `pg_dump` or `pg_restore` against the database at `url`, its password in the environment."""
    parsed = make_url(url)
    conninfo = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                          database=parsed.database, query=parsed.query).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    result = subprocess.run([program, *arguments, f"--dbname={conninfo}"], env=environment, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        said = "\n".join(result.stderr.strip().splitlines()[:_STDERR_LINES]) or f"exit status {result.returncode}"
        raise BackupError(f"{Path(program).name} failed: {said}")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
