"""Who may act for a juristic person on the platform: its directors and the people it authorised."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime


class RepresentationBasis(StrEnum):
    """Why a person may act for the juristic person."""

    DIRECTOR = "director_per_registry"  # the company registry lists them as a director
    GRANTED = "granted_by_director"  # a director authorised them on the platform
    VERIFIED_AT_COUNTER = "verified_at_counter"  # a counter officer checked a signed letter of authorisation


class RepresentativeRow(SQLModel, table=True):
    __tablename__ = "company_representative"

    id: str = Field(primary_key=True, max_length=36)
    juristic_number: str = Field(index=True, max_length=13)
    id_number: str = Field(index=True, max_length=13, description="the person who may act for it")
    name: str | None = Field(default=None, max_length=300)
    basis: str = Field(max_length=40, description="director_per_registry | granted_by_director | verified_at_counter")
    granted_by: str = Field(max_length=400, description="who recorded it (audit label)")
    granted_at: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=400)
