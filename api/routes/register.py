"""The public register, and the agency's revocation and suspension of a licence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, Offset, decode, limit_param, paged_responses, with_next
from bizportal.engine.licences import public_register, standing
from bizportal.engine.licences.public_register import RegisterEntry
from bizportal.engine.licences.standing import Action, StandingChange

router = APIRouter(tags=["issued licences"])


@router.get("/api/v1/register", response_model=list[RegisterEntry],
            summary="Public register of licences the law requires to be displayed (no personal data), newest first",
            responses=paged_responses())
def register(request: Request, response: Response, engine: EngineDep,
             q: Annotated[str | None, Query(max_length=200, description="business name or licence number")] = None,
             province: Annotated[str | None, Query(max_length=100)] = None,
             district: Annotated[str | None, Query(max_length=100)] = None,
             limit: Annotated[int, limit_param(200)] = 50, cursor: Cursor = None,
             offset: Offset = 0) -> list[RegisterEntry]:
    with query(engine) as session:
        return with_next(request, response, public_register.search(session, engine.ctx.catalogue, q, province,
                                                                   district, limit, offset, decode(cursor)))


class Standing(BaseModel):
    number: str
    status: str


@router.post("/api/v1/issued-licences/{number}/{action}", response_model=Standing,
             summary="Revoke, suspend or reinstate a licence (its issuing agency), with a reason")
def change_standing(number: str, action: Action, body: StandingChange, engine: EngineDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> Standing:
    with command(engine, background) as session:
        issued = standing.change_standing(engine.ctx, session, principal, number, action, body)
        return Standing(number=issued.number, status=issued.status)
