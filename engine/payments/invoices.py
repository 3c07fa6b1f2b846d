"""Fees: the invoice a licence's process raises, and payments recorded against it.

An invoice becomes paid one way, whatever the channel (cash at a counter, online, or waived when nothing is
due): it leaves `open` in one conditional UPDATE (`mark_paid`; a waived one is raised as `waived`), and then
`settle` tells its case's process `payment_received`, which moves the case on towards issuing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bizportal.engine import audit, outbox
from bizportal.engine.access import OFFICERS, in_scope
from bizportal.engine.cases.case import case_of, deliver_message
from bizportal.engine.context import EngineContext
from bizportal.engine.deadlines.working_days import calendar_deadline
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from bizportal.engine.payments import receipts
from bizportal.engine.payments.fees import fee_by_rule
from bizportal.engine.principal import SYSTEM, Principal, Role
from bizportal.engine.workflow.script_engine import ServiceCall
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus, PaymentRow, invoice_of_case
from bizportal.storage.workflow_tables import WorkflowInstanceRow


class CounterPaymentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_satang: int = Field(gt=0, description="cash received, in satang (1 THB = 100 satang)")


_CLOSED_HINTS: dict[str, str] = {
    InvoiceStatus.PAID: "a paid invoice cannot be paid again",
    InvoiceStatus.EXPIRED: "the payment deadline has passed; apply again for the licence",
    InvoiceStatus.CANCELLED: "the licence was cancelled; nothing is due",
}


def fee_for(ctx: EngineContext, application: ApplicationRow, case: LicenceCaseRow, assessed: int | None) -> int:
    """The fee in satang, less the channel discount for applying here.

    From the licence's fee rule applied to validated fields (engine/payments/fees.py: `business.area_m2` or the
    form field the manual marks `feeds_fee`, validated again), or, where the manual leaves the amount to the
    agency, as its officer assessed it.
    """
    manual = ctx.catalogue.licence(case.licence_code)
    if manual.fee_assessed_by_agency:
        if assessed is None:
            raise InvalidInput(f"the fee of {case.licence_code} is assessed by the agency and was not set")
        amount = assessed
    else:
        amount = fee_by_rule(manual, application.business_area_m2, application.form.get(case.licence_code, {}))
    return amount * (100 - manual.channel_discount_percent) // 100


def create_invoice(ctx: EngineContext, session: Session, instance: WorkflowInstanceRow,
                   call: ServiceCall) -> Mapping[str, Any]:
    """Service operator: raise the licence's invoice (once; a replay returns the same one).

    The result carries the invoice's `due_at`: the process's payment timer waits for exactly that.
    """
    case = case_of(session, instance)
    existing = invoice_of_case(session, case.id)
    if existing is not None:
        return _invoice_result(existing)
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None
    now = ctx.clock.now()
    invoice = InvoiceRow(id=str(uuid.uuid4()), application_id=application.id, licence_case_id=case.id,
                         agency=case.agency, amount_satang=fee_for(ctx, application, case, call.data.get("fee_satang")),
                         created_at=now,
                         due_at=calendar_deadline(now, ctx.catalogue.licence(case.licence_code).fee.payment_days))
    session.add(invoice)
    if invoice.amount_satang == 0:
        # Nothing to pay (an assessed fee of zero): waive it and let the process go on after commit.
        invoice.status, invoice.paid_at = InvoiceStatus.WAIVED, ctx.clock.now()
        outbox.enqueue(session, "settle_waived_invoice", ctx.clock, invoice_id=invoice.id)
    audit.record(session, SYSTEM, "invoice.created", ctx.clock.now(), application.id,
                 licence=case.licence_code, invoice_id=invoice.id, amount_satang=invoice.amount_satang,
                 due_at=invoice.due_at.isoformat() if invoice.due_at else None)
    return _invoice_result(invoice)


def _invoice_result(invoice: InvoiceRow) -> dict[str, Any]:
    assert invoice.due_at is not None
    return {"invoice_id": invoice.id, "amount_satang": invoice.amount_satang, "due_at": invoice.due_at.isoformat()}


def expire_invoice(ctx: EngineContext, session: Session, instance: WorkflowInstanceRow,
                   call: ServiceCall) -> Mapping[str, Any]:
    """Service operator: the payment deadline passed; the unpaid invoice expires and nobody can pay it.

    One conditional UPDATE (open -> expired): a payment racing the deadline either won the invoice
    first (then the process took the paid path and this timer was cancelled) or finds it expired
    and is refunded.
    """
    case = case_of(session, instance)
    now = ctx.clock.now()
    result = session.execute(update(InvoiceRow).where(col(InvoiceRow.licence_case_id) == case.id,
                                                      col(InvoiceRow.status) == InvoiceStatus.OPEN)
                             .values(status=InvoiceStatus.EXPIRED).execution_options(synchronize_session=False))
    expired = result.rowcount == 1  # type: ignore[attr-defined]
    if expired:
        audit.record(session, SYSTEM, "invoice.expired", now, case.application_id, licence=case.licence_code)
    return {"expired": expired}


def settle_waived_invoice_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: tell the process a waived invoice is settled (idempotent: only while it waits for payment)."""
    invoice = session.get(InvoiceRow, payload["invoice_id"])
    case = session.get(LicenceCaseRow, invoice.licence_case_id) if invoice else None
    if invoice is None or case is None or case.instance_id is None or invoice.status != InvoiceStatus.WAIVED:
        return
    instance = session.get(WorkflowInstanceRow, case.instance_id)
    if instance is None or "payment_received" not in instance.waiting_messages.split(","):
        return
    settle(ctx, session, invoice)


def mark_paid(session: Session, invoice_ids: list[str], paid_at: datetime) -> list[str]:
    """Move each invoice from open to paid in one conditional UPDATE; returns the ids this call won.

    When two payments race for an invoice (or a withdrawal or the payment deadline races a payment), exactly
    one of them finds it open. The rows are written behind the session's back: reload the ones you read on.
    """
    won: list[str] = []
    for invoice_id in invoice_ids:
        result = session.execute(update(InvoiceRow)
                                 .where(col(InvoiceRow.id) == invoice_id, col(InvoiceRow.status) == InvoiceStatus.OPEN)
                                 .values(status=InvoiceStatus.PAID, paid_at=paid_at)
                                 .execution_options(synchronize_session=False))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            won.append(invoice_id)
    return won


def settle(ctx: EngineContext, session: Session, invoice: InvoiceRow, *, by: Principal = SYSTEM) -> None:
    """A paid or waived invoice: its case's process receives `payment_received` and the case moves on.

    The one place every channel (counter, online, waived) hands a payment to the process.
    """
    case = session.get(LicenceCaseRow, invoice.licence_case_id)
    assert case is not None  # foreign key
    deliver_message(ctx, session, case, "payment_received",
                    {"invoice_id": invoice.id, "amount_satang": invoice.amount_satang}, by=by)


def record_counter_payment(ctx: EngineContext, session: Session, principal: Principal, invoice_id: str,
                           data: CounterPaymentInput) -> InvoiceRow:
    """An officer records cash paid at a counter; the licence's process moves on to issuing.

    A counter officer takes cash for any invoice; an agency officer only for their own agency's (and local
    office's) invoices.

    Raises:
        Forbidden: not a counter officer, or an officer of another agency or office.
        NotFound: no such invoice.
        Conflict: the invoice is already paid or no longer open.
        InvalidInput: the amount differs from the invoice.
    """
    if principal.role not in (Role.COUNTER_OFFICER, Role.AGENCY_OFFICER, Role.ADMIN):
        raise Forbidden("only counter or agency officers record counter payments")
    invoice = session.get(InvoiceRow, invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    if principal.role == Role.AGENCY_OFFICER:
        invoiced = session.get(LicenceCaseRow, invoice.licence_case_id)
        if invoiced is None or not in_scope(principal, invoice.agency, invoiced.office, OFFICERS):
            raise Forbidden(f"invoice {invoice_id} is not one of your agency's (and office's)",
                            hint="officers record cash for their own office's invoices; a counter officer for any")
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(f"invoice {invoice_id} is {invoice.status}", hint=_CLOSED_HINTS.get(
            invoice.status, "only an open invoice can be paid"))
    if data.amount_satang != invoice.amount_satang:
        raise InvalidInput(f"amount {data.amount_satang} satang does not match the invoice's "
                           f"{invoice.amount_satang} satang", hint="record the exact amount due",
                           details={"expected_amount_satang": invoice.amount_satang})
    now = ctx.clock.now()
    raced = Conflict(f"invoice {invoice_id} was paid at the same time by another request")
    if not mark_paid(session, [invoice.id], now):  # an online payment, a withdrawal or the deadline won it
        raise raced
    session.refresh(invoice)
    payment = PaymentRow(id=str(uuid.uuid4()), invoice_id=invoice.id, provider="counter",
                         amount_satang=data.amount_satang, currency=invoice.currency,
                         recorded_by=principal.label, created_at=now)
    session.add(payment)
    try:
        session.flush()
    except IntegrityError as err:  # a concurrent recording won the unique invoice_id
        raise raced from err
    case = session.get(LicenceCaseRow, invoice.licence_case_id)
    assert case is not None
    audit.record(session, principal, "payment.recorded", now, invoice.application_id, licence=case.licence_code,
                 invoice_id=invoice.id, provider="counter", amount_satang=data.amount_satang)
    receipts.request_receipt(ctx, session, receipts.COUNTER, payment.id, cashier=principal)
    settle(ctx, session, invoice, by=principal)
    return invoice
