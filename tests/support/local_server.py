"""Serve an ASGI app with a real uvicorn server on 127.0.0.1 in a background thread (for tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT_S = 10.0


def serve_in_thread(app: FastAPI, name: str, **options: Any) -> tuple[str, Callable[[], None]]:
    """Start `app` on a free port; returns `(base_url, stop)` (`stop()` is idempotent). `options` are more
    `uvicorn.Config` arguments (they override the defaults here).

    Raises:
        RuntimeError: the server did not start within ~10 seconds.
    """
    # Bind before starting so the port is ours: no race between picking a free port and listening.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config: dict[str, Any] = {"log_level": "warning", "lifespan": "off", "access_log": False,
                              "timeout_graceful_shutdown": 1, **options}
    server = uvicorn.Server(uvicorn.Config(app, **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"{name}-{port}", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        stop()
        raise RuntimeError(f"{name} did not start on {base_url}")
    return base_url, stop
