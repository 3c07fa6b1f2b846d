"""Refunds: money paid for a licence that will not be issued, or paid for an invoice that was no longer open
(paid twice, withdrawn, expired), goes back once per invoice and payment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class RefundState(StrEnum):
    REQUESTED = "requested"  # the provider is being asked
    REFUNDED = "refunded"
    OWED = "owed"  # to be paid back by the agency: cash, or a provider without refunds


class RefundRow(SQLModel, table=True):
    __tablename__ = "refund"
    # A payment of an invoice is refunded at most once. An invoice may have two: the refund of the payment
    # that settled it (a withdrawal) and that of a second payment of it (paid twice).
    __table_args__ = (UniqueConstraint("invoice_id", "payment_id", name="uq_refund_invoice_payment"),)

    id: str = Field(primary_key=True, max_length=36, description="also the idempotency key sent to the provider")
    invoice_id: str = Field(foreign_key="invoice.id", max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    agency: str = Field(max_length=40)
    provider: str = Field(max_length=40, description="counter, stripe, promptpay, ...")
    payment_id: str = Field(max_length=36, description="the counter payment or online payment refunded")
    amount_satang: int
    currency: str = Field(default="THB", max_length=3)
    state: str = Field(default=RefundState.REQUESTED, max_length=20,
                       description="requested (the provider is being asked)|refunded|"
                                   "owed (to be paid back by the agency: cash, or a provider without refunds)")
    reason: str = Field(max_length=2000)
    requested_by: str = Field(max_length=200)
    provider_reference: str | None = Field(default=None, max_length=100)
    settled_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
