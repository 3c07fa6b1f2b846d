"""What a one-stop counter's cash desk reads: the invoices due on the applications its office may reach, and the
receipt of cash it took.

Taking the cash is `invoices.record_counter_payment` (any counter officer, any invoice); which invoices the desk
*lists* follows the counter's reach over applications (engine/access.py `owner_filter`: those its office filed,
while the entrepreneur's consent holds), so a counter never browses other people's bills.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bizportal.engine.access import owner_filter
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import NotFound
from bizportal.engine.payments.receipts import COUNTER, readable_receipt
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus, PaymentRow
from bizportal.storage.receipts import ReceiptRow


class InvoiceLine(BaseModel):
    """An invoice with what the cashier reads out to the payer: whose, for which business and licence, how much."""

    invoice_id: str
    application_id: str
    tracking_number: str | None
    applicant_name: str
    business_name: str
    licence: str
    amount_satang: int
    currency: str

    @classmethod
    def fields_of(cls, invoice: InvoiceRow, application: ApplicationRow, case: LicenceCaseRow) -> dict[str, Any]:
        return {"invoice_id": invoice.id, "application_id": application.id,
                "tracking_number": application.tracking_number, "applicant_name": application.applicant_name,
                "business_name": application.business_name, "licence": case.licence_code,
                "amount_satang": invoice.amount_satang, "currency": invoice.currency}


class DueInvoice(InvoiceLine):
    """An open invoice, and when it expires unpaid."""

    due_at: datetime | None


class CounterReceipt(InvoiceLine):
    """An invoice paid in cash and its receipt; `receipt_number` is None until the worker has issued it."""

    paid_at: datetime | None
    receipt_number: str | None
    receipt_issued_at: datetime | None


def due_invoices(ctx: EngineContext, session: Session, principal: Principal, limit: int = 50,
                 offset: int = 0) -> list[DueInvoice]:
    """Open invoices of the applications the caller reaches as their applicant (a counter: its office's filings
    under consent), the soonest due first."""
    query = (select(InvoiceRow, ApplicationRow, LicenceCaseRow)
             .join(ApplicationRow, col(ApplicationRow.id) == col(InvoiceRow.application_id))
             .join(LicenceCaseRow, col(LicenceCaseRow.id) == col(InvoiceRow.licence_case_id))
             .where(col(InvoiceRow.status) == InvoiceStatus.OPEN, owner_filter(principal, ctx.clock.now()))
             .order_by(col(InvoiceRow.due_at), col(InvoiceRow.id)).limit(limit).offset(offset))
    return [DueInvoice(**DueInvoice.fields_of(invoice, application, case), due_at=invoice.due_at)
            for invoice, application, case in session.exec(query)]


def counter_receipt(ctx: EngineContext, session: Session, principal: Principal, invoice_id: str) -> CounterReceipt:
    """The invoice the caller took cash for, and its receipt once issued.

    Raises:
        NotFound: no such invoice, not paid in cash by the caller (the officer who took it prints it), nor an
            invoice of an application the caller may read.
    """
    missing = NotFound(f"no cash payment of invoice {invoice_id} is yours to print",
                       hint="the receipt is printed by the officer who took the cash")
    if principal.role not in (Role.COUNTER_OFFICER, Role.AGENCY_OFFICER, Role.ADMIN):
        raise missing
    found = session.exec(select(InvoiceRow, PaymentRow, ApplicationRow, LicenceCaseRow)
                         .join(PaymentRow, col(PaymentRow.invoice_id) == col(InvoiceRow.id))
                         .join(ApplicationRow, col(ApplicationRow.id) == col(InvoiceRow.application_id))
                         .join(LicenceCaseRow, col(LicenceCaseRow.id) == col(InvoiceRow.licence_case_id))
                         .where(col(InvoiceRow.id) == invoice_id)).first()
    if found is None:
        raise missing
    invoice, payment, application, case = found
    if payment.recorded_by != principal.label and principal.role != Role.ADMIN:
        raise missing
    receipt = session.exec(select(ReceiptRow).where(ReceiptRow.source == COUNTER,
                                                    ReceiptRow.payment_id == payment.id)).first()
    if receipt is not None:
        readable_receipt(ctx, session, principal, receipt.number)  # the receipt's own rule, asked once more
    return CounterReceipt(**CounterReceipt.fields_of(invoice, application, case), paid_at=invoice.paid_at,
                          receipt_number=receipt.number if receipt else None,
                          receipt_issued_at=receipt.issued_at if receipt else None)
