"""The e-receipt: an A4 PDF for one payment, one line per invoice it settled.

Laid out by `document_templates/receipt.xml.j2` and drawn by `pdf_layout`, like the e-licence. It
names the payer but never their ID number (PDPA). Deterministic: the same `ReceiptDocument` gives
byte-identical output (the creation date is the time of payment, never the clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bizportal.engine.clock import BANGKOK
from bizportal.engine.documents.layout import render_pdf


@dataclass(frozen=True)
class ReceiptLine:
    """One invoice the payment settled: a licence's fee, payable to its agency."""

    licence_name_th: str
    licence_name_en: str
    agency_name_th: str
    agency_name_en: str
    amount_satang: int


@dataclass(frozen=True)
class Cashier:
    """The officer who took the cash at a counter, as the receipt names them: by their display name when
    their sign-in carried one, otherwise by role and user id ("Counter officer (carl)")."""

    role: str  # a Role value: counter_officer, agency_officer or admin
    subject: str
    name: str | None = None


@dataclass(frozen=True)
class ReceiptDocument:
    """Everything printed on one e-receipt.

    `method` is "counter" or the online provider's name ("stripe", "promptpay"); the template names
    the known ones in Thai and English. `recorded_by` is the officer who took cash at a counter.
    """

    receipt_number: str
    paid_at: datetime
    payer_name: str
    tracking_number: str
    method: str
    payment_reference: str
    lines: tuple[ReceiptLine, ...]
    currency: str
    recorded_by: Cashier | None
    record_url: str

    @property
    def total_satang(self) -> int:
        return sum(line.amount_satang for line in self.lines)


def render_receipt_pdf(doc: ReceiptDocument) -> bytes:
    """Render `doc` as an A4 receipt; identical input gives identical bytes.

    Raises:
        ValueError: `paid_at` is naive (times print in Bangkok time) or the receipt has no line.
    """
    if doc.paid_at.tzinfo is None:
        raise ValueError("paid_at must be timezone-aware")
    if not doc.lines:
        raise ValueError(f"receipt {doc.receipt_number} has no line")
    # The same instant gives the same bytes whatever zone the caller's datetime carries.
    return render_pdf("receipt.xml.j2", {"doc": doc, "created": doc.paid_at.astimezone(BANGKOK)})
