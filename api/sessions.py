"""The browser's session after an OpenID Connect sign-in: a cookie, and the CSRF rule for requests it signs.

The session cookie holds the signed-in identity as an HS256 JWT signed with the service's signing key (as
the development tokens are, but with its own issuer, so neither can stand in for the other) and expires
after `SESSION_LIFETIME`. It is HttpOnly and SameSite=Lax, and Secure unless the public base URL is plain
http on localhost/127.0.0.1 (development).

CSRF: an unsafe request (POST, PUT, PATCH, DELETE) signed in by the cookie must come from the service's own
pages: its `Origin` header (or, when a browser sends none, its `Referer`) must be the public base URL's
origin. Browsers add `Origin` to every form post and script request, so a plain HTML form on our pages
passes; a page elsewhere cannot forge it. Requests with `Authorization: Bearer` need no such check.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
from fastapi import Request
from fastapi.responses import Response

from bizportal.engine.errors import Forbidden, Unauthenticated
from bizportal.engine.principal import Principal, Role

SESSION_COOKIE = "bizportal_session"
LOGIN_COOKIE = "bizportal_login"
SESSION_LIFETIME = timedelta(hours=8)
LOGIN_LIFETIME = timedelta(minutes=10)
SESSION_ISSUER = "bizportal-session"
LOGIN_ISSUER = "bizportal-login"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ALGORITHM = "HS256"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def secure_cookies(public_base_url: str) -> bool:
    """Cookies are Secure except on a plain-http localhost (development, where there is no TLS)."""
    parts = urlsplit(public_base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def session_token(key: str, principal: Principal, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {"iss": SESSION_ISSUER, "sub": principal.subject, "role": principal.role.value,
                              "iat": issued, "exp": issued + SESSION_LIFETIME}
    for field in ("name", "id_number", "ial", "aal"):
        value = getattr(principal, field)
        if value is not None:
            claims[field] = value
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def read_session_cookie(key: str, token: str) -> Principal:
    """Raises:
    Unauthenticated: the cookie is not one this service set, or it has expired."""
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM], issuer=SESSION_ISSUER,
                            options={"require": ["sub", "role", "exp", "iss"]})
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError as err:
        raise Unauthenticated("the session has expired", hint="sign in again at /auth/login") from err
    except (jwt.InvalidTokenError, ValueError, TypeError) as err:
        raise Unauthenticated(f"the session cookie is not valid: {err}", hint="sign in again at /auth/login") from err
    fields = {field: claims.get(field) for field in ("name", "id_number", "ial", "aal")}
    if not all(value is None or isinstance(value, str) for value in fields.values()):
        raise Unauthenticated("the session cookie is not valid", hint="sign in again at /auth/login")
    return Principal(subject=str(claims["sub"]), role=role, **fields)


def login_token(key: str, state: str, nonce: str, code_verifier: str, next_path: str) -> str:
    issued = datetime.now(UTC)
    claims = {"iss": LOGIN_ISSUER, "state": state, "nonce": nonce, "verifier": code_verifier, "next": next_path,
              "iat": issued, "exp": issued + LOGIN_LIFETIME}
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def read_login(key: str, token: str | None) -> dict[str, str]:
    """Raises:
    Unauthenticated: no sign-in was started in this browser, or it was started too long ago."""
    hint = "start again at /auth/login, in the same browser, and finish within 10 minutes"
    if not token:
        raise Unauthenticated("no sign-in was started in this browser (its cookie is missing)", hint=hint)
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM], issuer=LOGIN_ISSUER,
                            options={"require": ["state", "nonce", "verifier", "next", "exp", "iss"]})
    except jwt.ExpiredSignatureError as err:
        raise Unauthenticated("the sign-in took longer than 10 minutes", hint=hint) from err
    except jwt.InvalidTokenError as err:
        raise Unauthenticated(f"the sign-in cookie is not valid: {err}", hint=hint) from err
    return {name: str(claims[name]) for name in ("state", "nonce", "verifier", "next")}


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
