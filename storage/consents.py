"""Consents to counter filing: an entrepreneur lets a one-stop counter file and act for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime


class ConsentMethod(StrEnum):
    """How the counter officer established the consent."""

    IN_PERSON = "identity_checked_in_person"  # the entrepreneur came, the officer checked them against the card
    SIGNED_AUTHORISATION = "signed_authorisation"  # a signed letter of authorisation, uploaded with the application


class CounterConsentRow(SQLModel, table=True):
    """One consent: who gave it, how, for which licences, to which officer and office, when and until when."""

    __tablename__ = "counter_consent"
    # Consents page newest first by keyset: in an entrepreneur's name, of a counter office, of an officer, all.
    __table_args__ = (Index("ix_counter_consent_entrepreneur_given", "entrepreneur", "given_at", "id"),
                      Index("ix_counter_consent_office_given", "office", "given_at", "id"),
                      Index("ix_counter_consent_officer_given", "officer", "given_at", "id"),
                      Index("ix_counter_consent_given", "given_at", "id"))

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(foreign_key="application.id", unique=True, max_length=36)
    entrepreneur: str = Field(index=True, max_length=13, description="ID number of the applicant it is for")
    given_by_id_number: str = Field(max_length=13, description="who consented: the applicant, or a person "
                                    "acting for a juristic applicant")
    given_by_name: str = Field(max_length=300)
    method: str = Field(max_length=40, description="identity_checked_in_person | signed_authorisation")
    licences: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    officer: str = Field(max_length=400, description="the counter officer who took it (audit label)")
    office: str | None = Field(default=None, index=True, max_length=40, description="the counter's office")
    given_at: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: str | None = Field(default=None, max_length=400)
