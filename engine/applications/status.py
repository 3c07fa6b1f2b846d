"""An application's status at a glance: what the tracking page shows and the live status stream sends.

Read from the projections only (the application and its licence cases), so it is cheap to ask again and
again; `version` changes whenever anything shown changes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from bizportal.engine.access import readable_application
from bizportal.engine.context import EngineContext
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import TERMINAL
from bizportal.storage.applications import LicenceCaseRow


class LicenceStatus(BaseModel):
    code: str
    status: str
    current_step: str | None
    due_at: datetime | None
    licence_number: str | None


class StatusSnapshot(BaseModel):
    application_id: str
    status: str
    tracking_number: str | None
    licences: list[LicenceStatus]
    finished: bool = Field(description="every licence has reached its end: nothing will change any more")
    version: str = Field(description="changes whenever anything above changes")


def snapshot(ctx: EngineContext, session: Session, principal: Principal, application_id: str) -> StatusSnapshot:
    """The application's status and each licence's step, for whoever may read the application.

    Raises:
        NotFound: no such application, or not the caller's to see.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)
                         .order_by(col(LicenceCaseRow.licence_code))).all()
    licences = [LicenceStatus(code=c.licence_code, status=c.status, current_step=c.current_step, due_at=c.due_at,
                              licence_number=c.licence_number) for c in cases]
    shown = f"{application.status}|{application.tracking_number}|" + "|".join(
        licence.model_dump_json() for licence in licences)
    return StatusSnapshot(application_id=application.id, status=application.status,
                          tracking_number=application.tracking_number, licences=licences,
                          finished=bool(cases) and all(c.status in TERMINAL for c in cases),
                          version=hashlib.sha256(shown.encode()).hexdigest()[:16])
