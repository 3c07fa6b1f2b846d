"""Database engine construction for SQLite (embedded default) and PostgreSQL, and the two kinds of unit of work.

- `transaction` for commands: on SQLite it takes the write lock when it begins (BEGIN IMMEDIATE), so two
  commands never read the same version before either writes.
- `read_session` for queries: on SQLite a plain (deferred) BEGIN on a connection that refuses writes, so a
  query reads a snapshot (WAL) and blocks neither other readers nor the writer.

`claim_due` is how every scanner of due rows (timers, Section 10 notices, renewal reminders) takes its rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine
from sqlmodel.sql.expression import SelectOfScalar

from bizportal.storage import audit_chain

T = TypeVar("T")

_READ_ONLY = "bizportal_read_only"  # execution option set by `read_session`


def make_engine(url: str, busy_timeout: float = 30, pool_size: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend behind `url`.

    `pool_size` connections stay open, and as many again may be opened for a burst (SQLAlchemy's default is 5 and
    10): a process whose threads outnumber its pool opens and closes connections, each a PostgreSQL process. An
    in-memory SQLite database has a pool of its own kind, without sizes, and keeps it.

    SQLite gets WAL (readers never block the single writer), enforced foreign keys and a busy timeout
    (`busy_timeout` seconds), because the embedded default serves HTTP from several threads. Its file is
    created private (0600, and its folder 0700 when created here): it holds citizens' IDs and addresses;
    SQLite gives the -wal and -shm files the database file's mode.
    """
    if pool_size is not None and not _in_memory(url):
        kwargs |= {"pool_size": pool_size, "max_overflow": pool_size}
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN, which would let two writers
            # read the same version before either writes; `_sqlite_begin` says how each one begins.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Pooled connections serve both kinds of unit of work: the pragma is set when the kind changes
            # (the connection remembers what it was last set to; a new one starts writable).
            read_only = bool(conn.get_execution_options().get(_READ_ONLY))
            if conn.connection.info.get(_READ_ONLY, False) != read_only:
                conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
                conn.connection.info[_READ_ONLY] = read_only
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return url.startswith("sqlite") and (not database or database == ":memory:" or "mode=memory" in url)


def _create_private(database: str | None) -> None:
    """Create a SQLite database file readable by its owner only (an existing file keeps its mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


_HELD = "bizportal.held_rows"  # session.info: the rows a unit of work has loaded or written


class _UnitOfWork(Session):
    """A command's session. Its identity map holds every row it loaded until it closes: SQLAlchemy holds clean
    rows only weakly, so a row a use case let go of (a `session.get` in a helper) was read again by the next
    `session.get` of the same key. A unit of work is short; what it read stays small.

    Rows it inserted are not held: one let go of is read back as the database stores it (a date in UTC, say),
    which is what the responses built in the same transaction show."""


@event.listens_for(_UnitOfWork, "loaded_as_persistent")
def _hold(session: Session, instance: object) -> None:
    session.info.setdefault(_HELD, []).append(instance)


# The audit entries a unit of work writes are chained as it commits, under the chain head's lock (audit_chain.py).
event.listen(_UnitOfWork, "pending_to_persistent", audit_chain.track_new_entry)
event.listen(_UnitOfWork, "before_commit", audit_chain.seal)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with _UnitOfWork(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads: it never takes SQLite's write lock, and SQLite refuses a write in it.

    Nothing is committed; the rows read stay usable after it ends.
    """
    with Session(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False) as session:
        yield session


def claim_due(session: Session, query: SelectOfScalar[T]) -> list[T]:
    """The rows of `query`, locked for this transaction; rows another scanner holds are skipped.

    On PostgreSQL `FOR UPDATE SKIP LOCKED`, so concurrent scanners share the due rows instead of waiting on
    each other or doing the same work twice. SQLite needs nothing: a `transaction` holds the one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())
