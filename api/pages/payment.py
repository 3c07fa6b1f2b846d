"""Paying an invoice: what it is for and the ways to pay it, the PromptPay QR and its "waiting for payment", the
counter payment slip, card payment when Stripe is configured (with its publishable key), and the receipt once
paid.

The invoice is read from the application's own view (`applications.view`, as GET /api/v1/applications/{id}), so
someone else's invoice is the same 404 page as one that does not exist. Paying goes through the use cases of
POST /api/v1/invoices/{id}/payments: `online.invoice_payment` starts one payment per invoice and provider and
gives a second click the same one, so there is no idempotency key to carry. The PromptPay QR is the adapter's own
PNG (the EMVCo payload it builds), shown as an image; the page's small script (static/account-payment.js) asks
the application's JSON every few seconds and reloads once the invoice is paid; without JavaScript a button
reloads the page.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import Lang
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import CitizenPage
from bizportal.engine.applications import applications
from bizportal.engine.applications.applications import ApplicationView, InvoiceView
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import BizPortalError, NotFound
from bizportal.engine.payments import online, receipts
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

PROMPTPAY, STRIPE = "promptpay", "stripe"
# The card page's own policy (the security-headers middleware keeps a page's own): the app's policy
# (api/security_headers.py) plus what Stripe.js needs - its script and frames from js.stripe.com, 3-D Secure
# frames from hooks.stripe.com, its calls to api.stripe.com. Only this page loads anything from elsewhere.
CARD_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://*.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; "
    "connect-src 'self' https://api.stripe.com; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'")
INVOICE_PAGE = "/applications/{application_id}/invoices/{invoice_id}"


def _invoice(view: ApplicationView, invoice_id: str) -> InvoiceView:
    invoice = next((item for item in view.invoices if item.id == invoice_id), None)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    return invoice


def _card_key(engine: LicensingEngine) -> str | None:
    """Stripe's publishable key when card payment is offered: Stripe has an API key (the provider is always loaded,
    answering 503 without one) and a publishable key for Stripe.js; else None."""
    if STRIPE not in engine.ctx.payments.names():
        return None
    provider = engine.ctx.payments.get(STRIPE)
    key = getattr(provider, "publishable_key", None)
    return key if getattr(provider, "configured", False) and isinstance(key, str) else None


def _context(engine: LicensingEngine, principal: Principal, application_id: str, invoice_id: str) -> dict[str, Any]:
    """The invoice, its licence, agency and office, its pending PromptPay QR and the application's receipts."""
    ctx = engine.ctx
    with query(engine) as session:
        view = applications.view(ctx, session, principal, application_id)
        invoice = _invoice(view, invoice_id)
        case = next(item for item in view.licences if item.code == invoice.licence)
        promptpay, problem = None, None
        if invoice.status == "open" and PROMPTPAY in ctx.payments.names():
            try:
                promptpay = online.pending_invoice_payment(ctx, session, principal, invoice_id, PROMPTPAY)
            except BizPortalError as err:
                problem = err.message
        paid_receipts = receipts.receipts_of(ctx, session, principal, application_id) \
            if invoice.status == "paid" else []
    return {"view": view, "invoice": invoice, "case": case, "manual": ctx.catalogue.licence(invoice.licence),
            "agency": ctx.catalogue.agencies.get(case.agency),
            "office": next((o for o in ctx.offices.offices() if o.code == case.office), None),
            "promptpay_offered": PROMPTPAY in ctx.payments.names(), "card_offered": _card_key(engine) is not None,
            "payment": promptpay[0] if promptpay else None, "instructions": promptpay[1] if promptpay else None,
            "problem": problem, "receipts": paid_receipts,
            "page_url": INVOICE_PAGE.format(application_id=application_id, invoice_id=invoice_id)}


@router.get(INVOICE_PAGE, response_class=HTMLResponse)
def invoice_page(request: Request, application_id: str, invoice_id: str, engine: EngineDep,
                 principal: CitizenPage, lang: PageLang) -> HTMLResponse:
    """What is paid for and how to pay it; once paid, the receipt."""
    return render(request, "account/invoice.html", _context(engine, principal, application_id, invoice_id), lang,
                  principal=principal)


@router.post(INVOICE_PAGE + "/{provider}")
def start_paying(request: Request, application_id: str, invoice_id: str, provider: Literal["promptpay", "card"],
                 engine: EngineDep, principal: CitizenPage, lang: PageLang, background: BackgroundTasks) -> Response:
    """Start (or find again) the invoice's PromptPay payment, then show its QR on the invoice page; or its Stripe
    PaymentIntent, then the card page."""
    with query(engine) as session:  # the invoice must be of this application: the address says which
        _invoice(applications.view(engine.ctx, session, principal, application_id), invoice_id)
    if provider == "card" and _card_key(engine) is None:
        raise NotFound("card payment is not offered here")
    try:
        with command(engine, background) as session:
            online.invoice_payment(engine.ctx, session, principal, invoice_id,
                                   STRIPE if provider == "card" else PROMPTPAY)
    except BizPortalError as err:
        return _refused(request, engine, principal, application_id, invoice_id, lang, err)
    url = INVOICE_PAGE.format(application_id=application_id, invoice_id=invoice_id)
    return RedirectResponse(f"{url}/card?lang={lang}" if provider == "card" else f"{url}?lang={lang}#promptpay",
                            status_code=303)


@router.get(INVOICE_PAGE + "/card", response_class=HTMLResponse)
def card_page(request: Request, application_id: str, invoice_id: str, engine: EngineDep, principal: CitizenPage,
              lang: PageLang) -> Response:
    """The card form: Stripe's Payment Element (Stripe.js, loaded from js.stripe.com on this page only) confirms
    the PaymentIntent in the browser and returns to the invoice page, which turns to paid when Stripe's webhook
    arrives. Without a started card payment (or once paid) it is the invoice page's to say."""
    key = _card_key(engine)
    url = INVOICE_PAGE.format(application_id=application_id, invoice_id=invoice_id)
    with query(engine) as session:
        view = applications.view(engine.ctx, session, principal, application_id)
        invoice = _invoice(view, invoice_id)
        try:
            pending = online.pending_invoice_payment(engine.ctx, session, principal, invoice_id, STRIPE) \
                if key is not None else None
        except BizPortalError as err:
            return _refused(request, engine, principal, application_id, invoice_id, lang, err)
    if pending is None or key is None:
        return RedirectResponse(f"{url}?lang={lang}", status_code=303)
    payment, instructions = pending
    response = render(request, "account/card.html", {
        "view": view, "invoice": invoice, "payment": payment, "client_secret": instructions.client_secret,
        "publishable_key": key, "page_url": url,
        "return_url": f"{request.app.state.public_base_url.rstrip('/')}{url}?lang={lang}"}, lang, principal=principal)
    response.headers["Content-Security-Policy"] = CARD_CONTENT_SECURITY_POLICY
    return response


def _refused(request: Request, engine: LicensingEngine, principal: Principal, application_id: str,
             invoice_id: str, lang: Lang, err: BizPortalError) -> HTMLResponse:
    """The invoice page again, the engine's reason in the error summary (a paid invoice, a provider down)."""
    context = _context(engine, principal, application_id, invoice_id)
    context["errors"] = [(err.message, "#ways-to-pay")]
    return render(request, "account/invoice.html", context, lang, status_code=409, principal=principal)


@router.get(INVOICE_PAGE + "/slip", response_class=HTMLResponse)
def counter_slip(request: Request, application_id: str, invoice_id: str, engine: EngineDep,
                 principal: CitizenPage, lang: PageLang) -> HTMLResponse:
    """A slip to print and take to the agency's counter: reference, amount, due date, where to pay."""
    return render(request, "account/slip.html", _context(engine, principal, application_id, invoice_id), lang,
                  principal=principal)
