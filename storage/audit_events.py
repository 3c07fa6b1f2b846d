"""The audit trail: who did what, when. The applicant's timeline is a view of it.

Each entry is a link of a hash chain (`position`, `prev_hash`, `hash`), filled in as its transaction commits:
`storage/audit_chain.py` says how, `storage/audit_verification.py` checks it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class AuditEventRow(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str | None = Field(default=None, index=True, max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=200, description="subject, or 'system'")
    actor_role: str = Field(max_length=40)
    event: str = Field(max_length=100)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Empty only until the entry's transaction commits (`audit_chain.seal`): a committed entry without them was
    # written around the unit of work, and the verification says so.
    position: int | None = Field(default=None, unique=True, index=True, description="1, 2, ... in commit order")
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
