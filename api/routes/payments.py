"""Recording payments."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bizportal.api.deps import EngineDep, PrincipalDep, command
from bizportal.engine.errors import Unauthenticated
from bizportal.engine.input_text import line
from bizportal.engine.payments import invoices, online
from bizportal.engine.payments.invoices import CounterPaymentInput
from bizportal.engine.payments.online import PaymentStart

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/invoices", tags=["payments"])


class InvoiceOut(BaseModel):
    id: str
    amount_satang: int
    currency: str
    status: str


@router.post("/{invoice_id}/counter-payment", response_model=InvoiceOut,
             summary="Record cash paid at a counter (counter or agency officer)")
def counter_payment(invoice_id: str, body: CounterPaymentInput, engine: EngineDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> InvoiceOut:
    with command(engine, background) as session:
        invoice = invoices.record_counter_payment(engine.ctx, session, principal, invoice_id, body)
        return InvoiceOut(id=invoice.id, amount_satang=invoice.amount_satang, currency=invoice.currency,
                          status=invoice.status)


online_router = APIRouter(tags=["payments"])


@online_router.post("/api/v1/applications/{application_id}/payments", status_code=201,
                    summary="Pay several (by default all open) invoices of an application in one payment")
def pay_application(application_id: str, body: PaymentStart, engine: EngineDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> dict[str, Any]:
    with command(engine, background) as session:
        payment, instructions = online.start_payment(engine.ctx, session, principal, application_id, body)
        return online.payment_view(payment, instructions)


class ProviderChoice(BaseModel):
    provider: Annotated[str, line(40, min_length=1)]


@online_router.post("/api/v1/invoices/{invoice_id}/payments", status_code=201,
                    summary="Pay one invoice online: Stripe (client secret) or PromptPay (QR payload and image)")
def pay_invoice(invoice_id: Annotated[str, line(100, min_length=1)],  # as PaymentStart's
                body: ProviderChoice, engine: EngineDep, principal: PrincipalDep,
                background: BackgroundTasks) -> dict[str, Any]:
    with command(engine, background) as session:
        payment, instructions = online.start_invoice_payment(engine.ctx, session, principal, invoice_id,
                                                             body.provider)
        return online.payment_view(payment, instructions)


@online_router.get("/api/v1/payments/providers", summary="The payment providers this deployment offers")
def payment_providers(engine: EngineDep) -> dict[str, list[str]]:
    return {"providers": engine.ctx.payments.names()}


@online_router.post("/api/v1/payments/webhooks/{provider}",
                    summary="Provider notifications (signed): each event is applied once")
async def payment_webhook(provider: str, request: Request, engine: EngineDep,
                          background: BackgroundTasks) -> dict[str, str]:
    body = await request.body()
    headers = dict(request.headers)

    def apply() -> str:
        with command(engine, background) as session:
            return online.apply_webhook(engine.ctx, session, provider, headers, body)

    try:
        return {"outcome": await run_in_threadpool(apply)}
    except Unauthenticated as err:
        # Why it failed (a missing secret, a parser's complaint) is for the operator's log, not the caller.
        log.warning("%s notification refused: %s", provider, err.message)
        raise Unauthenticated(f"the {provider} notification does not verify",
                              hint="sign the exact body with the shared webhook secret and a current timestamp"
                              ) from err
