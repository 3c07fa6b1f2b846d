"""The browser's session after an OpenID Connect sign-in: a cookie, and the CSRF rule for requests it signs.

The session cookie holds the signed-in identity encrypted and authenticated (JWE, A256GCM) with a key derived
from the service's signing key, so the browser can neither read the ID number in it nor change anything,
and neither the cookie nor a bearer token can stand in for the other; it expires after `SESSION_LIFETIME`.
A staff member's cookie holds only who they are (the staff provider's issuer and `sub`) and their name, marked as
staff: their role, agency and office are read from the staff register on every request, so a change there (a
deactivation above all) applies at once, and no role is trusted from a cookie.
It is HttpOnly and SameSite=Lax, and Secure unless the public base URL is plain
http on localhost/127.0.0.1 (development).

CSRF: an unsafe request (POST, PUT, PATCH, DELETE) signed in by the cookie must come from the service's own
pages: its `Origin` header (or, when a browser sends none, its `Referer`) must be the public base URL's
origin. Browsers add `Origin` to every form post and script request, so a plain HTML form on our pages
passes; a page elsewhere cannot forge it. Requests with `Authorization: Bearer` need no such check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from bizportal.engine.errors import Forbidden, Unauthenticated
from bizportal.engine.principal import Principal, Role

SESSION_COOKIE = "bizportal_session"
LOGIN_COOKIE = "bizportal_login"
SESSION_LIFETIME = timedelta(hours=8)
LOGIN_LIFETIME = timedelta(minutes=10)
SESSION_ISSUER = "bizportal-session"
LOGIN_ISSUER = "bizportal-login"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def secure_cookies(public_base_url: str) -> bool:
    """Cookies are Secure except on a plain-http localhost (development, where there is no TLS)."""
    parts = urlsplit(public_base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class StaffSession:
    """A staff member's session: who signed in, to be looked up in the staff register on each request."""

    issuer: str
    subject: str
    name: str | None = None


def session_token(key: str, principal: Principal, now: datetime | None = None, staff_issuer: str | None = None) -> str:
    """The cookie of a sign-in; with `staff_issuer`, a staff sign-in: the role, agency and office are left out."""
    if staff_issuer is not None:
        claims: dict[str, Any] = {"sub": principal.subject, "staff_iss": staff_issuer}
        if principal.name is not None:
            claims["name"] = principal.name
        return _seal(key, SESSION_ISSUER, claims, SESSION_LIFETIME, now)
    claims = {"sub": principal.subject, "role": principal.role.value}
    for field in ("name", "id_number", "ial", "aal"):
        value = getattr(principal, field)
        if value is not None:
            claims[field] = value
    return _seal(key, SESSION_ISSUER, claims, SESSION_LIFETIME, now)


def read_session_cookie(key: str, token: str) -> Principal | StaffSession:
    """A citizen's whole identity, or a staff member's `StaffSession`.

    Raises:
        Unauthenticated: the cookie is not one this service set, or it has expired."""
    hint = "sign in again at /auth/login"
    claims = _open(key, SESSION_ISSUER, token, "the session", hint)
    fields = {field: claims.get(field) for field in ("name", "id_number", "ial", "aal")}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not all(value is None or isinstance(value, str) for value in fields.values()):
        raise Unauthenticated("the session cookie is not valid", hint=hint)
    staff_issuer = claims.get("staff_iss")
    if staff_issuer is not None:
        if not isinstance(staff_issuer, str):
            raise Unauthenticated("the session cookie is not valid", hint=hint)
        return StaffSession(staff_issuer, subject, fields["name"])
    try:
        role = Role(str(claims.get("role")))
    except ValueError as err:
        raise Unauthenticated("the session cookie is not valid", hint=hint) from err
    return Principal(subject=subject, role=role, **fields)


def login_token(key: str, state: str, nonce: str, code_verifier: str, next_path: str, kind: str = "citizen") -> str:
    """The cookie of a sign-in under way; `kind` (citizen or staff) says which callback may finish it."""
    claims = {"state": state, "nonce": nonce, "verifier": code_verifier, "next": next_path, "kind": kind}
    return _seal(key, LOGIN_ISSUER, claims, LOGIN_LIFETIME)


def read_login(key: str, token: str | None) -> dict[str, str]:
    """Raises:
    Unauthenticated: no sign-in was started in this browser, or it was started too long ago."""
    hint = "start again at /auth/login, in the same browser, and finish within 10 minutes"
    if not token:
        raise Unauthenticated("no sign-in was started in this browser (its cookie is missing)", hint=hint)
    claims = _open(key, LOGIN_ISSUER, token, "the sign-in", hint)
    if not all(isinstance(claims.get(name), str) for name in ("state", "nonce", "verifier", "next", "kind")):
        raise Unauthenticated("the sign-in cookie is not valid", hint=hint)
    return {name: str(claims[name]) for name in ("state", "nonce", "verifier", "next", "kind")}


def _cookie_key(key: str, purpose: str) -> OctKey:
    """A key of its own per cookie, derived from the service's signing key: neither cookie can pass for the
    other, nor for a bearer token."""
    return OctKey.import_key(hashlib.sha256(f"{purpose}\0{key}".encode()).digest())


def _seal(key: str, purpose: str, claims: dict[str, Any], lifetime: timedelta, now: datetime | None = None) -> str:
    """`claims` encrypted and authenticated (JWE, dir + A256GCM): the browser keeps them but cannot read them
    (the session holds the person's ID number) nor change them."""
    expires = int(((now or datetime.now(UTC)) + lifetime).timestamp())
    payload = json.dumps({**claims, "exp": expires}).encode()
    return jwe.encrypt_compact({"alg": "dir", "enc": "A256GCM"}, payload, _cookie_key(key, purpose))


def _open(key: str, purpose: str, token: str, what: str, hint: str) -> dict[str, Any]:
    try:
        plaintext = jwe.decrypt_compact(token, _cookie_key(key, purpose), algorithms=["dir", "A256GCM"]).plaintext
        claims = json.loads(plaintext or b"")
    except (JoseError, ValueError) as err:
        raise Unauthenticated(f"the cookie of {what} is not one this service set", hint=hint) from err
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise Unauthenticated(f"the cookie of {what} is not one this service set", hint=hint)
    if claims["exp"] <= datetime.now(UTC).timestamp():
        raise Unauthenticated(f"{what} has expired", hint=hint)
    return claims


def set_cookie(response: Response, name: str, value: str, lifetime: timedelta, secure: bool, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=int(lifetime.total_seconds()), path=path, secure=secure,
                        httponly=True, samesite="lax")


def check_same_origin(request: Request, public_base_url: str) -> None:
    """The CSRF rule for a request the session cookie signs in (see the module's docstring).

    Raises:
        Forbidden: an unsafe request from another origin, or one that says nothing of its origin.
    """
    if request.method not in UNSAFE_METHODS:
        return
    expected = origin_of(public_base_url)
    origin = request.headers.get("origin")
    if origin is None and (referer := request.headers.get("referer")):
        origin = origin_of(referer)
    if origin is None or origin.lower() != expected:
        said = f"comes from {origin!r}" if origin else "does not say where it comes from (no Origin header)"
        raise Forbidden(f"a {request.method} request signed in with the session cookie must come from this "
                        f"service's pages ({expected}); this one {said}",
                        hint="send it from the service's own pages (browsers add the Origin header), or "
                        "authenticate with `Authorization: Bearer <token>` instead of the cookie")
