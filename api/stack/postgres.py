"""A PostgreSQL cluster of its own, as a child process: one that a fault test may restart or crash.

The machine's own server (127.0.0.1:5432) serves every other test at the same time, so it is never restarted;
this cluster lives in a folder of its own (`initdb`), listens on a free port of 127.0.0.1 only, trusts local
connections (it is reachable from this machine alone) and is stopped and removed with its folder.
PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user, which owns the folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bizportal.api.stack.ports import free_port

_WAIT_S = 60


def postgres_bin() -> Path:
    """The folder of initdb, pg_ctl and createdb: Debian keeps them under /usr/lib/postgresql/<version>/bin, off
    PATH; elsewhere they are on PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    if found is None:
        raise FileNotFoundError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    return Path(found).parent


@dataclass
class PrivatePostgres:
    """A cluster in `folder` on `port`, with the database `database` (postgres user, trust)."""

    folder: Path
    port: int
    database: str = "bizportal"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def _data(self) -> Path:
        return self.folder / "data"

    @property
    def _log(self) -> Path:  # given to every start: a server started without it would hold pg_ctl's output pipe
        return self.folder / "postgres.log"

    def create(self) -> None:
        """initdb, start, and create the database."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._own(self.folder)
        self._run("initdb", "-D", str(self._data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self._data), "-l", str(self._log), "-o", options,
                  "-w", "-t", str(_WAIT_S), "start")

    def restart(self) -> None:
        """A clean restart (`pg_ctl restart -m fast`, what `pg_ctlcluster ... restart` does): sessions are cut."""
        self._run("pg_ctl", "-D", str(self._data), "-l", str(self._log), "-m", "fast", "-w", "-t", str(_WAIT_S),
                  "restart")

    def crash(self) -> None:
        """Stop at once, without a checkpoint (`-m immediate`): the next start recovers from the WAL."""
        self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if (self._data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "-t", str(_WAIT_S), "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(postgres_bin() / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    @staticmethod
    def _own(folder: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)


def new_postgres() -> PrivatePostgres:
    """A cluster on a free port, in a temporary folder of its own (not created yet: call `create()`; `remove()`
    deletes it). Not under the caller's folder: as root, the `postgres` user must reach it, and a private
    temporary folder above it would stop that user."""
    return PrivatePostgres(folder=Path(tempfile.mkdtemp(prefix="bizportal-postgres-")), port=free_port())
