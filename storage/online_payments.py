"""Online payments (Stripe, PromptPay): one payment may settle several invoices; provider events once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class OnlinePaymentState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DUPLICATE = "duplicate"  # paid twice: refunded
    REFUNDED = "refunded"  # refunded at the provider before its success settled anything


class OnlinePaymentRow(SQLModel, table=True):
    __tablename__ = "online_payment"

    id: str = Field(primary_key=True, max_length=36, description="also the idempotency key sent to the provider")
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    provider: str = Field(max_length=40)
    provider_reference: str | None = Field(default=None, index=True, max_length=100)
    reference: str = Field(unique=True, max_length=20, description="short reference payers see; reconciles QR")
    amount_satang: int
    currency: str = Field(default="THB", max_length=3)
    state: str = Field(default=OnlinePaymentState.PENDING, max_length=20,
                       description="pending|succeeded|failed|duplicate (paid twice: refunded)|"
                                   "refunded (at the provider, before it settled anything)")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refund_reference: str | None = Field(default=None, max_length=100)


class PaymentInvoiceRow(SQLModel, table=True):
    """Which invoices a payment settles."""

    __tablename__ = "payment_invoice"
    __table_args__ = (PrimaryKeyConstraint("payment_id", "invoice_id"),)

    payment_id: str = Field(foreign_key="online_payment.id", max_length=36)
    invoice_id: str = Field(foreign_key="invoice.id", index=True, max_length=36)


class PaymentEventRow(SQLModel, table=True):
    """A verified provider notification, stored once: a duplicate delivery changes nothing."""

    __tablename__ = "payment_event"
    __table_args__ = (PrimaryKeyConstraint("provider", "event_id"),)

    provider: str = Field(max_length=40)
    event_id: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    payment_id: str | None = Field(default=None, max_length=36)
    amount_satang: int
    currency: str = Field(max_length=3)
    outcome: str = Field(max_length=40, description="applied|amount_mismatch|unknown_payment|duplicate_payment|ignored")
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
