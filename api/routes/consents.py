"""Consents to counter filing: the entrepreneur sees what a counter may do in their name, and withdraws it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Offset
from bizportal.engine.applications import consents
from bizportal.engine.applications.consents import ConsentView

router = APIRouter(prefix="/api/v1/consents", tags=["counter filing"])
ConsentId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$", description="the consent's id")]


@router.get("", response_model=list[ConsentView],
            summary="Consents in the caller's name (or their company's); a counter officer: their office's")
def list_consents(engine: EngineDep, principal: PrincipalDep, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                  offset: Offset = 0) -> list[ConsentView]:
    with query(engine) as session:
        now = engine.ctx.clock.now()
        return [ConsentView.of(row, now) for row in consents.consents_for(engine.ctx, session, principal, limit,
                                                                          offset)]


@router.post("/{consent_id}/withdraw", response_model=ConsentView,
             summary="Withdraw a consent: the counter no longer acts for you on that application",
             responses={404: {"description": "no such consent in your name"},
                        409: {"description": "already withdrawn"}})
def withdraw_consent(consent_id: ConsentId, engine: EngineDep, principal: PrincipalDep,
                     background: BackgroundTasks) -> ConsentView:
    with command(engine, background) as session:
        return ConsentView.of(consents.withdraw(engine.ctx, session, principal, consent_id), engine.ctx.clock.now())
