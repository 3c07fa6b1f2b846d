"""The staff register: administrators add, list, read and change staff (their role, agency, office, active)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Path, Query, Request, Response

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, Offset, decode, limit_param, paged_responses, with_next
from bizportal.engine.staff import register
from bizportal.engine.staff.register import StaffChange, StaffInput, StaffMember

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])

MemberId = Annotated[str, Path(max_length=36, description="the entry's id")]


@router.post("", status_code=201, response_model=StaffMember,
             summary="Add a person to the staff register (admins only); the same issuer and subject twice is a 409",
             responses={200: {"description": "replay of an earlier request with the same Idempotency-Key"}})
def add_staff_member(body: StaffInput, engine: EngineDep, principal: PrincipalDep, background: BackgroundTasks,
                     response: Response,
                     idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> StaffMember:
    with command(engine, background) as session:
        member, created = register.add(engine.ctx, session, principal, body, idempotency_key)
    if not created:
        response.status_code = 200
    return member


@router.get("", response_model=list[StaffMember], summary="The staff register, oldest entry first (admins only)",
            responses=paged_responses())
def list_staff(request: Request, response: Response, engine: EngineDep, principal: PrincipalDep,
               active: Annotated[bool | None, Query(description="only active (true) or deactivated (false) "
                                                    "entries")] = None,
               limit: Annotated[int, limit_param(500)] = 100, cursor: Cursor = None,
               offset: Offset = 0) -> list[StaffMember]:
    with query(engine) as session:
        return with_next(request, response, register.list_members(session, principal, limit, offset, active,
                                                                  decode(cursor)))


@router.get("/{member_id}", response_model=StaffMember, summary="One entry of the staff register (admins only)")
def get_staff_member(member_id: MemberId, engine: EngineDep,
                     principal: PrincipalDep) -> StaffMember:
    with query(engine) as session:
        return register.get(session, principal, member_id)


@router.patch("/{member_id}", response_model=StaffMember,
              summary="Change a staff member's role, agency, office, name or active flag (admins only); a "
                      "deactivated member loses access on their next request")
def change_staff_member(member_id: MemberId, body: StaffChange, engine: EngineDep, principal: PrincipalDep,
                        background: BackgroundTasks) -> StaffMember:
    with command(engine, background) as session:
        return register.change(engine.ctx, session, principal, member_id, body)
