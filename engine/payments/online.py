"""Paying online: start a payment for one or several invoices, apply the provider's verified events once.

No baht lost or charged twice: a provider event is stored unique on (provider, event id) before it is
applied, so a duplicate delivery changes nothing; the amount and currency must equal the payment's (a
mismatch is recorded, not applied); an invoice moves from open to paid in one conditional UPDATE, so when
two payments race for it the loser is marked `duplicate` and refunded. A payment that arrives after its
invoices were cancelled (withdrawal) or expired is refunded the same way: a refund record per invoice, which
the provider is asked for after commit, or which stays owed when it has no refund API (PromptPay). Events come in
any order: a success after a failure (another card) is applied; a refund the provider reports before the success
marks the payment refunded, so that success settles nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bizportal.adapters.payments.base import (
    InvalidWebhook,
    PaymentError,
    PaymentEvent,
    PaymentInstructions,
    PaymentProvider,
    PaymentRequest,
    ProviderUnavailable,
)
from bizportal.engine import assurance, audit
from bizportal.engine.access import is_owner, readable_application
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, NotFound, ProviderRefused, Unauthenticated
from bizportal.engine.errors import Unavailable as UnavailableError
from bizportal.engine.input_text import line
from bizportal.engine.payments import receipts, refunds
from bizportal.engine.payments.invoices import mark_paid, settle
from bizportal.engine.principal import SYSTEM, Principal
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.online_payments import OnlinePaymentRow, OnlinePaymentState, PaymentEventRow, PaymentInvoiceRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus


class PaymentStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Annotated[str, line(40, min_length=1)] = Field(
        description="stripe or promptpay (see GET /api/v1/payments/providers)")
    invoice_ids: list[Annotated[str, line(100, min_length=1)]] | None = Field(
        default=None, description="default: every open invoice of the application")


def _reference() -> str:
    # Short, unambiguous, and unique (checked by the database): what payers see and banks echo back.
    return "BP" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))


def start_payment(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
                  data: PaymentStart) -> tuple[OnlinePaymentRow, PaymentInstructions]:
    """Open a payment for the chosen (or all) open invoices of the caller's application.

    Raises:
        NotFound: not the caller's application, an unknown invoice or provider.
        Conflict: an invoice is not open (already paid, cancelled).
        Forbidden: not the applicant's own application, or their sign-in is below the IAL or AAL of a licence
            whose invoice is paid (the hint names the step-up).
        Unavailable: the provider is not configured, unreachable or failing (nothing is recorded).
        ProviderRefused: the provider refused the payment; its reason is in the message (nothing is recorded).
    """
    now = ctx.clock.now()
    application = readable_application(session, principal, application_id, now)
    if not is_owner(session, principal, application, now):
        raise Forbidden("only the applicant pays their application's fees online")
    provider = ctx.payments.get(data.provider)
    query = select(InvoiceRow).where(InvoiceRow.application_id == application.id)
    invoices = list(session.exec(query))
    if data.invoice_ids is not None:
        wanted = set(data.invoice_ids)
        unknown = sorted(wanted - {i.id for i in invoices})
        if unknown:
            raise NotFound(f"invoice(s) {', '.join(unknown)} are not invoices of this application")
        invoices = [i for i in invoices if i.id in wanted]
        closed = [i.id for i in invoices if i.status != InvoiceStatus.OPEN]
        if closed:
            raise Conflict(f"invoice(s) {', '.join(closed)} are not open", hint="pay only open invoices")
    invoices = [i for i in invoices if i.status == InvoiceStatus.OPEN]
    if not invoices:
        raise Conflict("there is no open invoice to pay", hint="fees are invoiced once a licence is approved")
    cases = {case.id: case.licence_code for case in session.exec(
        select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id))}
    assurance.require(principal, [ctx.catalogue.licence(cases[i.licence_case_id]).assurance for i in invoices],
                      "pay these fees online")
    payment = OnlinePaymentRow(id=str(uuid.uuid4()), application_id=application.id, provider=data.provider,
                               reference=_reference(), amount_satang=sum(i.amount_satang for i in invoices),
                               created_by=principal.label, created_at=ctx.clock.now())
    session.add(payment)
    session.flush()
    for invoice in invoices:
        session.add(PaymentInvoiceRow(payment_id=payment.id, invoice_id=invoice.id))
    instructions = _instructions(provider, payment, application, [i.id for i in invoices])
    payment.provider_reference = instructions.provider_reference
    audit.record(session, principal, "payment.started", ctx.clock.now(), application.id, payment_id=payment.id,
                 provider=data.provider, amount_satang=payment.amount_satang, invoices=[i.id for i in invoices])
    return payment, instructions


def start_invoice_payment(ctx: EngineContext, session: Session, principal: Principal, invoice_id: str,
                          provider: str) -> tuple[OnlinePaymentRow, PaymentInstructions]:
    """Open a payment for one invoice (as `start_payment` for its application).

    Raises:
        NotFound: no such invoice, or one of an application the caller may not read (the same answer).
    """
    invoice = session.get(InvoiceRow, invoice_id)
    application_id = invoice.application_id if invoice else ""
    return start_payment(ctx, session, principal, application_id,
                         PaymentStart(provider=provider, invoice_ids=[invoice_id]))


def invoice_payment(ctx: EngineContext, session: Session, principal: Principal, invoice_id: str,
                    provider: str) -> tuple[OnlinePaymentRow, PaymentInstructions]:
    """The invoice's pending payment with `provider` (started earlier: a second click, a reload) with its
    instructions again, or a new one (as `start_invoice_payment`). So a payer who asks twice gets one QR or one
    PaymentIntent, not two payments of which the second would be refunded.

    Raises:
        As `start_invoice_payment`.
    """
    pending = pending_invoice_payment(ctx, session, principal, invoice_id, provider)
    return pending if pending is not None else start_invoice_payment(ctx, session, principal, invoice_id, provider)


def pending_invoice_payment(ctx: EngineContext, session: Session, principal: Principal, invoice_id: str,
                            provider: str) -> tuple[OnlinePaymentRow, PaymentInstructions] | None:
    """The newest pending payment of the (open) invoice with `provider`, and its instructions asked of the provider
    again with the payment's own id, reference and amount (PromptPay builds the same QR; Stripe's idempotency key
    returns the same PaymentIntent); None when there is none.

    Raises:
        NotFound: no such invoice, or one of an application the caller may not read (the same answer).
        Unavailable, ProviderRefused: as `start_payment`.
    """
    invoice = session.get(InvoiceRow, invoice_id)
    application = readable_application(session, principal, invoice.application_id if invoice else "",
                                       ctx.clock.now())
    if invoice is None or invoice.status != InvoiceStatus.OPEN or not is_owner(session, principal, application,
                                                                                ctx.clock.now()):
        return None
    payment = session.exec(
        select(OnlinePaymentRow).join(PaymentInvoiceRow, col(PaymentInvoiceRow.payment_id) == OnlinePaymentRow.id)
        .where(PaymentInvoiceRow.invoice_id == invoice.id, OnlinePaymentRow.provider == provider,
               OnlinePaymentRow.state == OnlinePaymentState.PENDING)
        .order_by(col(OnlinePaymentRow.created_at).desc())).first()
    if payment is None:
        return None
    invoice_ids = [link.invoice_id for link in
                   session.exec(select(PaymentInvoiceRow).where(PaymentInvoiceRow.payment_id == payment.id))]
    return payment, _instructions(ctx.payments.get(provider), payment, application, invoice_ids)


def _instructions(provider: PaymentProvider, payment: OnlinePaymentRow, application: ApplicationRow,
                  invoice_ids: list[str]) -> PaymentInstructions:
    """Ask the provider to collect `payment` (our payment id is its idempotency key)."""
    try:
        return provider.create(PaymentRequest(
            payment_id=payment.id, reference=payment.reference, amount_satang=payment.amount_satang,
            description=f"Biz Portal {application.tracking_number}", invoice_ids=invoice_ids))
    except ProviderUnavailable as err:
        raise UnavailableError(str(err), hint="pay at a counter, or try again later") from err
    except PaymentError as err:  # it answered and said no: trying again will not help until that is fixed
        raise ProviderRefused(f"the payment provider refused the payment: {err}",
                              hint="nothing was charged or recorded; pay at a counter meanwhile, and tell the "
                                   "portal's operator the provider's reason above") from err


def apply_webhook(ctx: EngineContext, session: Session, provider_name: str, headers: Mapping[str, str],
                  body: bytes) -> str:
    """Verify a provider's notification and apply it once. Returns the outcome recorded.

    Raises:
        Unauthenticated: the signature or timestamp does not verify (nothing is written).
        NotFound: no such provider.
    """
    provider = ctx.payments.get(provider_name)
    try:
        event = provider.parse_webhook(headers, body, ctx.clock.now())
    except InvalidWebhook as err:
        raise Unauthenticated(f"the {provider_name} notification does not verify: {err}") from err
    stored = PaymentEventRow(provider=provider_name, event_id=event.event_id, kind=event.kind,
                             amount_satang=event.amount_satang, currency=event.currency, outcome="ignored",
                             received_at=ctx.clock.now())
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:
        previous = session.get(PaymentEventRow, (provider_name, event.event_id))
        return f"duplicate:{previous.outcome if previous else 'unknown'}"
    stored.outcome = _apply(ctx, session, event, stored)
    return stored.outcome


def _apply(ctx: EngineContext, session: Session, event: PaymentEvent, stored: PaymentEventRow) -> str:
    payment = session.exec(select(OnlinePaymentRow).where(
        OnlinePaymentRow.provider == event.provider,
        OnlinePaymentRow.provider_reference == event.provider_reference)).first()
    if payment is None:
        return "unknown_payment"
    stored.payment_id = payment.id
    # Providers deliver events in any order, and a payment may fail (a declined card) before it succeeds (the
    # payer tries another): a failure never undoes a success, and a success after a failure is applied.
    unsettled = payment.state in (OnlinePaymentState.PENDING, OnlinePaymentState.FAILED)
    if event.kind != "succeeded":
        if event.kind == "failed" and payment.state == OnlinePaymentState.PENDING:
            payment.state = OnlinePaymentState.FAILED
        elif event.kind == "refunded" and unsettled and event.amount_satang >= payment.amount_satang:
            # Refunded at the provider (its dashboard) before its success reached us: the money went back, so the
            # success, when it comes, settles nothing; the payer pays again.
            payment.state, payment.settled_at = OnlinePaymentState.REFUNDED, ctx.clock.now()
            audit.record(session, SYSTEM, "payment.refunded_by_provider", ctx.clock.now(), payment.application_id,
                         payment_id=payment.id, provider=payment.provider, amount_satang=event.amount_satang)
        return "recorded"
    if not unsettled:
        return "already_settled"
    if event.amount_satang != payment.amount_satang or event.currency.upper() != payment.currency:
        audit.record(session, SYSTEM, "payment.amount_mismatch", ctx.clock.now(), payment.application_id,
                     payment_id=payment.id, expected=payment.amount_satang, received=event.amount_satang,
                     currency=event.currency)
        return "amount_mismatch"
    now = ctx.clock.now()
    invoice_ids = [link.invoice_id for link in
                   session.exec(select(PaymentInvoiceRow).where(PaymentInvoiceRow.payment_id == payment.id))]
    # Conditional UPDATEs: when two payments race for an invoice, exactly one wins it.
    won = mark_paid(session, invoice_ids, now)
    if len(won) != len(invoice_ids):
        # Another payment settled one of them meanwhile, or they were cancelled (withdrawal) or expired: keep
        # nothing of this one and refund it whole, asking the provider after commit (engine/payments/refunds.py).
        if won:
            session.execute(update(InvoiceRow).where(col(InvoiceRow.id).in_(won))
                            .values(status=InvoiceStatus.OPEN, paid_at=None)
                            .execution_options(synchronize_session=False))
        payment.state, payment.settled_at = OnlinePaymentState.DUPLICATE, now
        invoices = [session.get(InvoiceRow, invoice_id, populate_existing=True) for invoice_id in invoice_ids]
        refunds.refund_unsettled_payment(ctx, session, payment, [i for i in invoices if i is not None])
        return "duplicate_payment"
    payment.state, payment.settled_at = OnlinePaymentState.SUCCEEDED, now
    audit.record(session, SYSTEM, "payment.recorded", now, payment.application_id, payment_id=payment.id,
                 provider=payment.provider, amount_satang=payment.amount_satang, invoices=invoice_ids)
    receipts.request_receipt(ctx, session, receipts.ONLINE, payment.id)
    for invoice_id in invoice_ids:
        invoice = session.get(InvoiceRow, invoice_id, populate_existing=True)
        assert invoice is not None
        settle(ctx, session, invoice)
    return "applied"


def payment_view(payment: OnlinePaymentRow, instructions: PaymentInstructions) -> dict[str, Any]:
    return {"payment_id": payment.id, "reference": payment.reference, "amount_satang": payment.amount_satang,
            "currency": payment.currency, **instructions.model_dump(mode="json")}

