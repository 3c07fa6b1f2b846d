"""Citizens sign in with OpenID Connect (issue 11 s.1), against a real provider process (oidc-provider-mock).

Bearer tokens the provider issues for our client id are accepted; tokens from another issuer, for another
audience, or signed with an algorithm outside the allow-list are 401s that say why; the browser signs in
with the authorization code flow and gets a session cookie whose unsafe requests need our Origin. The person
signed in files only in their own name, and finds what a counter filed for them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet, RSAKey
from pydantic import SecretStr

from bizportal.api.app import create_app
from bizportal.api.oidc import OidcProvider, applicant_principal
from bizportal.api.sessions import SESSION_COOKIE, secure_cookies, session_token
from bizportal.api.settings import DEFAULT_OIDC_CLAIMS, Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.payments.providers import PaymentProviders
from bizportal.engine.principal import Principal, Role
from support.helpers import COUNTER_CONSENT, OFFICE, Auth, Journey, application_body
from support.oidc_provider import MALEE, SOMCHAI, OidcProviderProcess, start_provider
from support.recording_provider import RecordingProvider, notify_succeeded

CLIENT_ID = "bizportal-test"
BASE = "https://bizportal.test"  # the test settings' public base URL


@pytest.fixture
def signin_settings(settings: Settings, oidc_provider: OidcProviderProcess) -> Settings:
    return settings.model_copy(update={"oidc_issuer": oidc_provider.issuer, "oidc_client_id": CLIENT_ID,
                                       "oidc_client_secret": SecretStr("test-client-secret"),
                                       "oidc_claims": dict(DEFAULT_OIDC_CLAIMS)})


@pytest.fixture
def app_client(signin_settings: Settings, engine: LicensingEngine) -> Iterator[TestClient]:
    with TestClient(create_app(signin_settings, engine=engine), base_url=BASE) as client:
        yield client


@pytest.fixture(scope="module")
def other_provider() -> Iterator[OidcProviderProcess]:
    provider = start_provider()
    try:
        yield provider
    finally:
        provider.stop()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _forged(claims: dict[str, object], key: RSAKey, kid: str) -> str:
    now = int(datetime.now(UTC).timestamp())
    body = {"iat": now, "exp": now + 600, **claims}
    return jose_jwt.encode({"alg": "RS256", "kid": kid}, body, key)


# -- bearer tokens ----------------------------------------------------------------------------------------------


def test_an_id_token_of_the_provider_signs_in_and_me_says_who(app_client: TestClient,
                                                              oidc_provider: OidcProviderProcess) -> None:
    token = oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"])
    answer = app_client.get("/api/v1/me", headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"role": "applicant", "name": "Somchai Jaidee", "id_number": "1-1017-xxxxx-xx-0",
                             "ial": "2.3", "aal": "2", "agency": None, "office": None}


def test_the_claims_map_names_the_providers_claims(settings: Settings, engine: LicensingEngine,
                                                   oidc_provider: OidcProviderProcess) -> None:
    custom = settings.model_copy(update={"oidc_issuer": oidc_provider.issuer, "oidc_client_id": CLIENT_ID,
                                         "oidc_claims": Settings(oidc_claims={"id_number": "sub"}).oidc_claims})
    with TestClient(create_app(custom, engine=engine), base_url=BASE) as client:
        me = client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token(CLIENT_ID, MALEE["sub"]))).json()
    assert me["id_number"] is None  # `sub` holds no Thai ID number: it does not stand for one
    assert (me["name"], me["ial"], me["aal"]) == ("Malee Rakthai", "1.1", "1")


def test_a_provider_sign_in_that_states_no_level_counts_as_the_lowest(settings: Settings, engine: LicensingEngine,
                                                                     oidc_provider: OidcProviderProcess) -> None:
    # Only development tokens of our own get the development default: a provider vouches for levels or it doesn't.
    silent = Settings(oidc_claims={"ial": "not_sent_ial", "aal": "not_sent_aal"}).oidc_claims
    custom = settings.model_copy(update={"oidc_issuer": oidc_provider.issuer, "oidc_client_id": CLIENT_ID,
                                         "oidc_claims": silent})
    with TestClient(create_app(custom, engine=engine), base_url=BASE) as client:
        me = client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"]))).json()
    assert (me["ial"], me["aal"]) == ("1.1", "1")


def test_an_id_number_with_dashes_is_read_as_its_13_digits(oidc_provider: OidcProviderProcess) -> None:
    verifier = OidcProvider(oidc_provider.issuer, CLIENT_ID, None, DEFAULT_OIDC_CLAIMS)
    claims = verifier.verify(oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"]))
    assert applicant_principal({**claims, "pid": "1-1017-00203-45-0"}, DEFAULT_OIDC_CLAIMS).id_number == "1101700203450"
    assert applicant_principal({**claims, "pid": "1101700203451"}, DEFAULT_OIDC_CLAIMS).id_number is None  # check digit


def test_development_tokens_still_work_beside_the_provider(app_client: TestClient, auth: Auth) -> None:
    me = app_client.get("/api/v1/me", headers=auth("agency_officer", "olivia", "LAO", "BKK", "Olivia"))
    assert me.status_code == 200
    assert me.json() == {"role": "agency_officer", "name": "Olivia", "id_number": None, "ial": None, "aal": None,
                         "agency": "LAO", "office": "BKK"}


def test_me_without_signing_in_is_401(app_client: TestClient) -> None:
    answer = app_client.get("/api/v1/me")
    assert answer.status_code == 401
    assert "/auth/login" in answer.json()["error"]["hint"]


def test_a_token_of_another_issuer_is_refused_saying_so(app_client: TestClient,
                                                        other_provider: OidcProviderProcess,
                                                        oidc_provider: OidcProviderProcess) -> None:
    answer = app_client.get("/api/v1/me", headers=_bearer(other_provider.id_token(CLIENT_ID, SOMCHAI["sub"])))
    assert answer.status_code == 401
    message = answer.json()["error"]["message"]
    assert f"issued by '{other_provider.issuer}'" in message and oidc_provider.issuer in message


def test_a_token_for_another_audience_is_refused_saying_so(app_client: TestClient,
                                                           oidc_provider: OidcProviderProcess) -> None:
    answer = app_client.get("/api/v1/me", headers=_bearer(oidc_provider.id_token("someone-else", SOMCHAI["sub"])))
    assert answer.status_code == 401
    assert "audience ['someone-else']" in answer.json()["error"]["message"]
    assert CLIENT_ID in answer.json()["error"]["message"]


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_a_symmetric_or_unsigned_token_claiming_the_providers_issuer_is_refused(
        app_client: TestClient, oidc_provider: OidcProviderProcess, algorithm: str) -> None:
    now = datetime.now(UTC)
    claims = {"iss": oidc_provider.issuer, "aud": CLIENT_ID, "sub": "mallory", "pid": SOMCHAI["pid"],
              "iat": now, "exp": now + timedelta(minutes=5)}
    # HS256 keyed with what an attacker knows: the provider's public key material.
    public = httpx.get(f"{oidc_provider.issuer}/jwks").json()["keys"][0]["n"]
    token = jwt.encode(claims, public, algorithm="HS256") if algorithm == "HS256" else \
        jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    answer = app_client.get("/api/v1/me", headers=_bearer(token))
    assert answer.status_code == 401
    assert f"signed with '{algorithm}'" in answer.json()["error"]["message"]


def test_an_expired_or_not_yet_valid_token_is_refused(app_client: TestClient,
                                                      oidc_provider: OidcProviderProcess) -> None:
    # Only the provider can sign: take its token's header and claims, and check the time claims by a verifier
    # whose own key set signs the variants.
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    verifier = OidcProvider(oidc_provider.issuer, CLIENT_ID, None, DEFAULT_OIDC_CLAIMS)
    verifier._keys = KeySet([key])  # as if fetched
    now = int(datetime.now(UTC).timestamp())
    base = {"iss": oidc_provider.issuer, "aud": CLIENT_ID, "sub": "x"}
    with pytest.raises(Exception, match="expired"):
        verifier.verify(_forged({**base, "iat": now - 7200, "exp": now - 3600}, key, "k1"))
    with pytest.raises(Exception, match="not yet valid"):
        verifier.verify(_forged({**base, "nbf": now + 3600, "exp": now + 7200}, key, "k1"))


def test_a_key_missing_from_the_cached_set_fetches_it_once_more(oidc_provider: OidcProviderProcess) -> None:
    verifier = OidcProvider(oidc_provider.issuer, CLIENT_ID, None, DEFAULT_OIDC_CLAIMS, refetch_interval=0)
    stale = RSAKey.generate_key(2048, parameters={"kid": "rotated-away"})
    verifier._keys = KeySet([stale])  # the cache before the provider rotated its keys
    token = oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"])
    assert verifier.verify(token)["pid"] == SOMCHAI["pid"]  # not signed by a cached key: fetched, found
    assert verifier.jwks_fetches == 1
    verifier.verify(token)
    assert verifier.jwks_fetches == 1  # cached now

    # A kid the cached set lacks: fetched once more, then refused, since the provider does not publish it.
    forged = _forged({"iss": oidc_provider.issuer, "aud": CLIENT_ID, "sub": "x"}, stale, "rotated-away")
    with pytest.raises(Exception, match="does not publish"):
        verifier.verify(forged)
    assert verifier.jwks_fetches == 2


def test_made_up_kids_fetch_the_key_set_at_most_once_per_interval(oidc_provider: OidcProviderProcess) -> None:
    verifier = OidcProvider(oidc_provider.issuer, CLIENT_ID, None, DEFAULT_OIDC_CLAIMS)
    verifier.verify(oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"]))
    assert verifier.jwks_fetches == 1
    key = RSAKey.generate_key(2048, parameters={"kid": "made-up"})
    for _ in range(3):  # a flood of made-up kids is not amplified into requests to the provider
        with pytest.raises(Exception, match="does not publish"):
            verifier.verify(_forged({"iss": oidc_provider.issuer, "aud": CLIENT_ID, "sub": "x"}, key, "made-up"))
    assert verifier.jwks_fetches == 1


def test_the_nonce_of_a_sign_in_must_match(oidc_provider: OidcProviderProcess) -> None:
    verifier = OidcProvider(oidc_provider.issuer, CLIENT_ID, None, DEFAULT_OIDC_CLAIMS)
    token = str(oidc_provider.sign_in(CLIENT_ID, SOMCHAI["sub"], nonce="right")["id_token"])
    assert verifier.verify(token, nonce="right")["sub"] == SOMCHAI["sub"]
    with pytest.raises(Exception, match="nonce"):
        verifier.verify(token, nonce="wrong")


# -- the browser --------------------------------------------------------------------------------------------------


@pytest.fixture
def browser(app_client: TestClient) -> Iterator[httpx.Client]:
    """A cookie-keeping client that reaches our app at BASE (in-process) and the provider over HTTP."""
    with httpx.Client(mounts={BASE: app_client._transport}, follow_redirects=True, timeout=10) as client:
        yield client


def _sign_in(browser: httpx.Client, sub: str, next_path: str = "/api/v1/me") -> httpx.Response:
    form = browser.get(f"{BASE}/auth/login", params={"next": next_path})
    assert form.status_code == 200 and 'name="sub"' in form.text, form.text  # the provider's sign-in page
    return browser.post(str(form.url), data={"sub": sub})


def test_the_browser_signs_in_with_the_code_flow_and_the_cookie_authenticates(browser: httpx.Client) -> None:
    login = browser.get(f"{BASE}/auth/login", params={"next": "/api/v1/me", "acr_values": "urn:dga:aal2"},
                        follow_redirects=False)
    assert login.status_code == 302
    query = parse_qs(urlsplit(login.headers["location"]).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{BASE}/auth/callback"] and query["acr_values"] == ["urn:dga:aal2"]
    assert all(query[name][0] for name in ("state", "nonce", "code_challenge"))

    me = _sign_in(browser, MALEE["sub"])
    assert me.status_code == 200, me.text
    assert str(me.url) == f"{BASE}/api/v1/me"
    assert me.json()["name"] == "Malee Rakthai" and me.json()["id_number"] == "3-1006-xxxxx-xx-0"
    cookie = next(value for name, value in me.history[-1].headers.multi_items() if name == "set-cookie"
                  and value.startswith(SESSION_COOKIE))
    assert all(flag in cookie.lower() for flag in ("httponly", "samesite=lax", "secure", "max-age=28800"))
    assert browser.get(f"{BASE}/api/v1/me").json()["ial"] == "1.1"


def test_unsafe_requests_with_the_cookie_need_our_origin(browser: httpx.Client) -> None:
    _sign_in(browser, SOMCHAI["sub"])
    refused = browser.post(f"{BASE}/api/v1/applications", json={})
    assert refused.status_code == 403
    assert "no Origin header" in refused.json()["error"]["message"]
    elsewhere = browser.post(f"{BASE}/api/v1/applications", json={}, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and "https://evil.example" in elsewhere.json()["error"]["message"]
    ours = browser.post(f"{BASE}/api/v1/applications", json={}, headers={"Origin": BASE})
    assert ours.status_code == 422  # past the CSRF rule: the empty body is what is wrong now
    by_referer = browser.post(f"{BASE}/api/v1/applications", json={}, headers={"Referer": f"{BASE}/apply"})
    assert by_referer.status_code == 422

    assert browser.post(f"{BASE}/auth/logout").status_code == 403
    assert browser.post(f"{BASE}/auth/logout", headers={"Origin": BASE}).status_code == 204
    assert browser.get(f"{BASE}/api/v1/me").status_code == 401


def test_the_session_cookie_hides_the_id_number_and_cannot_be_changed_or_outlive_its_lifetime(
        browser: httpx.Client, app_client: TestClient) -> None:
    _sign_in(browser, SOMCHAI["sub"])
    sealed = browser.cookies[SESSION_COOKIE]
    payload = "".join(sealed.split(".")[1:])  # a JWE: header . (no key) . iv . ciphertext . tag
    for part in sealed.split(".")[1:]:
        padded = part + "=" * (-len(part) % 4)
        assert SOMCHAI["pid"].encode() not in base64.urlsafe_b64decode(padded)
    assert SOMCHAI["pid"] not in payload
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    app_client.cookies.set(SESSION_COOKIE, tampered)
    assert app_client.get("/api/v1/me").status_code == 401
    key = app_client.app.state.signing_key  # type: ignore[attr-defined]
    old = session_token(key, Principal(subject="s", role=Role.APPLICANT), now=datetime.now(UTC) - timedelta(hours=9))
    app_client.cookies.set(SESSION_COOKIE, old)
    expired = app_client.get("/api/v1/me")
    assert expired.status_code == 401 and "the session has expired" in expired.json()["error"]["message"]
    fresh = session_token(key, Principal(subject="s", role=Role.APPLICANT, id_number=SOMCHAI["pid"]))
    app_client.cookies.set(SESSION_COOKIE, fresh)
    assert app_client.get("/api/v1/me").json()["id_number"] == "1-1017-xxxxx-xx-0"


def test_next_must_be_a_local_path(browser: httpx.Client) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "evil", "/a\r\nb"):
        answer = browser.get(f"{BASE}/auth/login", params={"next": target}, follow_redirects=False)
        assert answer.status_code == 422, target
        assert "`next` must be a path on this service" in answer.json()["error"]["message"]


def test_a_callback_with_another_state_or_without_the_login_cookie_is_refused(
        browser: httpx.Client, oidc_provider: OidcProviderProcess) -> None:
    no_login = browser.get(f"{BASE}/auth/callback", params={"state": "x", "code": "y"})
    assert no_login.status_code == 401 and "no sign-in was started" in no_login.json()["error"]["message"]
    browser.get(f"{BASE}/auth/login", follow_redirects=False)
    wrong = browser.get(f"{BASE}/auth/callback", params={"state": "forged", "code": "y"})
    assert wrong.status_code == 401 and "`state`" in wrong.json()["error"]["message"]


def test_a_session_cookie_is_not_a_bearer_token_nor_the_reverse(browser: httpx.Client, app_client: TestClient,
                                                                 auth: Auth) -> None:
    _sign_in(browser, SOMCHAI["sub"])
    session = browser.cookies[SESSION_COOKIE]
    assert app_client.get("/api/v1/me", headers=_bearer(session)).status_code == 401
    dev_token = auth("admin", "root")["Authorization"].removeprefix("Bearer ")
    app_client.cookies.set(SESSION_COOKIE, dev_token)
    assert app_client.get("/api/v1/me").status_code == 401


def test_without_a_provider_sign_in_is_404_and_bearer_tokens_work(client: TestClient, auth: Auth) -> None:
    answer = client.get("/auth/login", follow_redirects=False)
    assert answer.status_code == 404 and "BIZPORTAL_OIDC_ISSUER" in answer.json()["error"]["hint"]
    assert client.get("/api/v1/me", headers=auth("applicant", "alice")).json()["role"] == "applicant"


def test_cookies_are_secure_except_on_plain_http_localhost() -> None:
    assert not secure_cookies("http://127.0.0.1:8000")
    assert not secure_cookies("http://localhost:8000")
    assert secure_cookies("https://localhost")
    assert secure_cookies("http://bizportal.example")
    assert secure_cookies("https://bizportal.go.th")


def test_the_claims_map_setting_is_checked() -> None:
    assert Settings(oidc_claims={"id_number": "cid"}).oidc_claims == {**DEFAULT_OIDC_CLAIMS, "id_number": "cid"}
    with pytest.raises(ValueError, match="unknown field"):
        Settings(oidc_claims={"citizen": "cid"})
    with pytest.raises(ValueError, match="empty claim name"):
        Settings(oidc_claims={"name": " "})


# -- who the signed-in person is: their own applications, and a counter's filing for them (issue 11 s.2, s.3) ---


def test_a_signed_in_person_files_only_in_their_own_name(app_client: TestClient,
                                                          oidc_provider: OidcProviderProcess) -> None:
    somchai = _bearer(oidc_provider.id_token(CLIENT_ID, SOMCHAI["sub"]))
    in_malees_name = app_client.post("/api/v1/applications", json=application_body(id_number=MALEE["pid"]),
                                     headers=somchai)
    assert in_malees_name.status_code == 403 and "own name" in in_malees_name.json()["error"]["message"]
    in_his_own = app_client.post("/api/v1/applications", json=application_body(id_number=SOMCHAI["pid"]),
                                 headers=somchai)
    assert in_his_own.status_code == 201, in_his_own.text
    malee = _bearer(oidc_provider.id_token(CLIENT_ID, MALEE["sub"]))
    assert app_client.get(f"/api/v1/applications/{in_his_own.json()['id']}", headers=malee).status_code == 404


def test_a_counter_filing_is_the_entrepreneurs_once_they_sign_in(browser: httpx.Client, app_client: TestClient,
                                                                 engine: LicensingEngine, auth: Auth) -> None:
    """Cora files at the Khlong Toei counter for Somchai; he signs in with the browser, follows the application,
    pays online and withdraws the consent, after which the counter no longer reaches it."""
    engine.ctx.payments = PaymentProviders({"testpay": RecordingProvider()})
    cora = auth("counter_officer", "cora", office=OFFICE)
    body = application_body(id_number=SOMCHAI["pid"], consent=COUNTER_CONSENT)
    filed = app_client.post("/api/v1/applications", json=body, headers=cora)
    assert filed.status_code == 201, filed.text
    journey = Journey(app_client, cora, auth("agency_officer", "olivia", "LAO", OFFICE), cora)
    journey.id = filed.json()["id"]
    journey.submit()
    journey.approve_until_payment(journey.officer)

    ours = {"Origin": BASE}
    listed = _sign_in(browser, SOMCHAI["sub"], next_path="/api/v1/applications")
    assert [a["id"] for a in listed.json()] == [journey.id]
    (consent,) = browser.get(f"{BASE}/api/v1/consents").json()
    assert consent["in_force"] and consent["office"] == OFFICE
    started = browser.post(f"{BASE}/api/v1/applications/{journey.id}/payments", json={"provider": "testpay"},
                           headers=ours)
    assert started.status_code == 201, started.text
    assert notify_succeeded(app_client, started.json()).json() == {"outcome": "applied"}
    assert browser.get(f"{BASE}/api/v1/applications/{journey.id}").json()["status"] == "issued"

    assert browser.post(f"{BASE}/api/v1/consents/{consent['id']}/withdraw").status_code == 403  # CSRF rule
    withdrawn = browser.post(f"{BASE}/api/v1/consents/{consent['id']}/withdraw", headers=ours)
    assert withdrawn.status_code == 200 and withdrawn.json()["in_force"] is False
    assert app_client.get(f"/api/v1/applications/{journey.id}", headers=cora).status_code == 404
    assert browser.get(f"{BASE}/api/v1/applications/{journey.id}").status_code == 200
