"""Request-scoped dependencies: the engine, the caller, and the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from bizportal.api.tokens import read_token
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Unauthenticated
from bizportal.engine.principal import Principal
from bizportal.storage.database import read_session, transaction

bearer = HTTPBearer(auto_error=False, description="JWT from Digital ID sign-in or `bizportal token`")


def get_engine(request: Request) -> LicensingEngine:
    return request.app.state.engine


def current_principal(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None:
        raise Unauthenticated("authentication required", hint="send `Authorization: Bearer <token>`")
    return read_token(request.app.state.signing_key, credentials.credentials, request.app.state.token_max_lifetime)


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
