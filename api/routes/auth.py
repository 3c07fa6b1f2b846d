"""Signing in: the browser's OpenID Connect sign-in (/auth/login, /auth/callback, /auth/logout), the staff sign-in
through their organisation's provider (/auth/staff/login, /auth/staff/callback), and /api/v1/me.

The sign-in is the authorization code flow with PKCE, `state` and `nonce`. What the callback must find again
(state, nonce, PKCE verifier, where to return) travels in a short-lived signed cookie of this browser
(api/sessions.py), so any API process can answer the callback. The callback sets the session cookie. The staff
callback first looks the person up in the staff register (engine/staff/register.py): someone not in it, or
deactivated, gets 403 and no cookie.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from bizportal.api.deps import PrincipalDep, registered_staff
from bizportal.api.oidc import OidcProvider, applicant_principal, claimed_name
from bizportal.api.sessions import (
    LOGIN_COOKIE,
    LOGIN_LIFETIME,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    check_same_origin,
    login_token,
    read_login,
    secure_cookies,
    session_token,
    set_cookie,
)
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.errors import InvalidInput, NotFound, Unauthenticated

router = APIRouter(prefix="/auth", tags=["sign-in"])
staff_router = APIRouter(prefix="/auth/staff", tags=["sign-in"])
me_router = APIRouter(prefix="/api/v1", tags=["sign-in"])

CALLBACK_PATH = "/auth/callback"
STAFF_CALLBACK_PATH = "/auth/staff/callback"
_NOT_CONFIGURED: dict[int | str, dict[str, str]] = {
    404: {"description": "no OpenID provider is configured on this server"},
    503: {"description": "the OpenID provider cannot be reached"}}
_STAFF_NOT_CONFIGURED: dict[int | str, dict[str, str]] = {
    404: {"description": "no staff OpenID provider is configured on this server"},
    503: {"description": "the staff OpenID provider cannot be reached"}}
LOGIN_COOKIE_PATH = "/auth"
CITIZEN, STAFF = "citizen", "staff"  # the kinds of sign-in


def _provider(request: Request, kind: str = CITIZEN) -> OidcProvider:
    provider: OidcProvider | None = request.app.state.staff_oidc if kind == STAFF else request.app.state.oidc
    if provider is None:
        setting = "BIZPORTAL_STAFF_OIDC" if kind == STAFF else "BIZPORTAL_OIDC"
        raise NotFound(f"{'staff ' if kind == STAFF else ''}sign-in with an OpenID provider is not configured on "
                       "this server", hint=f"set {setting}_ISSUER and {setting}_CLIENT_ID, or use a development "
                       "token from `bizportal token`")
    return provider


def _redirect_uri(request: Request, kind: str = CITIZEN) -> str:
    return request.app.state.public_base_url.rstrip("/") + (STAFF_CALLBACK_PATH if kind == STAFF else CALLBACK_PATH)


def local_path(value: str) -> str:
    """`value` if it is a path on this service (never another host), else InvalidInput."""
    parts = urlsplit(value)
    if (not value.startswith("/") or value.startswith("//") or "\\" in value or parts.scheme or parts.netloc
            or any(unicodedata.category(char).startswith("C") for char in value)):
        raise InvalidInput(f"`next` must be a path on this service, like /applications; {value!r} is not",
                           hint="give a path starting with a single /, without a scheme or host",
                           details={"field": "next"})
    return value


@router.get("/login", summary="Sign in: redirects to the OpenID provider (authorization code + PKCE)",
            status_code=302, response_class=RedirectResponse,
            responses={302: {"description": "to the provider's sign-in page"}, **_NOT_CONFIGURED})
def login(request: Request,
          next: Annotated[str, Query(max_length=2000, description="local path to return to after signing in")] = "/",
          acr_values: Annotated[str | None, Query(max_length=500, pattern=r"^[\x21-\x7e]+( [\x21-\x7e]+)*$",
                                                  description="requested authentication context (step-up), "
                                                  "passed to the provider")] = None) -> Response:
    return _start(request, CITIZEN, next, acr_values)


def _start(request: Request, kind: str, next_path: str, acr_values: str | None) -> Response:
    provider = _provider(request, kind)
    target = local_path(next_path)
    sign_in = provider.login_request(_redirect_uri(request, kind), acr_values)
    response = RedirectResponse(sign_in.url, status_code=302)
    set_cookie(response, LOGIN_COOKIE,
               login_token(request.app.state.signing_key, sign_in.state, sign_in.nonce, sign_in.code_verifier,
                           target, kind),
               LOGIN_LIFETIME, secure_cookies(request.app.state.public_base_url), path=LOGIN_COOKIE_PATH)
    return response


@router.get("/callback", summary="The provider returns here: verifies the sign-in and sets the session cookie",
            status_code=303, response_class=RedirectResponse,
            responses={303: {"description": "signed in: to the `next` path given to /auth/login"},
                       401: {"description": "the sign-in is not valid (state, code, nonce or ID token): the body "
                             "says which"}, **_NOT_CONFIGURED})
def callback(request: Request,
             state: Annotated[str | None, Query(max_length=500)] = None,
             code: Annotated[str | None, Query(max_length=2000)] = None,
             error: Annotated[str | None, Query(max_length=200)] = None,
             error_description: Annotated[str | None, Query(max_length=1000)] = None) -> Response:
    return _finish(request, CITIZEN, state, code, error, error_description)


def _finish(request: Request, kind: str, state: str | None, code: str | None, error: str | None,
            error_description: str | None) -> Response:
    provider = _provider(request, kind)
    again = "start again at /auth/staff/login" if kind == STAFF else "start again at /auth/login"
    started = read_login(request.app.state.signing_key, request.cookies.get(LOGIN_COOKIE))
    if state != started["state"] or started["kind"] != kind:
        raise Unauthenticated("the sign-in's `state` is not the one this browser started with", hint=again)
    if error is not None:
        raise Unauthenticated(f"the OpenID provider did not sign you in: {error}"
                              f"{': ' + error_description if error_description else ''}", hint=again)
    if not code:
        raise Unauthenticated("the OpenID provider sent no authorization code", hint=again)
    id_token = provider.exchange_code(code, _redirect_uri(request, kind), started["verifier"])
    claims = provider.verify(id_token, nonce=started["nonce"])
    key = request.app.state.signing_key
    if kind == STAFF:  # who they are is the register's: refused here (403) when they are not in it
        principal = registered_staff(request, provider.issuer, claims["sub"], claimed_name(claims, provider.claims))
        cookie = session_token(key, principal, staff_issuer=provider.issuer)
    else:
        cookie = session_token(key, applicant_principal(claims, provider.claims))
    secure = secure_cookies(request.app.state.public_base_url)
    response = RedirectResponse(local_path(started["next"]), status_code=303)
    set_cookie(response, SESSION_COOKIE, cookie, SESSION_LIFETIME, secure)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_COOKIE_PATH, secure=secure, httponly=True, samesite="lax")
    return response


@staff_router.get("/login", summary="Staff sign-in: redirects to the staff OpenID provider (authorization code + "
                  "PKCE)", status_code=302, response_class=RedirectResponse,
                  responses={302: {"description": "to the staff provider's sign-in page"}, **_STAFF_NOT_CONFIGURED})
def staff_login(request: Request,
                next: Annotated[str, Query(max_length=2000, description="local path to return to after signing "
                                           "in")] = "/",
                acr_values: Annotated[str | None, Query(max_length=500, pattern=r"^[\x21-\x7e]+( [\x21-\x7e]+)*$",
                                                        description="requested authentication context (step-up), "
                                                        "passed to the provider")] = None) -> Response:
    return _start(request, STAFF, next, acr_values)


@staff_router.get("/callback", summary="The staff provider returns here: verifies the sign-in, looks the person up "
                  "in the staff register and sets the session cookie", status_code=303,
                  response_class=RedirectResponse,
                  responses={303: {"description": "signed in: to the `next` path given to /auth/staff/login"},
                             401: {"description": "the sign-in is not valid (state, code, nonce or ID token): the "
                                   "body says which"},
                             403: {"description": "the person is not in the staff register, or is deactivated"},
                             **_STAFF_NOT_CONFIGURED})
def staff_callback(request: Request,
                   state: Annotated[str | None, Query(max_length=500)] = None,
                   code: Annotated[str | None, Query(max_length=2000)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None,
                   error_description: Annotated[str | None, Query(max_length=1000)] = None) -> Response:
    return _finish(request, STAFF, state, code, error, error_description)


@router.post("/logout", summary="Sign out: clears the session cookie", status_code=204,
             responses={204: {"description": "signed out (also when no one was signed in)"},
                        403: {"description": "the request came from another origin (CSRF rule)"}})
def logout(request: Request) -> Response:
    if request.cookies.get(SESSION_COOKIE):
        check_same_origin(request, request.app.state.public_base_url)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookies(request.app.state.public_base_url),
                           httponly=True, samesite="lax")
    return response


class Me(BaseModel):
    role: str
    name: str | None  # as the sign-in gave it
    id_number: str | None  # masked: first and last digits only
    ial: str | None  # identity assurance level of this sign-in (DGA notation, e.g. "2.3")
    aal: str | None  # authenticator assurance level of this sign-in (e.g. "2")
    agency: str | None
    office: str | None


@me_router.get("/me", summary="Who is signed in", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    return Me(role=principal.role.value, name=principal.name,
              id_number=mask_thai_id(principal.id_number) if principal.id_number else None,
              ial=principal.ial, aal=principal.aal, agency=principal.agency, office=principal.office)
