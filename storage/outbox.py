"""Transactional outbox: side effects recorded with the state change, run after commit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class JobState(StrEnum):
    """An outbox row is pending until handed to a queue (dispatched), then done, or failed after its last attempt."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    DONE = "done"
    FAILED = "failed"


class OutboxRow(SQLModel, table=True):
    """A job to run once the transaction that wrote it has committed.

    The row id doubles as the job id, so a job enqueued twice runs once.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "state", "available_at"),)

    id: str = Field(primary_key=True, max_length=36)
    job: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=JobState.PENDING, max_length=20, description="pending|dispatched|done|failed")
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
