"""The counter's cash desk: `/counter/payments` lists the invoices due on the applications this office reaches
(engine/payments/counter_desk.py), each with a form to record the cash received (the use case of
POST /api/v1/invoices/{id}/counter-payment); then `/counter/payments/{invoice_id}/receipt` shows the receipt to
print, and links its signed PDF once the worker has made it (until then it says so and refreshes itself).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.counter_people import CounterPage, counter_context
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Conflict, InvalidInput
from bizportal.engine.payments import invoices
from bizportal.engine.payments.counter_desk import counter_receipt, due_invoices
from bizportal.engine.payments.invoices import CounterPaymentInput
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)
InvoiceId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]
PAGE_SIZE = 20
RECEIPT_REFRESH_SECONDS = 3


def _desk(request: Request, engine: LicensingEngine, principal: Principal, lang: Lang, page: int = 1,
          error: tuple[str, str, str | None] | None = None, status_code: int = 200) -> HTMLResponse:
    """The list; `error`: (the invoice the form was for, the label of what went wrong, the engine's message)."""
    with query(engine) as session:
        due = due_invoices(engine.ctx, session, principal, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    errors = [(LABELS[lang][error[1]], f"#confirm-{error[0]}")] if error else []
    return render(request, "counter/payments.html", {
        **counter_context(engine, principal), "due": due[:PAGE_SIZE], "page": page, "errors": errors,
        "error": error,
        "next_url": f"/counter/payments?page={page + 1}" if len(due) > PAGE_SIZE else None,
        "previous_url": f"/counter/payments?page={page - 1}" if page > 1 else None},
        lang, status_code=status_code, principal=principal)


@router.get("/counter/payments", response_class=HTMLResponse)
def cash_desk(request: Request, engine: EngineDep, principal: CounterPage, lang: PageLang,
              page: Annotated[int, Query(ge=1, le=1000)] = 1) -> HTMLResponse:
    return _desk(request, engine, principal, lang, page)


@router.post("/counter/payments/{invoice_id}")
async def take_cash(request: Request, invoice_id: InvoiceId, engine: EngineDep, principal: CounterPage,
                    background: BackgroundTasks, lang: PageLang) -> Response:
    """Record the cash: the officer confirms the amount shown was received; the engine checks it is the amount
    due and the invoice still open (a second click finds it paid and says so)."""
    submitted = await request.form()
    amount = str(submitted.get("amount_satang", ""))
    if submitted.get("received") != "yes":
        return _desk(request, engine, principal, lang, error=(invoice_id, "counter_cash_error_confirm", None),
                     status_code=400)
    if not amount.isascii() or not amount.isdigit() or len(amount) > 12:
        return _desk(request, engine, principal, lang, error=(invoice_id, "counter_cash_error_amount", None),
                     status_code=400)

    def record() -> None:
        with command(engine, background) as session:
            invoices.record_counter_payment(engine.ctx, session, principal, invoice_id,
                                            CounterPaymentInput(amount_satang=int(amount)))

    try:
        await run_in_threadpool(record)
    except Conflict as err:  # already paid, expired or cancelled: the engine's words
        return _desk(request, engine, principal, lang, error=(invoice_id, "counter_cash_error_closed", err.message),
                     status_code=409)
    except InvalidInput as err:  # not the amount due
        return _desk(request, engine, principal, lang, error=(invoice_id, "counter_cash_error_amount", err.message),
                     status_code=422)
    return RedirectResponse(f"/counter/payments/{invoice_id}/receipt", status_code=303)


@router.get("/counter/payments/{invoice_id}/receipt", response_class=HTMLResponse)
def cash_receipt(request: Request, invoice_id: InvoiceId, engine: EngineDep, principal: CounterPage,
                 lang: PageLang) -> HTMLResponse:
    """The receipt of the cash this officer took: printable (`@media print`), with the e-receipt PDF's link."""
    with query(engine) as session:
        paid = counter_receipt(engine.ctx, session, principal, invoice_id)
    return render(request, "counter/receipt.html", {**counter_context(engine, principal), "paid": paid,
                                                       "refresh": RECEIPT_REFRESH_SECONDS}, lang,
                  principal=principal)
