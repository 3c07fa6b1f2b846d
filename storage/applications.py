"""Applications and the licence cases they fan out to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class ApplicationRow(SQLModel, table=True):
    """One application: shared applicant and business data entered once."""

    __tablename__ = "application"
    # Lists page by keyset (engine/paging.py): the caller's applications newest first, by owner or by the
    # counter's office, and all of them (admins); the public register's area filters.
    __table_args__ = (UniqueConstraint("created_by", "idempotency_key", name="uq_application_idempotency"),
                      Index("ix_application_owner_created", "owner", "created_at", "id"),
                      Index("ix_application_office_created", "filed_at_office", "created_at", "id"),
                      Index("ix_application_created", "created_at", "id"),
                      Index("ix_application_area", "business_province", "business_district"),
                      # The inbox's number filter, a prefix of the tracking number (storage/prefix.py): a LIKE on
                      # PostgreSQL reads a range of an index with its pattern operators (in any collation). SQLite's
                      # byte-order range reads the unique index: there it duplicates that one (one schema for both).
                      Index("ix_application_tracking_prefix", "tracking_number",
                            postgresql_ops={"tracking_number": "text_pattern_ops"}))

    id: str = Field(primary_key=True, max_length=36)
    # The application is the applicant's: the person or juristic person it names, by 13-digit ID number
    # (engine/access.py). Who filed it is recorded apart, since a counter officer may file for them.
    owner: str = Field(index=True, max_length=200, description="ID number of the applicant it belongs to")
    created_by: str = Field(max_length=200, description="subject of who filed it")
    created_by_role: str = Field(max_length=40, description="role of who filed it: applicant | counter_officer")
    filed_at_office: str | None = Field(default=None, index=True, max_length=40,
                                        description="the counter's office, for an application filed at a counter")
    idempotency_key: str | None = Field(default=None, max_length=200)
    idempotency_fingerprint: str | None = Field(default=None, max_length=64,
                                                description="sha256 of the request the key was first used with")
    applicant_kind: str = Field(max_length=20)
    applicant_id_number: str = Field(max_length=13)
    applicant_name: str = Field(max_length=300)
    applicant_email: str | None = Field(default=None, max_length=320)
    language: str = Field(default="th", max_length=2, description="th or en: notifications' language")
    business_name: str = Field(max_length=300)
    business_address: str = Field(max_length=1000)
    business_province: str = Field(max_length=100)
    business_district: str | None = Field(default=None, max_length=100)
    business_area_m2: float
    form: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Document ids the data exchange provided, so the applicant is never asked to upload them.
    obtained_documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", index=True, max_length=40)
    tracking_number: str | None = Field(default=None, unique=True, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LicenceCaseRow(SQLModel, table=True):
    """One licence requested in an application; runs as one process instance."""

    __tablename__ = "licence_case"
    __table_args__ = (UniqueConstraint("application_id", "licence_code", name="uq_case_licence"),)

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    licence_code: str = Field(index=True, max_length=100)
    agency: str = Field(index=True, max_length=40)
    office: str | None = Field(default=None, index=True, max_length=40,
                               description="the local office handling it (local-government licences)")
    instance_id: str | None = Field(default=None, foreign_key="workflow_instance.id", index=True, max_length=36)
    status: str = Field(default="draft", index=True, max_length=40)
    current_step: str | None = Field(default=None, max_length=200)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    licence_number: str | None = Field(default=None, max_length=60)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str = Field(default="new", max_length=20, description="new | renewal | amendment | cancellation")
    subject_licence: str | None = Field(default=None, index=True, max_length=60,
                                        description="the issued licence a renewal, amendment or cancellation is about")
    # What the holder asked for (the reason; an amendment's changed details), shown to the officer.
    request_details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The documents (manual codes) the agency asked for, once (Licensing Facilitation Act s.8), and when.
    requested_documents: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    documents_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
