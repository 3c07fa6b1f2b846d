"""Who acts for a juristic person: its directors list, authorise and revoke the people who file for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request, Response

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, decode, limit_param, paged_responses, with_next
from bizportal.engine.applications import representatives
from bizportal.engine.applications.representatives import RepresentativeInput, RepresentativeView

router = APIRouter(prefix="/api/v1/companies/{juristic_number}/representatives", tags=["acting for a company"])
JuristicNumber = Annotated[str, Path(pattern=r"^0\d{12}$", description="the 13-digit juristic-person registration "
                                     "number (starts with 0)")]
RepresentativeId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]


@router.get("", response_model=list[RepresentativeView],
            summary="The people who act for the juristic person (for them and admins), oldest grant first",
            responses=paged_responses())
def list_representatives(juristic_number: JuristicNumber, request: Request, response: Response, engine: EngineDep,
                         principal: PrincipalDep, limit: Annotated[int, limit_param(500)] = 200,
                         cursor: Cursor = None) -> list[RepresentativeView]:
    with query(engine) as session:
        page = representatives.representatives_of(engine.ctx, session, principal, juristic_number, limit,
                                                  decode(cursor))
        return with_next(request, response, page.map(RepresentativeView.of))


@router.post("", status_code=201, response_model=RepresentativeView,
             summary="Authorise a person to act for the juristic person: by a director, or by a counter officer "
                     "who checked its signed letter of authorisation",
             responses={403: {"description": "the caller is neither"},
                        409: {"description": "the person already acts for it"}})
def authorise_representative(juristic_number: JuristicNumber, body: RepresentativeInput, engine: EngineDep,
                             principal: PrincipalDep, background: BackgroundTasks) -> RepresentativeView:
    with command(engine, background) as session:
        return RepresentativeView.of(representatives.grant(engine.ctx, session, principal, juristic_number, body))


@router.post("/{representative_id}/revoke", response_model=RepresentativeView,
             summary="End an authorisation (a director, the person themselves, or an admin)",
             responses={404: {"description": "no such authorisation of this juristic person"},
                        409: {"description": "already revoked"}})
def revoke_representative(juristic_number: JuristicNumber, representative_id: RepresentativeId, engine: EngineDep,
                          principal: PrincipalDep, background: BackgroundTasks) -> RepresentativeView:
    with command(engine, background) as session:
        row = representatives.revoke(engine.ctx, session, principal, juristic_number, representative_id)
        return RepresentativeView.of(row)
