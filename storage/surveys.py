"""The entrepreneur's rating of how a licence case was handled: one per case, after its decision."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime


class SatisfactionSurveyRow(SQLModel, table=True):
    __tablename__ = "satisfaction_survey"

    id: str = Field(primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="licence_case.id", unique=True, max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    licence_code: str = Field(index=True, max_length=100)
    agency: str = Field(index=True, max_length=40)
    rating: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str = Field(default="", max_length=2000)
    answered_by: str = Field(max_length=400, description="audit label of who answered")
    answered_at: datetime = Field(sa_type=UTCDateTime)
