"""Issued e-licences: the record behind each stored PDF."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class LicenceStanding(StrEnum):
    """An issued licence's standing: set by the agency, given up by the holder, or ended by a successor."""

    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    RENEWED = "renewed"
    REPLACED = "replaced"


class IssuedLicenceRow(SQLModel, table=True):
    __tablename__ = "issued_licence"
    # The public register pages newest first by keyset (issued_on, number).
    __table_args__ = (Index("ix_issued_licence_register", "issued_on", "number"),)

    number: str = Field(primary_key=True, max_length=60)
    licence_case_id: str = Field(foreign_key="licence_case.id", unique=True, max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    licence_code: str = Field(max_length=100)
    agency: str = Field(max_length=40)
    holder_name: str = Field(max_length=300)
    holder_id_number: str = Field(index=True, max_length=13,
                                  description="ID number of the person or juristic person holding it")
    business_name: str = Field(max_length=300)
    issued_on: date
    valid_until: date | None = None
    status: str = Field(default=LicenceStanding.VALID, max_length=20,
                        description="valid | suspended | revoked (the agency) | cancelled (given up by the holder) "
                                    "| renewed | replaced (a successor was issued)")
    pdf_key: str = Field(max_length=200)
    pdf_sha256: str = Field(max_length=64)
    pdf_size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A renewal or an amendment issues a new e-licence; the two records point at each other.
    predecessor_number: str | None = Field(default=None, max_length=60,
                                           description="the licence this one renewed or replaced")
    successor_number: str | None = Field(default=None, max_length=60,
                                         description="the licence that renewed or replaced this one")
    # Renewal reminders: the periodic scan reads only this indexed day (None: nothing more to remind of).
    next_reminder_on: date | None = Field(default=None, index=True)
    last_reminder_days: int | None = Field(default=None, description="days before expiry of the last reminder sent")
