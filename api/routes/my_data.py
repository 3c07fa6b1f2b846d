"""The signed-in person's own data, downloadable (PDPA access)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from bizportal.api.deps import EngineDep, PrincipalDep, command
from bizportal.engine.privacy import personal_data
from bizportal.engine.privacy.personal_data import PersonalData

router = APIRouter(prefix="/api/v1/me", tags=["sign-in"])


@router.get("/data", response_model=PersonalData,
            summary="Everything the platform holds about me, as one JSON download (PDPA access)",
            responses={403: {"description": "not an applicant signed in with an ID number"}})
def my_data(engine: EngineDep, principal: PrincipalDep, background: BackgroundTasks,
            response: Response) -> PersonalData:
    with command(engine, background) as session:  # a command: each export goes on the audit trail
        data = personal_data.export(engine.ctx, session, principal)
    day = data.exported_at.date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="bizportal-my-data-{day}.json"'
    return data
