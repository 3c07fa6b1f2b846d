"""E-receipts: every payment (cash at a counter, or online) gets a signed receipt PDF.

The use case that records a payment calls `request_receipt` in its own transaction; after that commit
`issue_receipt_job` numbers the receipt, and `render_receipt_job` renders, signs and stores it under that
number. So a slow renderer or object store never holds the payment's transaction open, and a payment that
rolls back gets no receipt. The number is a job of its own because the receipt counter (one a year for every
payment in the country) stays locked until its transaction commits: rendering under it made every receipt wait
for the one being drawn. Both jobs are idempotent (one receipt per payment, also enforced by a unique
constraint); the number is taken once per payment and its rendering retried until it succeeds, so the
numbering has no gap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from bizportal.engine import audit, outbox
from bizportal.engine.access import readable_application
from bizportal.engine.context import EngineContext
from bizportal.engine.documents.formats import buddhist_year
from bizportal.engine.documents.receipt_pdf import Cashier, ReceiptDocument, ReceiptLine, render_receipt_pdf
from bizportal.engine.documents.signing import sign_pdf
from bizportal.engine.errors import NotFound
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import SYSTEM, Principal
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.counters import yearly_number
from bizportal.storage.online_payments import OnlinePaymentRow, OnlinePaymentState, PaymentInvoiceRow
from bizportal.storage.payments import InvoiceRow, PaymentRow
from bizportal.storage.receipts import ReceiptRow

ISSUE_RECEIPT = "issue_receipt"
RENDER_RECEIPT = "render_receipt"
Source = Literal["counter", "online"]
COUNTER: Source = "counter"
ONLINE: Source = "online"


def request_receipt(ctx: EngineContext, session: Session, source: Source, payment_id: str,
                    cashier: Principal | None = None) -> None:
    """Queue the receipt of a payment recorded in this transaction (rendered after it commits).

    `cashier` is the officer who took cash at a counter: who they are (role, user id and display name)
    is kept with the job, as the sign-in told it at the time of payment.
    """
    who = {} if cashier is None else {
        "cashier": {"role": cashier.role.value, "subject": cashier.subject, "name": cashier.name}}
    outbox.enqueue(session, ISSUE_RECEIPT, ctx.clock, source=source, payment_id=payment_id, **who)


def receipt_number(session: Session, paid_at: datetime) -> str:
    """`BP-R-<B.E. year of payment>-<6-digit sequence>`, gap-free per year."""
    return yearly_number(session, "BP-R", "receipt", buddhist_year(paid_at), digits=6)


@dataclass(frozen=True)
class _Payment:
    """A payment as the receipt shows it, whichever table it comes from."""

    application_id: str
    paid_at: datetime
    method: str
    reference: str
    recorded_by: Cashier | None
    amount_satang: int
    currency: str
    invoices: list[InvoiceRow]


def issue_receipt_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: number the receipt of one payment and queue its rendering. A second run does nothing.

    Raises:
        LookupError: the payment does not exist (the outbox keeps the error and retries).
    """
    if _receipt_of(session, payload) is not None:
        return
    payment = _payment(session, payload["source"], payload["payment_id"], payload.get("cashier"))
    if payment is None:
        return
    outbox.enqueue(session, RENDER_RECEIPT, ctx.clock, **payload, number=receipt_number(session, payment.paid_at))


def render_receipt_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: render, sign and store the receipt numbered by `issue_receipt_job`. A second run does nothing.

    Raises:
        LookupError: the payment does not exist (the outbox keeps the error and retries).
    """
    if _receipt_of(session, payload) is not None:
        return
    source, payment_id, number = payload["source"], payload["payment_id"], payload["number"]
    payment = _payment(session, source, payment_id, payload.get("cashier"))
    if payment is None:
        return
    application = session.get(ApplicationRow, payment.application_id)
    assert application is not None and application.tracking_number is not None
    pdf = render_receipt_pdf(ReceiptDocument(
        receipt_number=number, paid_at=payment.paid_at, payer_name=application.applicant_name,
        tracking_number=application.tracking_number, method=payment.method, payment_reference=payment.reference,
        lines=tuple(_line(ctx, session, invoice) for invoice in payment.invoices), currency=payment.currency,
        recorded_by=payment.recorded_by,
        record_url=ctx.links.receipt_pdf(number)))
    if ctx.signing is not None:
        pdf = sign_pdf(pdf, ctx.signing.pdf, reason="Electronic receipt issued by Biz Portal")
    # Content-addressed: if this transaction rolls back, the stored bytes are simply unused.
    stored = ctx.object_store.put(pdf, "application/pdf")
    now = ctx.clock.now()
    session.add(ReceiptRow(number=number, source=source, payment_id=payment_id, application_id=application.id,
                           amount_satang=payment.amount_satang, currency=payment.currency, pdf_key=stored.key,
                           pdf_sha256=stored.sha256, pdf_size=stored.size, issued_at=now))
    audit.record(session, SYSTEM, "receipt.issued", now, application.id, receipt_number=number, source=source,
                 payment_id=payment_id, amount_satang=payment.amount_satang, sha256=stored.sha256)


def _receipt_of(session: Session, payload: Mapping[str, Any]) -> ReceiptRow | None:
    return session.exec(select(ReceiptRow).where(ReceiptRow.source == payload["source"],
                                                 ReceiptRow.payment_id == payload["payment_id"])).first()


def _cashier(recorded_by: str, cashier: Mapping[str, Any] | None) -> Cashier:
    """Who took the cash: as the job was queued with, or (a job queued before the names were kept) read from
    the payment's actor label `role[:agency[:office]]:subject`."""
    if cashier:
        return Cashier(role=str(cashier["role"]), subject=str(cashier["subject"]), name=cashier.get("name") or None)
    return Cashier(role=recorded_by.split(":", 1)[0], subject=recorded_by.rsplit(":", 1)[-1])


def _payment(session: Session, source: str, payment_id: str,
             cashier: Mapping[str, Any] | None = None) -> _Payment | None:
    """The payment behind a receipt; None for an online payment that did not succeed (no money, no receipt)."""
    if source == COUNTER:
        counter = session.get(PaymentRow, payment_id)
        if counter is None:
            raise LookupError(f"counter payment {payment_id} does not exist")
        invoice = session.get(InvoiceRow, counter.invoice_id)
        assert invoice is not None
        return _Payment(application_id=invoice.application_id, paid_at=counter.created_at, method=counter.provider,
                        reference=counter.id, recorded_by=_cashier(counter.recorded_by, cashier),
                        amount_satang=counter.amount_satang,
                        currency=counter.currency, invoices=[invoice])
    if source != ONLINE:
        raise LookupError(f"unknown payment source {source!r}")
    online = session.get(OnlinePaymentRow, payment_id)
    if online is None:
        raise LookupError(f"online payment {payment_id} does not exist")
    if online.state != OnlinePaymentState.SUCCEEDED or online.settled_at is None:
        return None
    links = select(PaymentInvoiceRow.invoice_id).where(PaymentInvoiceRow.payment_id == online.id)
    invoices = session.exec(select(InvoiceRow).where(col(InvoiceRow.id).in_(links))
                            .order_by(col(InvoiceRow.created_at), col(InvoiceRow.id))).all()
    return _Payment(application_id=online.application_id, paid_at=online.settled_at, method=online.provider,
                    reference=online.reference, recorded_by=None, amount_satang=online.amount_satang,
                    currency=online.currency, invoices=list(invoices))


def _line(ctx: EngineContext, session: Session, invoice: InvoiceRow) -> ReceiptLine:
    case = session.get(LicenceCaseRow, invoice.licence_case_id)
    assert case is not None
    manual, agency = ctx.catalogue.licence(case.licence_code), ctx.catalogue.agency(invoice.agency)
    return ReceiptLine(licence_name_th=manual.name_th, licence_name_en=manual.name_en, agency_name_th=agency.name_th,
                       agency_name_en=agency.name_en, amount_satang=invoice.amount_satang)


RECEIPTS_ORDER = Keyset("receipts", (SortKey(ReceiptRow.issued_at, datetime), SortKey(ReceiptRow.number, str)))


def receipts_of(ctx: EngineContext, session: Session, principal: Principal, application_id: str) -> list[ReceiptRow]:
    """Every receipt of an application the caller may read, oldest first (`receipt_page`, all)."""
    return receipt_page(ctx, session, principal, application_id, None).items


def receipt_page(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
                 limit: int | None, cursor: list[Any] | None = None) -> Page[ReceiptRow]:
    """The receipts of an application the caller may read, oldest first: one page after `cursor`
    (engine/paging.py), or all (`limit=None`).

    Raises:
        NotFound: no such application, or the caller may not read it.
        InvalidInput: a cursor that is not this list's.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    return fetch_page(session, select(ReceiptRow).where(ReceiptRow.application_id == application.id),
                      RECEIPTS_ORDER, limit, cursor)


def readable_receipt(ctx: EngineContext, session: Session, principal: Principal, number: str) -> ReceiptRow:
    """The receipt, if the caller may read its application (the applicant, its agencies' officers, admins),
    or is the counter officer who took the cash (to print it for the payer at the counter).

    Raises:
        NotFound: no such receipt, or the caller may not see it (existence is not revealed).
    """
    receipt = session.get(ReceiptRow, number)
    if receipt is None:
        raise NotFound(f"receipt {number} does not exist")
    if receipt.source == COUNTER:
        payment = session.get(PaymentRow, receipt.payment_id)
        # Labels name one (role, agency, office, subject) each (engine/principal.py): only that very officer.
        if payment is not None and payment.recorded_by == principal.label:
            return receipt
    try:
        readable_application(session, principal, receipt.application_id, ctx.clock.now())
    except NotFound:
        raise NotFound(f"receipt {number} does not exist") from None
    return receipt


def receipt_pdf_chunks(ctx: EngineContext, receipt: ReceiptRow) -> Iterator[bytes]:
    return ctx.object_store.iter_chunks(receipt.pdf_key)
