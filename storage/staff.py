"""The staff register: who may sign in as an officer, a counter officer or an administrator, and where they work.

A person is named by the OpenID provider that signs them in (`issuer`) and its `sub` for them (`subject`);
their role, agency and office are the register's, never a claim the person controls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class StaffMemberRow(SQLModel, table=True):
    __tablename__ = "staff_member"
    # The register pages oldest first by keyset, all entries or only (in)active ones.
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_staff_member_issuer_subject"),
                      Index("ix_staff_member_created", "created_at", "id"),
                      Index("ix_staff_member_active_created", "active", "created_at", "id"))

    id: str = Field(primary_key=True, max_length=36)
    issuer: str = Field(max_length=500, description="the staff provider's issuer URL, without a trailing /")
    subject: str = Field(max_length=255, description="the provider's `sub` for the person")
    name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=40, description="counter_officer|agency_officer|agency_supervisor|admin")
    agency: str | None = Field(default=None, max_length=40)
    office: str | None = Field(default=None, max_length=40)
    active: bool = Field(default=True, description="false: the person can no longer sign in (kept for the audit)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200, description="the actor's audit label")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(max_length=200)
    # A retried POST with the same Idempotency-Key (from the same administrator) gets this entry back.
    idempotency_key: str | None = Field(default=None, max_length=200)
    idempotency_fingerprint: str | None = Field(default=None, max_length=64)
