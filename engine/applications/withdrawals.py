"""Withdrawing an application: the applicant cancels licences not yet issued, and paid fees go back.

Cancelling is a command on each licence's process (its open tasks and timers end with it), in one
transaction with the invoice's fate: an open invoice is cancelled, a paid one refunded (engine.refunds).
An issued licence is not withdrawn: its holder cancels it through the licence's own cancellation process.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.access import is_owner, readable_application
from bizportal.engine.cases.case import cancel_case
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput
from bizportal.engine.input_text import line, text
from bizportal.engine.payments.refunds import request_refund
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import TERMINAL
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus, invoice_of_case

_CANCEL_ISSUED = "an issued licence is cancelled through POST /api/v1/issued-licences/{number}/cancellations"


class WithdrawalInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, text(2000, min_length=3)] = Field(description="why: recorded and shown to the agency")
    licences: list[Annotated[str, line(100, min_length=1)]] | None = Field(default=None, min_length=1,
                                       description="licence codes to withdraw; default: every one not yet decided")


def withdraw(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
             data: WithdrawalInput) -> ApplicationRow:
    """Cancel the chosen (or all open) licences of the caller's application.

    Raises:
        NotFound: not the caller's application. Forbidden: not the applicant who owns it.
        InvalidInput: a licence code that is not in the application.
        Conflict: a chosen licence has already ended (issued, rejected, expired, cancelled), or a
            concurrent move of its process won the race (nothing is changed; try again).
    """
    now = ctx.clock.now()
    application = readable_application(session, principal, application_id, now)
    if not is_owner(session, principal, application, now):
        raise Forbidden("only the applicant who owns the application can withdraw it")
    cases = list(session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)))
    if data.licences is None:
        chosen = [case for case in cases if case.status not in TERMINAL]
        if not chosen:
            raise Conflict(f"application {application_id} has no licence left to withdraw", hint=_CANCEL_ISSUED)
    else:
        by_code = {case.licence_code: case for case in cases}
        unknown = sorted(set(data.licences) - set(by_code))
        if unknown:
            raise InvalidInput(f"licence(s) {', '.join(unknown)} are not part of this application",
                               hint=f"choose from: {', '.join(sorted(by_code))}", details={"field": "licences"})
        chosen = [by_code[code] for code in dict.fromkeys(data.licences)]
        ended = [f"{case.licence_code} ({case.status})" for case in chosen if case.status in TERMINAL]
        if ended:
            raise Conflict(f"licence(s) {', '.join(ended)} have already ended and cannot be withdrawn",
                           hint=_CANCEL_ISSUED)
    now = ctx.clock.now()
    for case in chosen:
        _settle_invoice(ctx, session, principal, case, data.reason)
        cancel_case(ctx, session, case, by=principal, reason=data.reason)
    audit.record(session, principal, "application.withdrawn", now, application.id,
                 licences=[case.licence_code for case in chosen], reason=data.reason)
    return application


def _settle_invoice(ctx: EngineContext, session: Session, principal: Principal, case: LicenceCaseRow,
                    reason: str) -> None:
    invoice = invoice_of_case(session, case.id)
    if invoice is None:
        return
    # Conditional: a payment landing at the same moment either paid it first (refunded below, on
    # reload) or finds it cancelled and is refunded by the payment path.
    cancelled = session.execute(update(InvoiceRow)
                                .where(col(InvoiceRow.id) == invoice.id, col(InvoiceRow.status) == InvoiceStatus.OPEN)
                                .values(status=InvoiceStatus.CANCELLED).execution_options(synchronize_session=False))
    session.refresh(invoice)
    if cancelled.rowcount == 1:  # type: ignore[attr-defined]
        audit.record(session, principal, "invoice.cancelled", ctx.clock.now(), invoice.application_id,
                     invoice_id=invoice.id, licence=case.licence_code)
    elif invoice.status == InvoiceStatus.PAID:
        request_refund(ctx, session, principal, invoice, reason)
