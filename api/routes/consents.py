"""Consents to counter filing: the entrepreneur sees what a counter may do in their name, and withdraws it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request, Response

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, Offset, decode, limit_param, paged_responses, with_next
from bizportal.engine.applications import consents
from bizportal.engine.applications.consents import ConsentView

router = APIRouter(prefix="/api/v1/consents", tags=["counter filing"])
ConsentId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$", description="the consent's id")]


@router.get("", response_model=list[ConsentView],
            summary="Consents in the caller's name (or their company's); a counter officer: their office's. Newest "
                    "first", responses=paged_responses())
def list_consents(request: Request, response: Response, engine: EngineDep, principal: PrincipalDep,
                  limit: Annotated[int, limit_param(500)] = 100, cursor: Cursor = None,
                  offset: Offset = 0) -> list[ConsentView]:
    with query(engine) as session:
        now = engine.ctx.clock.now()
        page = consents.consents_for(engine.ctx, session, principal, limit, offset, cursor=decode(cursor))
        return with_next(request, response, page.map(lambda row: ConsentView.of(row, now)))


@router.post("/{consent_id}/withdraw", response_model=ConsentView,
             summary="Withdraw a consent: the counter no longer acts for you on that application",
             responses={404: {"description": "no such consent in your name"},
                        409: {"description": "already withdrawn"}})
def withdraw_consent(consent_id: ConsentId, engine: EngineDep, principal: PrincipalDep,
                     background: BackgroundTasks) -> ConsentView:
    with command(engine, background) as session:
        return ConsentView.of(consents.withdraw(engine.ctx, session, principal, consent_id), engine.ctx.clock.now())
