"""A licence case's process diagram: the BPMN it runs with the steps done and the current one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from bizportal.api.deps import EngineDep, PrincipalDep, query
from bizportal.engine.cases.diagram import CaseDiagram, case_diagram

router = APIRouter(prefix="/api/v1/applications/{application_id}/licences/{licence}", tags=["applications"])
Licence = Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9_]+$", description="the licence's code")]


@router.get("/process", response_model=CaseDiagram,
            summary="The case's process (BPMN XML, the version it runs), the steps done and where it stands now")
def process_diagram(application_id: str, licence: Licence, engine: EngineDep, principal: PrincipalDep) -> CaseDiagram:
    with query(engine) as session:
        return case_diagram(engine.ctx, session, principal, application_id, licence)
