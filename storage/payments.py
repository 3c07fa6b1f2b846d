"""Invoices and the payments recorded against them. Money is integer satang.

A licence case has at most one invoice (unique `licence_case_id`): `invoice_of_case` finds it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, select

from bizportal.storage.columns import UTCDateTime, utcnow


class InvoiceStatus(StrEnum):
    """Only an open invoice can be paid; a paid one may be refunded."""

    OPEN = "open"
    PAID = "paid"
    WAIVED = "waived"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class InvoiceRow(SQLModel, table=True):
    __tablename__ = "invoice"

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    licence_case_id: str = Field(foreign_key="licence_case.id", unique=True, max_length=36)
    agency: str = Field(max_length=40)
    amount_satang: int
    currency: str = Field(default="THB", max_length=3)
    status: str = Field(default=InvoiceStatus.OPEN, max_length=20,
                        description="open|paid|waived|cancelled|expired|refunded")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                    description="unpaid by then, the invoice expires (the process's payment timer)")
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaymentRow(SQLModel, table=True):
    __tablename__ = "payment"

    id: str = Field(primary_key=True, max_length=36)
    invoice_id: str = Field(foreign_key="invoice.id", unique=True, max_length=36,
                            description="unique: an invoice is paid once, a second recording is refused")
    provider: str = Field(max_length=40)
    amount_satang: int
    currency: str = Field(default="THB", max_length=3)
    recorded_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def invoice_of_case(session: Session, case_id: str) -> InvoiceRow | None:
    """The invoice raised for a licence case, if its process raised one yet."""
    return session.exec(select(InvoiceRow).where(InvoiceRow.licence_case_id == case_id)).first()
