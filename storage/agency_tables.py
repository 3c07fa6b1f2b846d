"""Steps delivered to agencies' own systems, the callbacks they sent back, and incidents for admins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class DeliveryState(StrEnum):
    """A task delivery is retried while pending; cancelled when the task closed or the agency moved to the inbox."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class IncidentState(StrEnum):
    """An incident is open until an administrator retries it, or the work it is about succeeds."""

    OPEN = "open"
    RETRIED = "retried"
    RESOLVED = "resolved"


class TaskDeliveryRow(SQLModel, table=True):
    """One human task handed to an agency's system through its adapter; retried until delivered or failed."""

    __tablename__ = "task_delivery"

    id: str = Field(primary_key=True, max_length=36, description="the delivery id (the idempotency key sent)")
    task_id: str = Field(foreign_key="human_task.id", index=True, max_length=36)
    agency: str = Field(index=True, max_length=40)
    state: str = Field(default=DeliveryState.PENDING, max_length=20, description="pending|delivered|failed|cancelled")
    attempts: int = Field(default=0, description="attempts since the delivery was (re)started")
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    external_reference: str | None = Field(default=None, max_length=200, description="the agency's own id")


class AgencyCallbackRow(SQLModel, table=True):
    """A processed callback; its id is the key that makes a callback sent twice change nothing."""

    __tablename__ = "agency_callback"

    callback_id: str = Field(primary_key=True, max_length=200)
    agency: str = Field(max_length=40)
    task_id: str = Field(index=True, max_length=36)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    outcome: str = Field(max_length=40, description="what the callback did: completed")
    decision: str = Field(max_length=60)
    officer: str = Field(max_length=150)


class IncidentRow(SQLModel, table=True):
    """Something automatic gave up (a delivery, or an outbox job, after its last retry) and needs an administrator."""

    __tablename__ = "incident"
    # Incidents page newest first by keyset, all of them or in one state.
    __table_args__ = (Index("ix_incident_created", "created_at", "id"),
                      Index("ix_incident_state_created", "state", "created_at", "id"))

    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=40, description="task_delivery | outbox_job (a job that gave up)")
    reference: str = Field(index=True, max_length=200, description="what failed: the delivery or outbox job id")
    agency: str | None = Field(default=None, max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default=IncidentState.OPEN, max_length=20, description="open|retried|resolved")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
