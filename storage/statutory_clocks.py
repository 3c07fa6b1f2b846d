"""The statutory clock of each licence case (Licensing Facilitation Act B.E. 2558, ss.8 and 10).

One row per case whose process has started: when the agency's clock started, the working days the
manual allows, the pauses while the applicant owed documents, the total deadline, the decision and
the Section 10 notices. The notice scan reads only `next_notice_at` (indexed); the KPIs read only
this table and `licence_case`. No workflow is loaded for either.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime


class CaseClockRow(SQLModel, table=True):
    __tablename__ = "case_clock"
    # Escalated cases still undecided page by keyset, the longest overdue (earliest due) first.
    __table_args__ = (Index("ix_case_clock_escalated", "decided_at", "escalated_at", "due_at", "case_id"),)

    case_id: str = Field(primary_key=True, foreign_key="licence_case.id", max_length=36)
    started_at: datetime = Field(sa_type=UTCDateTime, description="the case's process start: the agency's clock")
    budget_working_days: int = Field(description="the manual's total working days (s.7)")
    paused_since: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                          description="set while the applicant owes documents (s.8)")
    paused_working_days: int = Field(default=0, description="working days of the pauses that ended")
    due_at: datetime = Field(sa_type=UTCDateTime,
                             description="the total deadline: budget + paused working days after started_at")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_notice_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime,
                                            description="when the next Section 10 notice is due; null: none")
    last_notice_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notices_sent: int = Field(default=0)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                          description="when the overrun went to the agency's supervisor")
