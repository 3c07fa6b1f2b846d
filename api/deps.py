"""Request-scoped dependencies: the engine, the caller, and the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bizportal.api import tokens
from bizportal.api.oidc import OidcProvider, applicant_principal, claimed_name, for_staff, unverified_issuer
from bizportal.api.sessions import SESSION_COOKIE, StaffSession, check_same_origin, read_session_cookie
from bizportal.api.tokens import read_token
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Unauthenticated
from bizportal.engine.principal import Principal
from bizportal.engine.staff.register import staff_principal
from bizportal.storage.database import read_session, transaction

bearer = HTTPBearer(auto_error=False, description="JWT from Digital ID sign-in or `bizportal token`")
session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                              description="set by the browser sign-in (/auth/login); unsafe requests need an Origin "
                              "header of this service")


# The two dependencies every route has are `async def`: FastAPI runs a plain `def` dependency on a thread of its
# pool, and the hand-over to a thread and back cost more than their own work.
async def get_engine(request: Request) -> LicensingEngine:
    return request.app.state.engine


async def current_principal(request: Request,
                            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                            cookie: Annotated[str | None, Depends(session_cookie)]) -> Principal:
    """`principal_of`: a token of this service's own is checked on the event loop (a signature, no I/O); anything
    that may ask a provider for its keys or read the staff register runs on a thread."""
    if credentials is not None and unverified_issuer(credentials.credentials) == tokens.ISSUER:
        return read_token(request.app.state.signing_key, credentials.credentials, request.app.state.token_max_lifetime)
    return await run_in_threadpool(principal_of, request, credentials, cookie)


def principal_of(request: Request, credentials: HTTPAuthorizationCredentials | None,
                 cookie: str | None) -> Principal:
    """The caller: by its bearer token (the staff provider's, the citizens' provider's, or a development token of
    `bizportal token`), else by the session cookie of a browser sign-in (whose unsafe requests must pass the CSRF
    rule, api/sessions.py). A staff member is looked up in the staff register on every request, by token or
    cookie alike, so a deactivated one is refused at once."""
    state = request.app.state
    if credentials is not None:
        citizens: OidcProvider | None = state.oidc
        staff: OidcProvider | None = state.staff_oidc
        token = credentials.credentials
        if unverified_issuer(token) != tokens.ISSUER:
            if staff is not None and for_staff(token, citizens, staff):
                claims = staff.verify(token)
                return registered_staff(request, staff.issuer, claims["sub"], claimed_name(claims, staff.claims))
            if citizens is not None:
                return applicant_principal(citizens.verify(token), citizens.claims)
        return read_token(state.signing_key, token, state.token_max_lifetime)
    if cookie:
        signed_in = read_session_cookie(state.signing_key, cookie)
        check_same_origin(request, state.public_base_url)
        if isinstance(signed_in, StaffSession):
            staff = state.staff_oidc
            if staff is None or staff.issuer != signed_in.issuer:
                raise Unauthenticated("the session is of a staff sign-in this server no longer accepts",
                                      hint="sign in again at /auth/staff/login")
            return registered_staff(request, signed_in.issuer, signed_in.subject, signed_in.name)
        return signed_in
    hint = ("send `Authorization: Bearer <token>`" + (", or sign in at /auth/login" if state.oidc else "")
            + (" (staff: /auth/staff/login)" if state.staff_oidc else ""))
    raise Unauthenticated("authentication required", hint=hint)


def registered_staff(request: Request, issuer: str, subject: str, name: str | None) -> Principal:
    """Who the staff register says a staff sign-in is (Forbidden when the person is not, or no longer, in it)."""
    with query(request.app.state.engine) as session:
        return staff_principal(session, issuer, subject, name)


EngineDep = Annotated[LicensingEngine, Depends(get_engine)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


@contextmanager
def command(engine: LicensingEngine, background: BackgroundTasks) -> Iterator[Session]:
    """One transaction per command; its side effects are dispatched only after it commits."""
    with transaction(engine.db) as session:
        yield session
    background.add_task(engine.dispatch)


@contextmanager
def query(engine: LicensingEngine) -> Iterator[Session]:
    """A read: it does not wait for, nor hold up, commands and other reads (it must not write)."""
    with read_session(engine.db) as session:
        yield session
