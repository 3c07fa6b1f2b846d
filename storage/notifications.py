"""Notifications: each message as rendered and addressed, and whether it went out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class NotificationRow(SQLModel, table=True):
    """One notification, stored before it is sent so the per-application log shows it either way.

    The row id is the notification's idempotency key (the e-mail Message-ID is built from it).
    `outbox_id` is the job that sends it: while the row is pending, that job's attempts and last
    error say how sending is going.
    """

    __tablename__ = "notification"

    id: str = Field(primary_key=True, max_length=36)
    application_id: str | None = Field(default=None, foreign_key="application.id", index=True, max_length=36)
    event: str = Field(max_length=60)
    lang: str = Field(max_length=2, description="th or en")
    channel: str = Field(max_length=40)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cc: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(max_length=500)
    body: str = Field(sa_column=Column(Text, nullable=False))
    links: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                        description="[{label, url}]: documents travel as links, never attached")
    state: str = Field(default=NotificationState.PENDING, max_length=20, description="pending|sent|failed")
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    message_id: str | None = Field(default=None, max_length=300, description="the channel's id once sent")
    outbox_id: str | None = Field(default=None, max_length=36, description="the send_notification job")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
