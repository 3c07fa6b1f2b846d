"""Refunds: the fee of a licence that will not be issued goes back to whoever paid it, once.

A refund is recorded in the transaction that decides it (one row per invoice, unique), and the
provider is asked after commit by a job carrying the refund's id as its idempotency key, so a slow
provider never holds a transaction open and a retried job never refunds twice. Cash paid at a
counter, and providers without a refund API (PromptPay), leave the refund `owed`: the agency pays
it back and an officer records that it did.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from bizportal.adapters.payments.base import PaymentError, ProviderUnavailable
from bizportal.engine import audit, outbox
from bizportal.engine.access import AGENCY_ROLES, in_scope, is_owner, readable_application
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, NotFound
from bizportal.engine.input_text import text
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import SYSTEM, Principal, Role
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.online_payments import OnlinePaymentRow, OnlinePaymentState, PaymentInvoiceRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus, PaymentRow
from bizportal.storage.refunds import RefundRow, RefundState

REFUND_JOB = "refund_payment"
# Why a payment that settled nothing is refunded, by the state its invoice was in when it arrived.
_UNSETTLED: dict[str, str] = {InvoiceStatus.PAID: "already paid by another payment",
              InvoiceStatus.CANCELLED: "cancelled when the application was withdrawn",
              InvoiceStatus.EXPIRED: "expired unpaid at its deadline", InvoiceStatus.REFUNDED: "already refunded",
              InvoiceStatus.WAIVED: "waived", InvoiceStatus.OPEN: "still open: refunded with the rest of this payment"}


class RefundPaidOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, text(2000, min_length=3)] = Field(
        description="how the money went back (cash, bank transfer ref)")


def request_refund(ctx: EngineContext, session: Session, principal: Principal, invoice: InvoiceRow,
                   reason: str) -> RefundRow:
    """Record the refund of a paid invoice and, for a provider that refunds, queue asking it."""
    counter = session.exec(select(PaymentRow).where(PaymentRow.invoice_id == invoice.id)).first()
    online = session.exec(select(OnlinePaymentRow).join(
        PaymentInvoiceRow, col(PaymentInvoiceRow.payment_id) == col(OnlinePaymentRow.id)).where(
        PaymentInvoiceRow.invoice_id == invoice.id, OnlinePaymentRow.state == OnlinePaymentState.SUCCEEDED)).first()
    if counter is not None:
        provider, payment_id = counter.provider, counter.id
    elif online is not None:
        provider, payment_id = online.provider, online.id
    else:  # paid is set only together with one of the two
        raise Conflict(f"invoice {invoice.id} is marked paid but no payment of it was found")
    now = ctx.clock.now()
    refund = RefundRow(id=str(uuid.uuid4()), invoice_id=invoice.id, application_id=invoice.application_id,
                       agency=invoice.agency, provider=provider, payment_id=payment_id,
                       amount_satang=invoice.amount_satang, currency=invoice.currency,
                       state=RefundState.OWED if counter is not None else RefundState.REQUESTED, reason=reason,
                       requested_by=principal.label, created_at=now)
    session.add(refund)
    invoice.status = InvoiceStatus.REFUNDED
    if refund.state == RefundState.REQUESTED:
        outbox.enqueue(session, REFUND_JOB, ctx.clock, refund_id=refund.id)
    audit.record(session, principal, "refund.requested", now, invoice.application_id, invoice_id=invoice.id,
                 refund_id=refund.id, provider=provider, amount_satang=refund.amount_satang, state=refund.state)
    return refund


def refund_unsettled_payment(ctx: EngineContext, session: Session, payment: OnlinePaymentRow,
                            invoices: list[InvoiceRow]) -> list[RefundRow]:
    """Record the refund of an online payment that settled none of its invoices, and queue asking the provider.

    One refund per invoice, each of that invoice's amount and agency (they add up to the payment); the
    invoice keeps its own state (paid by the other payment, cancelled, expired). Asked after commit like any
    refund, with the refund's id as the idempotency key; a provider without refunds leaves it owed.
    """
    now, recorded = ctx.clock.now(), []
    for invoice in invoices:
        refund = RefundRow(id=str(uuid.uuid4()), invoice_id=invoice.id, application_id=payment.application_id,
                           agency=invoice.agency, provider=payment.provider, payment_id=payment.id,
                           amount_satang=invoice.amount_satang, currency=invoice.currency, state=RefundState.REQUESTED,
                           reason=f"payment {payment.reference} arrived after invoice {invoice.id} was "
                                  f"{_UNSETTLED.get(invoice.status, invoice.status)}",
                           requested_by=SYSTEM.label, created_at=now)
        session.add(refund)
        outbox.enqueue(session, REFUND_JOB, ctx.clock, refund_id=refund.id)
        audit.record(session, SYSTEM, "refund.requested", now, payment.application_id, invoice_id=invoice.id,
                     refund_id=refund.id, provider=payment.provider, amount_satang=refund.amount_satang,
                     state=refund.state, payment_id=payment.id, reason=refund.reason)
        recorded.append(refund)
    return recorded


def refund_payment_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: ask the provider for a requested refund (idempotent: the refund id is the idempotency key).

    A provider that is down raises, so the outbox retries with back-off; one that cannot refund leaves
    the refund owed, with the reason in the audit trail.
    """
    refund = session.get(RefundRow, payload["refund_id"])
    if refund is None or refund.state != RefundState.REQUESTED:
        return
    payment = session.get(OnlinePaymentRow, refund.payment_id)
    assert payment is not None and payment.provider_reference is not None
    now = ctx.clock.now()
    try:
        reference = ctx.payments.get(refund.provider).refund(payment.provider_reference, refund.amount_satang,
                                                             idempotency_key=f"refund-{refund.id}")
    except ProviderUnavailable:
        raise  # down or failing: the outbox retries with back-off, the refund stays requested
    except PaymentError as err:
        refund.state = RefundState.OWED
        audit.record(session, SYSTEM, "refund.owed", now, refund.application_id, refund_id=refund.id,
                     reason=str(err))
        return
    refund.state, refund.provider_reference, refund.settled_at, refund.settled_by = (
        RefundState.REFUNDED, reference, now, "system")
    audit.record(session, SYSTEM, "refund.refunded", now, refund.application_id, refund_id=refund.id,
                 provider=refund.provider, provider_reference=reference, amount_satang=refund.amount_satang)


def record_paid_out(ctx: EngineContext, session: Session, principal: Principal, refund_id: str,
                    data: RefundPaidOut) -> RefundRow:
    """Someone who answers for the money records an owed refund as paid back: an officer or supervisor of the
    invoicing agency (and of the case's local office), the counter officer who took the cash, or the counter
    officer who filed the application for the citizen.

    Raises:
        NotFound: no such refund. Forbidden: not someone who may pay it out.
        Conflict: the refund is not owed (already paid back, or the provider is handling it).
    """
    refund = session.get(RefundRow, refund_id)
    if refund is None:
        raise NotFound(f"refund {refund_id} does not exist")
    if not _may_pay_out(session, principal, refund, ctx.clock.now()):
        raise Forbidden(f"refund {refund_id} is not yours to pay out",
                        hint=f"an officer of {refund.agency} (and the case's office) records it, or the counter "
                             "officer who took the cash or filed the application")
    if refund.state != RefundState.OWED:
        raise Conflict(f"refund {refund_id} is {refund.state}, not owed",
                       hint="only a refund the agency owes is recorded by hand")
    now = ctx.clock.now()
    refund.state, refund.settled_at, refund.settled_by = RefundState.REFUNDED, now, principal.label
    audit.record(session, principal, "refund.paid_out", now, refund.application_id, refund_id=refund.id,
                 amount_satang=refund.amount_satang, note=data.note)
    return refund


def _may_pay_out(session: Session, principal: Principal, refund: RefundRow, now: datetime) -> bool:
    if principal.role == Role.ADMIN:
        return True
    if principal.role in AGENCY_ROLES:
        invoice = session.get(InvoiceRow, refund.invoice_id)
        case = session.get(LicenceCaseRow, invoice.licence_case_id) if invoice is not None else None
        return case is not None and in_scope(principal, refund.agency, case.office)
    if principal.role != Role.COUNTER_OFFICER:
        return False
    payment = session.get(PaymentRow, refund.payment_id) if refund.provider == "counter" else None
    if payment is not None and payment.recorded_by == principal.label:
        return True  # the cash they took goes back over the same counter
    application = session.get(ApplicationRow, refund.application_id)
    return application is not None and is_owner(session, principal, application, now)


REFUNDS_ORDER = Keyset("refunds", (SortKey(RefundRow.created_at, datetime), SortKey(RefundRow.id, str)))


def refunds_of(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
               limit: int | None = None, cursor: list[Any] | None = None) -> Page[RefundRow]:
    """The refunds of an application the caller may read (404 otherwise), oldest first: one page after `cursor`
    (engine/paging.py), or all (`limit=None`).

    Raises:
        NotFound: no such application, or the caller may not read it.
        InvalidInput: a cursor that is not this list's.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    return fetch_page(session, select(RefundRow).where(RefundRow.application_id == application.id), REFUNDS_ORDER,
                      limit, cursor)
