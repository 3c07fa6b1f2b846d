"""`make prod-local` (`bizportal prod-local`): the production shape starts on the machine's PostgreSQL and Redis,
answers on its one port, and Ctrl-C stops every process it started (journeys through the same stack, faults
included: tests/chaos/test_process_faults.py)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bizportal.api.stack.ports import free_port, listening
from bizportal.api.stack.service import bizportal_command
from support import processes
from support.helpers import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def test_prod_local_serves_on_one_port_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    database = f"bizportal_prod_local_{secrets.token_hex(4)}"
    port = free_port()
    log = tmp_path / "prod-local.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [bizportal_command(), "prod-local", "--port", str(port), "--database-url",
             f"postgresql://postgres@127.0.0.1:5432/{database}", "--redis-url", REDIS_URL, "--folder",
             str(tmp_path / "stack")], stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        deadline = time.monotonic() + 240
        while "Ctrl-C stops everything" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.5)
        printed = log.read_text(errors="replace")
        assert f"at http://127.0.0.1:{port}: 2 API processes, 2 workers, SeaweedFS" in printed
        assert "/auth/login" in printed and "somchai" in printed  # how to sign in, as `make run` says
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10, trust_env=False)
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "object_store": "ok"}}
        started = processes.descendants(process.pid)
        # uvicorn's supervisor and its 2 processes, 2 workers, SeaweedFS and the OpenID provider (at least)
        assert len(started) >= 7, started
        assert (tmp_path / "stack" / "keys").is_dir()  # one key set, shared by every process

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=90) == 0, log.read_text(errors="replace")
        assert not listening(port)
        alive = {pid for pid in started if Path(f"/proc/{pid}").exists()
                 and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()}
        assert alive == set(), alive
    finally:
        if process.poll() is None:  # a failed assertion: still stop what it started (its children have sessions
            process.send_signal(signal.SIGINT)  # of their own, which a kill of the launcher would leave running)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
