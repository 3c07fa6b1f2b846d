"""Staff sign in through their organisation's provider (issue 11 s.2, last bullet), against a real provider process
(oidc-provider-mock): their role, agency and office are the staff register's, whatever the token claims, and are
read again on every request, so a deactivated member loses access at once, by bearer token and by cookie alike.

Both providers are the same process here, with two client ids: the audience tells a staff token from a citizen's.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.sessions import SESSION_COOKIE
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import StartupError
from support.helpers import Auth
from support.oidc_provider import CARL, MALLORY, OLIVIA, SOMCHAI, OidcProviderProcess, start_provider

CLIENT_ID = "bizportal-test"
STAFF_CLIENT_ID = "bizportal-staff-test"
BASE = "https://bizportal.test"
HINT = "ask an administrator to add you to the staff register"


@pytest.fixture
def staff_settings(settings: Settings, oidc_provider: OidcProviderProcess) -> Settings:
    return settings.model_copy(update={
        "oidc_issuer": oidc_provider.issuer, "oidc_client_id": CLIENT_ID,
        "staff_oidc_issuer": oidc_provider.issuer, "staff_oidc_client_id": STAFF_CLIENT_ID,
        "staff_oidc_client_secret": SecretStr("staff-secret")})


@pytest.fixture
def app_client(staff_settings: Settings, engine: LicensingEngine) -> Iterator[TestClient]:
    with TestClient(create_app(staff_settings, engine=engine), base_url=BASE) as client:
        yield client


@pytest.fixture
def admin(auth: Auth) -> dict[str, str]:
    return auth("admin", "root")


@pytest.fixture
def browser(app_client: TestClient) -> Iterator[httpx.Client]:
    """A cookie-keeping client that reaches our app at BASE (in-process) and the provider over HTTP."""
    with httpx.Client(mounts={BASE: app_client._transport}, follow_redirects=True, timeout=10) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _register(client: TestClient, admin: dict[str, str], issuer: str, sub: str, role: str,
              agency: str | None = None, office: str | None = None) -> str:
    answer = client.post("/api/v1/staff", headers=admin, json={"issuer": issuer, "subject": sub, "role": role,
                                                               "agency": agency, "office": office})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _staff_sign_in(browser: httpx.Client, sub: str, next_path: str = "/api/v1/me") -> httpx.Response:
    form = browser.get(f"{BASE}/auth/staff/login", params={"next": next_path})
    assert form.status_code == 200 and 'name="sub"' in form.text, form.text  # the provider's sign-in page
    return browser.post(str(form.url), data={"sub": sub})


# -- bearer tokens ----------------------------------------------------------------------------------------------


def test_a_registered_officer_gets_the_registers_role_agency_and_office(
        app_client: TestClient, oidc_provider: OidcProviderProcess, admin: dict[str, str]) -> None:
    _register(app_client, admin, oidc_provider.issuer, OLIVIA.sub, "agency_officer", "LAO", "BKK-KHLONG-TOEI")
    me = app_client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token(STAFF_CLIENT_ID, OLIVIA.sub)))
    assert me.status_code == 200, me.text
    assert me.json() == {"role": "agency_officer", "name": "Olivia Srisuk", "id_number": None, "ial": None,
                         "aal": None, "agency": "LAO", "office": "BKK-KHLONG-TOEI"}


def test_the_tokens_own_claims_never_give_a_role(app_client: TestClient, oidc_provider: OidcProviderProcess,
                                                admin: dict[str, str]) -> None:
    token = oidc_provider.id_token(STAFF_CLIENT_ID, str(MALLORY["sub"]))
    # The token says admin of EXCISE at Bang Rak; the register says nothing yet: refused.
    refused = app_client.get("/api/v1/me", headers=_bearer(token))
    assert refused.status_code == 403 and HINT in refused.json()["error"]["hint"]
    _register(app_client, admin, oidc_provider.issuer, str(MALLORY["sub"]), "counter_officer")
    me = app_client.get("/api/v1/me", headers=_bearer(token)).json()
    assert (me["role"], me["agency"], me["office"]) == ("counter_officer", None, None)
    assert app_client.get("/api/v1/staff", headers=_bearer(token)).status_code == 403  # not an admin


def test_an_unregistered_staff_sign_in_is_403_saying_whom_to_ask(app_client: TestClient,
                                                                 oidc_provider: OidcProviderProcess) -> None:
    answer = app_client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token(STAFF_CLIENT_ID, CARL.sub)))
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert "not in the staff register" in error["message"] and HINT in error["hint"]


def test_a_citizen_providers_token_never_becomes_staff(app_client: TestClient, oidc_provider: OidcProviderProcess,
                                                       admin: dict[str, str]) -> None:
    # Even when the same `sub` is an administrator in the register: the citizens' client id makes an applicant.
    _register(app_client, admin, oidc_provider.issuer, SOMCHAI["sub"], "admin")
    citizen = _bearer(oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"]))
    assert app_client.get("/api/v1/me", headers=citizen).json()["role"] == "applicant"
    assert app_client.get("/api/v1/staff", headers=citizen).status_code == 403
    staff = _bearer(oidc_provider.id_token(STAFF_CLIENT_ID, SOMCHAI["sub"]))
    assert app_client.get("/api/v1/me", headers=staff).json()["role"] == "admin"


def test_a_token_for_neither_client_is_refused(app_client: TestClient, oidc_provider: OidcProviderProcess) -> None:
    answer = app_client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token("someone-else", OLIVIA.sub)))
    assert answer.status_code == 401 and "audience ['someone-else']" in answer.json()["error"]["message"]


def test_a_deactivated_member_loses_access_on_the_next_request(app_client: TestClient,
                                                               oidc_provider: OidcProviderProcess,
                                                               admin: dict[str, str]) -> None:
    member = _register(app_client, admin, oidc_provider.issuer, OLIVIA.sub, "agency_officer", "LAO")
    olivia = _bearer(oidc_provider.id_token(STAFF_CLIENT_ID, OLIVIA.sub))
    assert app_client.get("/api/v1/tasks", headers=olivia).status_code == 200
    assert app_client.patch(f"/api/v1/staff/{member}", headers=admin, json={"active": False}).status_code == 200
    refused = app_client.get("/api/v1/tasks", headers=olivia)  # the same, still unexpired token
    assert refused.status_code == 403 and "deactivated" in refused.json()["error"]["message"]


def test_a_staff_provider_of_its_own_is_told_apart_by_the_issuer(
        settings: Settings, engine: LicensingEngine, oidc_provider: OidcProviderProcess, admin: dict[str, str]) -> None:
    other = start_provider()
    try:
        separate = settings.model_copy(update={
            "oidc_issuer": oidc_provider.issuer, "oidc_client_id": CLIENT_ID,
            "staff_oidc_issuer": other.issuer, "staff_oidc_client_id": STAFF_CLIENT_ID})
        with TestClient(create_app(separate, engine=engine), base_url=BASE) as client:
            _register(client, admin, other.issuer, CARL.sub, "counter_officer", office="BKK-KHLONG-TOEI")
            me = client.get("/api/v1/me", headers=_bearer(other.id_token(STAFF_CLIENT_ID, CARL.sub))).json()
            assert (me["role"], me["office"]) == ("counter_officer", "BKK-KHLONG-TOEI")
            # Registered at the other issuer only: the same `sub` signed in by the citizens' provider is a citizen.
            citizen = client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token(CLIENT_ID, CARL.sub))).json()
            assert citizen["role"] == "applicant"
            wrong = client.get("/api/v1/me", headers=_bearer(other.id_token(CLIENT_ID, CARL.sub)))
            assert wrong.status_code == 401 and STAFF_CLIENT_ID in wrong.json()["error"]["message"]
    finally:
        other.stop()


def test_the_staff_provider_cannot_be_the_citizens_client(settings: Settings, engine: LicensingEngine) -> None:
    same = settings.model_copy(update={"oidc_issuer": "https://id.example", "oidc_client_id": "one",
                                       "staff_oidc_issuer": "https://id.example", "staff_oidc_client_id": "one"})
    with pytest.raises(StartupError, match="citizens' issuer and client id"):
        create_app(same, engine=engine)
    with pytest.raises(StartupError, match="BIZPORTAL_STAFF_OIDC_CLIENT_ID"):
        create_app(settings.model_copy(update={"staff_oidc_issuer": "https://id.example"}), engine=engine)


# -- the browser ----------------------------------------------------------------------------------------------------


def test_a_registered_officer_signs_in_in_the_browser_and_the_cookie_follows_the_register(
        browser: httpx.Client, app_client: TestClient, oidc_provider: OidcProviderProcess,
        admin: dict[str, str]) -> None:
    member = _register(app_client, admin, oidc_provider.issuer, OLIVIA.sub, "agency_officer", "LAO",
                       "BKK-KHLONG-TOEI")
    login = browser.get(f"{BASE}/auth/staff/login", follow_redirects=False)
    assert login.status_code == 302 and f"client_id={STAFF_CLIENT_ID}" in login.headers["location"]
    assert "redirect_uri=https%3A%2F%2Fbizportal.test%2Fauth%2Fstaff%2Fcallback" in login.headers["location"]
    me = _staff_sign_in(browser, OLIVIA.sub)
    assert me.status_code == 200, me.text
    assert (me.json()["role"], me.json()["agency"], me.json()["office"]) == ("agency_officer", "LAO",
                                                                             "BKK-KHLONG-TOEI")
    # The cookie holds who signed in, not the role: a change in the register shows on the next request.
    changed = app_client.patch(f"/api/v1/staff/{member}", headers=admin,
                               json={"role": "agency_supervisor", "office": None})
    assert changed.status_code == 200, changed.text
    me = browser.get(f"{BASE}/api/v1/me").json()
    assert (me["role"], me["agency"], me["office"]) == ("agency_supervisor", "LAO", None)
    app_client.patch(f"/api/v1/staff/{member}", headers=admin, json={"active": False})
    refused = browser.get(f"{BASE}/api/v1/me")
    assert refused.status_code == 403 and "deactivated" in refused.json()["error"]["message"]


def test_an_unregistered_person_gets_403_at_the_callback_and_no_session(browser: httpx.Client) -> None:
    answer = _staff_sign_in(browser, CARL.sub)
    assert answer.status_code == 403 and HINT in answer.json()["error"]["hint"]
    assert SESSION_COOKIE not in browser.cookies


def test_a_citizen_sign_in_cannot_be_finished_at_the_staff_callback(browser: httpx.Client) -> None:
    login = browser.get(f"{BASE}/auth/login", follow_redirects=False)
    state = httpx.URL(login.headers["location"]).params["state"]
    answer = browser.get(f"{BASE}/auth/staff/callback", params={"state": state, "code": "x"})
    assert answer.status_code == 401 and "/auth/staff/login" in answer.json()["error"]["hint"]


def test_staff_sign_in_without_a_staff_provider_is_404(client: TestClient) -> None:
    answer = client.get("/auth/staff/login", follow_redirects=False)
    assert answer.status_code == 404 and "BIZPORTAL_STAFF_OIDC_ISSUER" in answer.json()["error"]["hint"]
