"""The counter's look-up of an entrepreneur in the registry."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query

from bizportal.api.deps import EngineDep, PrincipalDep, command
from bizportal.engine.applications import entrepreneurs
from bizportal.engine.applications.entrepreneurs import Entrepreneur

router = APIRouter(prefix="/api/v1/entrepreneurs", tags=["counter filing"])


@router.get("/{id_number}", response_model=Entrepreneur,
            summary="Counter officers: the registry's name and address for an ID number typed from the card",
            responses={404: {"description": "no registry is configured on this server"},
                       503: {"description": "the registry cannot answer now"}})
def look_up_entrepreneur(id_number: Annotated[str, Path(pattern=r"^[0-9]{13}$")], engine: EngineDep,
                         principal: PrincipalDep, background: BackgroundTasks,
                         kind: Annotated[Literal["individual", "juristic"], Query()] = "individual") -> Entrepreneur:
    with command(engine, background) as session:  # a command: the look-up goes on the audit trail
        return entrepreneurs.look_up(engine.ctx, session, principal, kind, id_number)
