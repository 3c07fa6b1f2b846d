"""Start a real S3-compatible server (moto in server mode) in a child process for tests.

A separate process (rather than moto's in-process mocks) means the code under test
goes through real sockets, HTTP and request signing, exactly as against MinIO or AWS.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

_STARTUP_TIMEOUT_S = 20.0
_PORT_ATTEMPTS = 3


@dataclass
class S3Server:
    """A running moto S3 server; call :meth:`stop` when done."""

    endpoint: str  # host:port, no scheme (what minio.Minio expects)
    access_key: str
    secret_key: str
    region: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def stop(self) -> None:
        """Terminate the server (idempotent) and remove its log file."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log_path.unlink(missing_ok=True)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_s3_server() -> S3Server:
    """Launch moto's S3 server on a free local port and wait until it answers HTTP.

    Returns:
        The running server.

    Raises:
        RuntimeError: if the server does not come up within ~20 seconds.
    """
    last_error = "no attempt made"
    # free_port() can race with another process grabbing the port, so retry a few times.
    for _ in range(_PORT_ATTEMPTS):
        port = free_port()
        log_fd, log_name = tempfile.mkstemp(prefix="moto-s3-", suffix=".log")
        log_path = Path(log_name)
        with open(log_fd, "wb") as log:
            # Output goes to a file, not a pipe: an unread pipe fills up and blocks the server.
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = S3Server(
            endpoint=f"127.0.0.1:{port}",
            access_key="test-access-key",
            secret_key="test-secret-key",
            region="us-east-1",
            process=process,
            log_path=log_path,
        )
        if _wait_until_up(server):
            return server
        last_error = log_path.read_text(errors="replace")[-2000:]
        server.stop()
    raise RuntimeError(f"moto S3 server did not start; last output:\n{last_error}")


def _wait_until_up(server: S3Server) -> bool:
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False  # exited early, e.g. the port was taken after all
        try:
            # trust_env=False: a developer's HTTP(S)_PROXY must not intercept loopback traffic.
            httpx.get(server.url + "/", timeout=1.0, trust_env=False)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return True  # any HTTP response means the server is accepting requests
    return False
