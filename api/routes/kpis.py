"""Performance indicators and the supervisor's list of escalated cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from bizportal.api.deps import EngineDep, PrincipalDep, query
from bizportal.api.pagination import Cursor, decode, limit_param, paged_responses, with_next
from bizportal.engine.deadlines.escalations import EscalatedCase, escalations
from bizportal.engine.reporting.kpis import KpiReport, kpis

router = APIRouter(prefix="/api/v1", tags=["performance"])


@router.get("/kpis", response_model=KpiReport,
            summary="Per licence and per agency: applications, median working days, share on time, overdue now")
def get_kpis(engine: EngineDep, principal: PrincipalDep) -> KpiReport:
    """Open to every signed-in user (`principal` only requires the token)."""
    with query(engine) as session:
        return kpis(session, engine.ctx.catalogue, engine.ctx.clock.now())


@router.get("/escalations", response_model=list[EscalatedCase],
            summary="Undecided cases past the manual's time, escalated to the agency's supervisor (Section 10)",
            responses=paged_responses())
def list_escalations(request: Request, response: Response, engine: EngineDep, principal: PrincipalDep,
                     limit: Annotated[int, limit_param(500)] = 200, cursor: Cursor = None) -> list[EscalatedCase]:
    with query(engine) as session:
        return with_next(request, response, escalations(session, principal, engine.ctx.clock.now(), limit,
                                                        decode(cursor)))
