"""The public register, and the agency's revocation and suspension of a licence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from pydantic import BaseModel

from bizportal.api.deps import PortalDep, PrincipalDep, command, query
from bizportal.api.pagination import Offset
from bizportal.engine import licence_standing, public_register
from bizportal.engine.licence_standing import Action, StandingChange
from bizportal.engine.public_register import RegisterEntry

router = APIRouter(tags=["issued licences"])


@router.get("/api/v1/register", response_model=list[RegisterEntry],
            summary="Public register of licences the law requires to be displayed (no personal data)")
def register(portal: PortalDep, q: Annotated[str | None, Query(max_length=200, description="business name or "
                                                                "licence number")] = None,
             province: Annotated[str | None, Query(max_length=100)] = None,
             district: Annotated[str | None, Query(max_length=100)] = None,
             limit: Annotated[int, Query(ge=1, le=200)] = 50,
             offset: Offset = 0) -> list[RegisterEntry]:
    with query(portal) as session:
        return public_register.search(session, portal.ctx.catalogue, q, province, district, limit, offset)


class Standing(BaseModel):
    number: str
    status: str


@router.post("/api/v1/issued-licences/{number}/{action}", response_model=Standing,
             summary="Revoke, suspend or reinstate a licence (its issuing agency), with a reason")
def change_standing(number: str, action: Action, body: StandingChange, portal: PortalDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> Standing:
    with command(portal, background) as session:
        issued = licence_standing.change_standing(portal.ctx, session, principal, number, action, body)
        return Standing(number=issued.number, status=issued.status)
