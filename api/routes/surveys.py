"""The satisfaction survey of a decided licence: its applicant rates it once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.engine.applications import surveys
from bizportal.engine.applications.surveys import SurveyAnswer
from bizportal.engine.errors import NotFound
from bizportal.storage.surveys import SatisfactionSurveyRow

router = APIRouter(prefix="/api/v1/applications/{application_id}/licences/{licence}/survey", tags=["applications"])
Licence = Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9_]+$", description="the licence's code")]


class SurveyOut(BaseModel):
    licence: str
    rating: int
    comment: str
    answered_at: datetime

    @classmethod
    def of(cls, row: SatisfactionSurveyRow) -> SurveyOut:
        return cls(licence=row.licence_code, rating=row.rating, comment=row.comment, answered_at=row.answered_at)


@router.post("", status_code=201, response_model=SurveyOut,
             summary="Rate how a decided licence was handled (1-5 and a comment), once; it feeds /api/v1/kpis",
             responses={409: {"description": "not decided yet, or rated already"}})
def answer_survey(application_id: str, licence: Licence, body: SurveyAnswer, engine: EngineDep,
                  principal: PrincipalDep, background: BackgroundTasks) -> SurveyOut:
    with command(engine, background) as session:
        return SurveyOut.of(surveys.answer(engine.ctx, session, principal, application_id, licence, body))


@router.get("", response_model=SurveyOut, summary="The rating given, if any (404 until then)")
def read_survey(application_id: str, licence: Licence, engine: EngineDep, principal: PrincipalDep) -> SurveyOut:
    with query(engine) as session:
        row = surveys.answered(engine.ctx, session, principal, application_id, licence)
        if row is None:
            raise NotFound(f"{licence} of application {application_id} has not been rated",
                           hint="the applicant rates it with POST once it is decided")
        return SurveyOut.of(row)
