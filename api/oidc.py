"""OpenID Connect: the providers people sign in with. Citizens use one (DGA Digital ID, ThaID, or any OpenID
provider; BIZPORTAL_OIDC_*), staff their organisation's (BIZPORTAL_STAFF_OIDC_*); both are an `OidcProvider`.

`OidcProvider` reads the provider's discovery document (`<issuer>/.well-known/openid-configuration`) and
its key set (JWKS), verifies the JWTs it issues for our client id (ID tokens, or JWT access tokens), builds the
authorization-code + PKCE request of the browser sign-in and exchanges the code for an ID token
(api/routes/auth.py). Who the verified claims stand for is decided apart from it: `applicant_principal` makes a
citizen of them through the claims map (BIZPORTAL_OIDC_CLAIMS); a staff member is whoever the staff register
says (engine/staff/register.py), the token only naming them. `for_staff` tells which provider a token is for.

A provider's token is verified strictly: signature by a key of the provider's JWKS (cached; fetched again,
at most once per `refetch_interval`, when a token names a `kid` the cached set lacks, as after a key
rotation), only the asymmetric algorithms RS256, ES256 and PS256 (never `none` nor an HS* algorithm, whose
"key" would be public), and `iss`, `aud`, `exp` and `nbf` (plus the `nonce` of a sign-in).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bizportal.engine.applications.thai_id import normalise_thai_id
from bizportal.engine.assurance import AAL_LEVELS, IAL_LEVELS
from bizportal.engine.errors import Unauthenticated, Unavailable
from bizportal.engine.principal import Principal, Role

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "ES256", "PS256")
LEEWAY_SECONDS = 60  # clocks of the provider and this server may differ a little
DISCOVERY_TTL_SECONDS = 3600.0
REFETCH_INTERVAL_SECONDS = 60.0
HTTP_TIMEOUT_SECONDS = 10.0
SCOPE = "openid profile"
_HINT = "sign in again, or send a token the configured provider issued for this service"


@dataclass(frozen=True)
class LoginRequest:
    """What the browser is sent to, and what the callback must find again."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcProvider:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None, claims: dict[str, str],
                 http: httpx.Client | None = None, refetch_interval: float = REFETCH_INTERVAL_SECONDS,
                 setting: str = "BIZPORTAL_OIDC") -> None:
        """`setting` is the prefix of the variables configuring this provider, named in error hints."""
        self.issuer = issuer.rstrip("/")
        self.setting = setting
        self.client_id = client_id
        self._client_secret = client_secret
        self.claims = claims
        self._http = http or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        self._refetch_interval = refetch_interval
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = -float("inf")
        self.jwks_fetches = 0  # how often the key set was fetched (observable in tests)

    # -- discovery and keys -------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The discovery document, cached for an hour.

        Raises:
            Unavailable: the provider cannot be reached or its document is unusable.
        """
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > DISCOVERY_TTL_SECONDS:
                document = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                if document.get("issuer", "").rstrip("/") != self.issuer:
                    raise Unavailable(f"the OpenID provider's discovery document names the issuer "
                                      f"{document.get('issuer')!r}, not {self.issuer!r}",
                                      hint=f"set {self.setting}_ISSUER to the provider's exact issuer URL")
                for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(document.get(field), str):
                        raise Unavailable(f"the OpenID provider's discovery document has no {field}",
                                          hint=f"check {self.setting}_ISSUER")
                self._metadata, self._metadata_at = document, time.monotonic()
            return self._metadata

    def _key_set(self, kid: str | None, refresh: bool = False) -> KeySet:
        """The cached JWKS; fetched first, and again when it lacks `kid` or `refresh` asks (not more than once per
        interval)."""
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            known = not refresh and self._keys is not None and (kid is None or _has_kid(self._keys, kid))
            if not known and (self._keys is None or time.monotonic() - self._keys_at >= self._refetch_interval):
                try:
                    self._keys = KeySet.import_key_set(self._get_json(jwks_uri))  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError) as err:
                    raise Unavailable(f"the OpenID provider's key set at {jwks_uri} is not usable: {err}",
                                      hint="try again later") from err
                self._keys_at = time.monotonic()
                self.jwks_fetches += 1
            assert self._keys is not None
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise Unavailable(f"the OpenID provider did not answer {url}: {err}", hint="try again later") from err
        if not isinstance(document, dict):
            raise Unavailable(f"the OpenID provider's {url} is not a JSON object", hint="try again later")
        return document

    # -- tokens -------------------------------------------------------------------------------------

    def verify(self, token: str, nonce: str | None = None) -> dict[str, Any]:
        """The claims of a JWT the provider issued for our client id, after every check.

        Raises:
            Unauthenticated: the token is not one (the message says what is wrong).
            Unavailable: the provider's keys cannot be fetched.
        """
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(f"the token is signed with {algorithm!r}; a token of the OpenID provider must "
                                  f"be signed with one of {', '.join(ALGORITHMS)}", hint=_HINT)
        # Who issued it and for whom, said first (read before the signature, which is checked next: a token
        # that passes these two is still refused unless the provider's key signed it).
        self._check_issuer_and_audience(_segment(token, 1))
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("the token's `kid` header must be a string", hint=_HINT)
        keys = self._key_set(kid)
        if kid is not None and not _has_kid(keys, kid):
            raise Unauthenticated(f"the token is signed with key {kid!r}, which the OpenID provider does not publish",
                                  hint=_HINT)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except JoseError as err:
            # A token without `kid` cannot say it needs a newer key: fetch the set once more (as for an unknown
            # kid, at most once per interval) and try again.
            fresh = self._key_set(None, refresh=True) if kid is None else keys
            try:
                if fresh is keys:
                    raise err
                decoded = jwt.decode(token, fresh, algorithms=list(ALGORITHMS))
            except JoseError as again:
                raise Unauthenticated(f"the token's signature is not the OpenID provider's: {again}",
                                      hint=_HINT) from again
        claims = dict(decoded.claims)
        self._check_claims(claims, nonce)
        return claims

    def _check_claims(self, claims: dict[str, Any], nonce: str | None) -> None:
        self._check_issuer_and_audience(claims)
        try:
            registry = jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, exp={"essential": True},
                                             sub={"essential": True})
            registry.validate(claims)
        except JoseError as err:
            raise Unauthenticated(f"the token is not valid: {err.description or err.error}", hint=_HINT) from err
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Unauthenticated("the token's `sub` must be a non-empty string", hint=_HINT)
        if nonce is not None and claims.get("nonce") != nonce:
            raise Unauthenticated("the ID token's nonce is not the one this sign-in sent", hint="sign in again")

    def _check_issuer_and_audience(self, claims: dict[str, Any]) -> None:
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            raise Unauthenticated(f"the token was issued by {issuer!r}; this service accepts tokens of "
                                  f"{self.issuer!r}", hint=_HINT)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise Unauthenticated(f"the token is for the audience {audience!r}, not for this service's client id "
                                  f"{self.client_id!r}", hint=_HINT)

    def close(self) -> None:
        self._http.close()

    # -- the browser sign-in ------------------------------------------------------------------------

    def login_request(self, redirect_uri: str, acr_values: str | None = None) -> LoginRequest:
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                 "scope": SCOPE, "state": state, "nonce": nonce,
                 "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
        if acr_values:
            query["acr_values"] = acr_values
        endpoint = self.metadata()["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return LoginRequest(f"{endpoint}{separator}{urlencode(query)}", state, nonce, verifier)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> str:
        """The ID token the provider gives for an authorization code.

        Raises:
            Unauthenticated: the provider refused the code.
            Unavailable: the provider cannot be reached.
        """
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier, "client_id": self.client_id}
        try:
            response = self._http.post(self.metadata()["token_endpoint"], data=form,
                                       auth=httpx.BasicAuth(self.client_id, self._client_secret)
                                       if self._client_secret else httpx.USE_CLIENT_DEFAULT,
                                       headers={"Accept": "application/json"})
        except httpx.HTTPError as err:
            raise Unavailable(f"the OpenID provider's token endpoint did not answer: {err}",
                              hint="try signing in again later") from err
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise Unauthenticated(f"the OpenID provider refused the sign-in code ({response.status_code}"
                                  f"{': ' + str(reason) if reason else ''})", hint="sign in again")
        return str(body["id_token"])


def applicant_principal(claims: dict[str, Any], claims_map: dict[str, str]) -> Principal:
    """An applicant, named by the provider's `sub`, with the fields the claims map points at.

    A level the provider does not state is the lowest (IAL 1.1, AAL 1): a provider vouches for a level or
    it doesn't, and only our own development tokens get the development default (engine/assurance.py).
    """
    fields = {field: _text(claims.get(claim)) for field, claim in claims_map.items()}
    return Principal(subject=claims["sub"], role=Role.APPLICANT, name=_one_line(fields.get("name")),
                     id_number=_id_number(fields.get("id_number"), claims_map),
                     ial=fields.get("ial") or IAL_LEVELS[0], aal=fields.get("aal") or AAL_LEVELS[0])


def claimed_name(claims: dict[str, Any], claims_map: dict[str, str]) -> str | None:
    """The display name the claims map's `name` claim gives, on one line (a receipt prints it), or None."""
    return _one_line(_text(claims.get(claims_map.get("name", "name"))))


def _one_line(name: str | None) -> str | None:
    return " ".join(name.split())[:200] if name else None


def _id_number(value: str | None, claims_map: dict[str, str]) -> str | None:
    """The 13 digits of a Thai ID number (dashes and spaces dropped), or None: a value that is no ID number
    (a mis-mapped claim) must not stand for one, and is logged so the operator can fix the claims map."""
    if value is None:
        return None
    try:
        return normalise_thai_id(value)
    except ValueError as err:
        log.warning("the OpenID provider's %r claim is not a Thai ID number (%s): check BIZPORTAL_OIDC_CLAIMS",
                    claims_map["id_number"], err)
        return None


def for_staff(token: str, citizens: OidcProvider | None, staff: OidcProvider | None) -> bool:
    """Whether a bearer token is the staff provider's (read unverified, only to pick who verifies it).

    Its issuer decides; when both providers share an issuer, its audience does: a token for the staff client id
    is the staff provider's, any other the citizens'. A citizen's token is thus never verified as staff, nor the
    other way round, and whichever provider verifies it checks the audience again.
    """
    if staff is None:
        return False
    try:
        claims = _segment(token, 1)
    except Unauthenticated:
        return False
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer.rstrip("/") != staff.issuer:
        return False
    if citizens is None or citizens.issuer != staff.issuer:
        return True
    audience = claims.get("aud")
    return staff.client_id in (audience if isinstance(audience, list) else [audience])


def unverified_issuer(token: str) -> str | None:
    """The `iss` a JWT claims, read without verifying anything (to pick who verifies it); None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def _header(token: str) -> dict[str, Any]:
    return _segment(token, 0)


def _segment(token: str, index: int) -> dict[str, Any]:
    """The JSON object in a JWT's header (0) or payload (1), unverified."""
    try:
        segment = token.split(".")[index]
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError) as err:
        raise Unauthenticated("the token is not a JWT", hint=_HINT) from err
    if not isinstance(value, dict):
        raise Unauthenticated("the token is not a JWT", hint=_HINT)
    return value


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str | int | float) else None
    return text or None
