"""SQLite units of work: reads do not take the write lock; the database file is private."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from bizportal.api.deps import query
from bizportal.storage.database import make_engine, read_session, transaction


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    # A short busy timeout: a unit of work that waits for a lock fails in 0.2 s instead of hanging.
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}", busy_timeout=0.2)
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE note (body TEXT)"))
        session.execute(text("INSERT INTO note VALUES ('first')"))
    yield engine
    engine.dispose()


def _notes(session: object) -> list[str]:
    return list(session.execute(text("SELECT body FROM note ORDER BY rowid")).scalars())  # type: ignore[attr-defined]


def test_an_open_read_holds_up_neither_reads_nor_a_write(sqlite: Engine) -> None:
    with read_session(sqlite) as reading:
        assert _notes(reading) == ["first"]  # its snapshot is open now
        with read_session(sqlite) as other:
            assert _notes(other) == ["first"]
        with transaction(sqlite) as writing:
            writing.execute(text("INSERT INTO note VALUES ('second')"))
        assert _notes(reading) == ["first"]  # a read sees one consistent snapshot
    with read_session(sqlite) as later:
        assert _notes(later) == ["first", "second"]


def test_the_api_query_is_such_a_read(sqlite: Engine) -> None:
    engine = SimpleNamespace(db=sqlite)
    with query(engine) as reading:  # type: ignore[arg-type]
        assert _notes(reading) == ["first"]
        with query(engine) as other, transaction(sqlite) as writing:  # type: ignore[arg-type]
            assert _notes(other) == ["first"]
            writing.execute(text("INSERT INTO note VALUES ('second')"))


def test_commands_still_take_the_write_lock_when_they_begin(sqlite: Engine) -> None:
    with transaction(sqlite) as first:
        assert _notes(first) == ["first"]
        with pytest.raises(OperationalError, match="database is locked"), transaction(sqlite) as second:
            _notes(second)


def test_a_read_cannot_write_and_leaves_its_connection_writable(sqlite: Engine) -> None:
    with pytest.raises(OperationalError, match="readonly"), read_session(sqlite) as reading:
        reading.execute(text("INSERT INTO note VALUES ('sneaked')"))
    for body in ("second", "third"):  # the pooled connection the read used serves commands again
        with transaction(sqlite) as writing:
            writing.execute(text(f"INSERT INTO note VALUES ('{body}')"))
        with read_session(sqlite) as reading:
            assert _notes(reading)[-1] == body


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_files_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "var" / "bizportal.db"
        engine = make_engine(f"sqlite:///{path}")
        with transaction(engine) as session:
            session.execute(text("CREATE TABLE note (body TEXT)"))
        files = {p.name: _mode(p) for p in path.parent.iterdir()}
        engine.dispose()
    finally:
        os.umask(previous)
    assert _mode(path.parent) == 0o700
    assert files == {"bizportal.db": 0o600, "bizportal.db-wal": 0o600, "bizportal.db-shm": 0o600}


def test_the_pool_keeps_the_connections_it_is_sized_for_and_an_in_memory_database_keeps_its_own_pool(
        tmp_path: Path) -> None:
    sized = make_engine(f"sqlite:///{tmp_path / 'pooled.db'}", pool_size=12)
    assert isinstance(sized.pool, QueuePool) and sized.pool.size() == 12 and sized.pool._max_overflow == 12
    for url in ("sqlite://", "sqlite:///:memory:"):  # SQLAlchemy's pool for these takes no sizes
        assert not isinstance(make_engine(url, pool_size=12).pool, QueuePool)
