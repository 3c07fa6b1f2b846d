"""The data dir the engine creates is private, and so is the SQLite database in it (it holds citizen IDs)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings


def test_the_data_dir_and_the_database_are_private(tmp_path: Path, clock: object) -> None:
    previous = os.umask(0o022)  # the usual umask: new files 0644, folders 0755 unless created private
    try:
        data_dir = tmp_path / "var"
        engine = engine_from(Settings(data_dir=data_dir, public_base_url="https://bizportal.test"),
                             clock=clock)  # type: ignore[arg-type]
        # While connections are open (SQLite removes -wal and -shm when the last one closes).
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data_dir.glob("bizportal.db*")}
        engine.db.dispose()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert modes == {"bizportal.db": 0o600, "bizportal.db-wal": 0o600, "bizportal.db-shm": 0o600}
