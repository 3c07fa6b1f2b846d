"""The satisfaction survey: after a licence is decided, its applicant rates how it was handled (1-5, and a
comment), once per licence case. The ratings feed the performance figures (engine/reporting/kpis.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from bizportal.engine import audit
from bizportal.engine.access import is_party, readable_application
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, NotFound
from bizportal.engine.input_text import text
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import Status
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.surveys import SatisfactionSurveyRow

DECIDED = (Status.ISSUED, Status.REJECTED)


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: Annotated[str, text(2000)] = ""


def _case(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
          licence: str) -> tuple[ApplicationRow, LicenceCaseRow]:
    application = readable_application(session, principal, application_id, ctx.clock.now())
    case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id,
                                                     LicenceCaseRow.licence_code == licence)).first()
    if case is None:
        raise NotFound(f"application {application_id} has no licence {licence!r}")
    return application, case


def answer(ctx: EngineContext, session: Session, principal: Principal, application_id: str, licence: str,
           data: SurveyAnswer) -> SatisfactionSurveyRow:
    """Record the applicant's rating of one decided licence case.

    Raises:
        NotFound: not the caller's application, or no such licence in it.
        Forbidden: not the applicant (their own opinion: a counter or an officer does not answer for them).
        Conflict: the licence is not decided yet, or was rated already.
    """
    now = ctx.clock.now()
    application, case = _case(ctx, session, principal, application_id, licence)
    if not is_party(session, principal, application.owner, now):
        raise Forbidden("only the applicant rates how their licence was handled")
    if case.status not in DECIDED:
        raise Conflict(f"{licence} is {case.status}: it can be rated once it is decided",
                       hint="come back when the licence is issued or refused")
    if session.exec(select(SatisfactionSurveyRow.id).where(SatisfactionSurveyRow.case_id == case.id)).first():
        raise Conflict(f"{licence} has been rated already", hint="each licence is rated once")
    row = SatisfactionSurveyRow(id=str(uuid.uuid4()), case_id=case.id, application_id=case.application_id,
                                licence_code=case.licence_code, agency=case.agency, rating=data.rating,
                                comment=data.comment, answered_by=principal.label, answered_at=now)
    session.add(row)
    audit.record(session, principal, "survey.answered", now, case.application_id, licence=licence, rating=data.rating)
    return row


def answered(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
             licence: str) -> SatisfactionSurveyRow | None:
    """The rating of one licence case, if given (for whoever may read the application)."""
    _, case = _case(ctx, session, principal, application_id, licence)
    return session.exec(select(SatisfactionSurveyRow).where(SatisfactionSurveyRow.case_id == case.id)).first()
