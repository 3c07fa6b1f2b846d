"""The service's own processes in the production shape: `bizportal serve --processes N` on one port, and arq
workers, each a child process that a launcher or a fault test starts, kills and starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bizportal.api.stack.ports import wait_until

_START_TIMEOUT_S = 120.0  # each API process loads the catalogue and every BPMN definition; two share two cores


def bizportal_command() -> str:
    """The `bizportal` program installed beside this Python."""
    return str(Path(sys.executable).with_name("bizportal"))


@dataclass
class ChildProcess:
    """One program with its environment and log file; `start` again after `kill` or `stop`."""

    name: str
    command: Sequence[str]
    environment: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(list(self.command), env={**os.environ, **self.environment},
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)  # its own group: a kill reaches its children

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running() and self.process is not None else None

    def kill(self) -> None:
        """SIGKILL to the process and its children, as a crash or the OOM killer would."""
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()
        self.process = None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (arq and uvicorn finish what they are doing), then SIGKILL after `timeout` seconds."""
        self._signal(signal.SIGTERM)
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def _signal(self, signal_number: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal_number)
            except ProcessLookupError:
                pass

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return "(no log)"


@dataclass
class ApiServer:
    """`bizportal serve --processes N` on `port`: uvicorn's supervisor and N processes sharing its socket."""

    child: ChildProcess
    port: int
    processes: int
    _log_start: int = field(default=0, repr=False)  # the log's size when this start began (logs are appended to)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log_start = self.child.log_path.stat().st_size if self.child.log_path.exists() else 0
        self.child.start()
        wait_until(self._all_started, _START_TIMEOUT_S, f"the API on {self.url} (log: {self.child.log_path})",
                   step=0.3)

    def _all_started(self) -> bool:
        if not self.child.running():
            raise RuntimeError(f"the API stopped while starting:\n{self.child.log_tail()}")
        try:
            if httpx.get(f"{self.url}/readyz", timeout=2, trust_env=False).status_code != 200:
                return False
        except httpx.TransportError:
            return False
        # Each process logs this (at the default level, info) once its app has started; a ready answer came from
        # one of them.
        with self.child.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().count(b"Application startup complete") >= self.processes


def api_server(environment: dict[str, str], log_folder: Path, port: int, processes: int = 2) -> ApiServer:
    child = ChildProcess("api", [bizportal_command(), "serve", "--port", str(port), "--processes", str(processes)],
                         environment, log_folder / "api.log")
    return ApiServer(child=child, port=port, processes=processes)


def worker(environment: dict[str, str], log_folder: Path, number: int,
           command: Sequence[str] | None = None) -> ChildProcess:
    """Worker `number` (`bizportal worker`, or `command`: a test's worker that dies at a chosen point)."""
    return ChildProcess(f"worker-{number}", list(command or [bizportal_command(), "worker"]), environment,
                        log_folder / f"worker-{number}.log")
