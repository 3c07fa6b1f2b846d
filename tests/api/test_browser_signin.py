"""The browser sign-in in a real browser: headless Debian chromium driven by Playwright, against the service on
a real uvicorn server and the OpenID provider process (issue 11 s.4).

`playwright install` cannot download browsers here: the test uses the system's chromium (`.ci/ensure-services`
installs it).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.dev_provider import free_port
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import SYSTEM
from bizportal.engine.staff import register
from bizportal.engine.staff.register import StaffInput, StaffRole
from bizportal.storage.database import transaction
from support.oidc_provider import OLIVIA, SOMCHAI, OidcProviderProcess

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists() and shutil.which("chromium") is None,
                       reason="Debian's chromium is not installed: run .ci/ensure-services"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def served(settings: Settings, engine: LicensingEngine, oidc_provider: OidcProviderProcess) -> Iterator[str]:
    """The service on a real server whose public base URL is its own address (plain http on 127.0.0.1)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={
        "public_base_url": base, "oidc_issuer": oidc_provider.issuer, "oidc_client_id": "bizportal-browser",
        "oidc_client_secret": SecretStr("browser-secret"), "staff_oidc_issuer": oidc_provider.issuer,
        "staff_oidc_client_id": "bizportal-browser-staff",
        "staff_oidc_client_secret": SecretStr("browser-staff-secret")}), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True, name=f"browser-signin-{port}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, f"the service did not start on {base}"
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_person_signs_in_in_chromium_and_the_session_calls_the_api(served: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists() else
                                                                 shutil.which("chromium")), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{served}/auth/login?next=/api/v1/me")
            assert "oauth2/authorize" in page.url  # the provider's sign-in page
            page.click(f"button[name=sub][value={SOMCHAI['sub']}]")  # one of its sample people
            page.wait_for_url(f"{served}/api/v1/me")
            assert '"name":"Somchai Jaidee"' in page.content()
            assert '"id_number":"1-1017-xxxxx-xx-0"' in page.content() and '"ial":"2.3"' in page.content()

            cookie = next(c for c in page.context.cookies() if c["name"] == "bizportal_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # http localhost
            assert page.evaluate("document.cookie") == ""  # not readable by scripts

            # A script on our page: the browser adds our Origin, so the unsafe request passes the CSRF rule.
            status = page.evaluate("fetch('/auth/logout', {method: 'POST'}).then(r => r.status)")
            assert status == 204
            assert page.goto(f"{served}/api/v1/me").status == 401  # type: ignore[union-attr]
        finally:
            browser.close()


def _chromium() -> str:
    return str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))


def test_a_registered_officer_signs_in_as_staff_in_chromium(served: str, engine: LicensingEngine,
                                                            oidc_provider: OidcProviderProcess) -> None:
    with transaction(engine.db) as session:
        register.add(engine.ctx, session, SYSTEM, StaffInput(issuer=oidc_provider.issuer, subject=OLIVIA.sub,
                                                             role=StaffRole.AGENCY_OFFICER, agency="LAO",
                                                             office="BKK-KHLONG-TOEI"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{served}/auth/staff/login?next=/api/v1/me")
            assert "oauth2/authorize" in page.url and "bizportal-browser-staff" in page.url
            page.click(f"button[name=sub][value={OLIVIA.sub}]")
            page.wait_for_url(f"{served}/api/v1/me")
            content = page.content()
            assert '"role":"agency_officer"' in content and '"agency":"LAO"' in content
            assert '"office":"BKK-KHLONG-TOEI"' in content and '"name":"Olivia Srisuk"' in content
            assert page.goto(f"{served}/api/v1/tasks").status == 200  # type: ignore[union-attr]
        finally:
            browser.close()
