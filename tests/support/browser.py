"""The browser harness of the page tests: the service on a real uvicorn server, headless Debian chromium driven by
Playwright (`playwright install` cannot download browsers here: `executable_path` points at /usr/bin/chromium),
the axe-core accessibility check, and screenshots as artefacts.

- `serve(make_app)`: the app `make_app(base_url)` builds, on `base_url` = http://127.0.0.1:<free port>: its public
  base URL must be its own address, so the session cookie's CSRF rule accepts the browser's own forms.
- `launch(playwright)`: chromium, headless.
- `new_page(browser, width=..., javascript=...)`: a page in a fresh context at `PHONE` or `DESK` size;
  `bypass_csp` lets the harness inject axe-core into pages whose Content-Security-Policy forbids inline scripts.
- `assert_accessible(page)`: runs axe-core (WCAG 2.0/2.1 A and AA rules, and best practices) and fails with a
  readable list on any `serious` or `critical` violation.
- `screenshot(page, name)`: the full page as `var/screenshots/<name>.png` (git-ignored), for people to look at.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}
BLOCKING = ("serious", "critical")


def chromium_path() -> str | None:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    return shutil.which("chromium")


@contextmanager
def serve(make_app: Callable[[str], FastAPI], name: str = "pages") -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(make_app(base), log_level="warning", lifespan="off", access_log=False,
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert server.started, f"the service did not start on {base}"
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def launch(playwright: Playwright) -> Browser:
    path = chromium_path()
    assert path is not None, "Debian's chromium is not installed: run .ci/ensure-services"
    return playwright.chromium.launch(executable_path=path, args=ARGS)


def new_page(browser: Browser, viewport: dict[str, int] | None = None, javascript: bool = True,
             locale: str = "th-TH") -> Page:
    context = browser.new_context(viewport=viewport or DESK, java_script_enabled=javascript, bypass_csp=True,  # type: ignore[arg-type]
                                  locale=locale, device_scale_factor=1)
    return context.new_page()


def assert_accessible(page: Page) -> list[dict[str, Any]]:
    """axe-core on the page as it is now; returns the minor violations (moderate and below) for the record."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate(
        "axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
    violations: list[dict[str, Any]] = results["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, f"{page.url}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}): " + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in blocking)
    return [v for v in violations if v.get("impact") not in BLOCKING]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_overflow(page: Page) -> bool:
    """The page is no wider than the viewport (tables scroll or stack inside their containers)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
