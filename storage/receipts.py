"""E-receipts: one per payment (a counter payment or an online payment), the record behind each stored PDF."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime, utcnow


class ReceiptRow(SQLModel, table=True):
    __tablename__ = "receipt"
    # A payment gets one receipt, even when its job is delivered twice.
    __table_args__ = (UniqueConstraint("source", "payment_id", name="uq_receipt_payment"),)

    number: str = Field(primary_key=True, max_length=40, description="BP-R-<B.E. year>-<6 digits>, gap-free")
    source: str = Field(max_length=20, description="counter (payment.id) or online (online_payment.id)")
    payment_id: str = Field(max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    amount_satang: int
    currency: str = Field(default="THB", max_length=3)
    pdf_key: str = Field(max_length=200)
    pdf_sha256: str = Field(max_length=64)
    pdf_size: int
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
