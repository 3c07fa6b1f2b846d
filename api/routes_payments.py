"""Recording payments."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel

from bizportal.api.deps import PortalDep, PrincipalDep, command
from bizportal.engine import invoices
from bizportal.engine.invoices import CounterPaymentInput

router = APIRouter(prefix="/api/v1/invoices", tags=["payments"])


class InvoiceOut(BaseModel):
    id: str
    amount_satang: int
    currency: str
    status: str


@router.post("/{invoice_id}/counter-payment", response_model=InvoiceOut,
             summary="Record cash paid at a counter (counter or agency officer)")
def counter_payment(invoice_id: str, body: CounterPaymentInput, portal: PortalDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> InvoiceOut:
    with command(portal, background) as session:
        invoice = invoices.record_counter_payment(portal.ctx, session, principal, invoice_id, body)
        return InvoiceOut(id=invoice.id, amount_satang=invoice.amount_satang, currency=invoice.currency,
                          status=invoice.status)
