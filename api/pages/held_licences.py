"""My licences: the licences issued to me (or to the companies I act for), each with its e-licence download and
the forms to renew, amend and cancel it.

The three requests go through the use cases of POST /api/v1/issued-licences/{number}/renewals|amendments|
cancellations (`engine/licences/requests.py`), with the engine's input models checking the fields and the form's
hidden idempotency key (made when the form was rendered) as the request's key, so a double click opens one
request. A request is an application submitted at once: the page then goes to `/applications/{id}`. When the
engine refuses (renewal not open yet, a second open request, an address in another district) the licence's page
comes back with the engine's reason in the error summary and nothing written. Cancelling asks to confirm first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import Lang
from bizportal.api.pages.form_input import FormErrors, checked, engine_refused, form_fields, new_key
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import CitizenPage
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import BizPortalError, NotFound
from bizportal.engine.licences import issuing, requests
from bizportal.engine.licences.amendment import AMENDABLE, AmendmentInput
from bizportal.engine.licences.cancellation import CancellationInput
from bizportal.engine.licences.renewal import RenewalInput, window
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import Status
from bizportal.storage.applications import ApplicationRow

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

# Each form: the engine's input model, the use case, and the form's fields (the first one takes a form-wide error).
LicenceRequest = Callable[..., tuple[ApplicationRow, bool]]
FORMS: dict[str, tuple[type[BaseModel], LicenceRequest, tuple[str, ...]]] = {
    "renew": (RenewalInput, requests.request_renewal, ("note",)),
    "amend": (AmendmentInput, requests.request_amendment, (*AMENDABLE, "business_district", "reason")),
    "cancel": (CancellationInput, requests.request_cancellation, ("reason",)),
}


@router.get("/my-licences", response_class=HTMLResponse)
def my_licences(request: Request, engine: EngineDep, principal: CitizenPage, lang: PageLang) -> HTMLResponse:
    with query(engine) as session:
        held = issuing.held_licences(engine.ctx, session, principal)
    return render(request, "account/my_licences.html", {"licences": held, "catalogue": engine.ctx.catalogue}, lang,
                  principal=principal)


def _licence_page(request: Request, engine: EngineDep, principal: Principal, number: str, lang: Lang,
                  errors: FormErrors | None = None, form: str | None = None, sent: dict[str, str] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    with query(engine) as session:
        issued = issuing.readable_issued_licence(engine.ctx, session, principal, number)
        application = session.get(ApplicationRow, issued.application_id)
    renewal = window(issued.valid_until) if issued.valid_until else None
    context: dict[str, Any] = {
        "issued": issued, "manual": engine.ctx.catalogue.licence(issued.licence_code),
        "agency": engine.ctx.catalogue.agencies.get(issued.agency), "renewal": renewal,
        "juristic": application is not None and application.applicant_kind == "juristic",
        "address": application.business_address if application else "",
        "errors": errors.summary if errors else [], "field_errors": errors.fields if errors else {},
        "form": form, "sent": sent or {}, "keys": {name: new_key() for name in FORMS}}
    if form and sent and sent.get("idempotency_key"):
        context["keys"][form] = sent["idempotency_key"]  # a corrected resend is still the same request
    return render(request, "account/held_licence.html", context, lang, status_code=status_code, principal=principal)


@router.get("/my-licences/{number}", response_class=HTMLResponse)
def held_licence(request: Request, number: str, engine: EngineDep, principal: CitizenPage,
                 lang: PageLang) -> HTMLResponse:
    return _licence_page(request, engine, principal, number, lang)


def _values(kind: str, sent: dict[str, str]) -> dict[str, str]:
    """The form's own fields, an empty optional field left out (the engine's models mean "no change" by None)."""
    names = FORMS[kind][2]
    return {name: sent[name] for name in names if sent.get(name, "").strip() or (kind == "renew" and name in sent)}


async def _send(request: Request, kind: str, number: str, engine: LicensingEngine, principal: Principal,
                lang: Lang, background: BackgroundTasks, confirmed: bool = True) -> Response:
    sent = await form_fields(request)
    model, use_case, names = FORMS[kind]
    errors = FormErrors(kind, names[0])
    data = checked(model, _values(kind, sent), lang, errors)
    if data is None:
        return _licence_page(request, engine, principal, number, lang, errors, kind, sent, 400)
    if not confirmed:
        with query(engine) as session:
            issued = issuing.readable_issued_licence(engine.ctx, session, principal, number)
        return render(request, "account/cancel_confirm.html", {
            "issued": issued, "manual": engine.ctx.catalogue.licence(issued.licence_code), "reason": sent["reason"],
            "key": sent.get("idempotency_key") or new_key()}, lang, principal=principal)
    try:
        with command(engine, background) as session:
            application, _ = use_case(engine.ctx, session, principal, number, data,
                                      sent.get("idempotency_key") or None)
            new_id, draft = application.id, application.status == Status.DRAFT
    except NotFound:
        raise  # not the caller's licence: the 404 page
    except BizPortalError as err:
        engine_refused(err, errors)
        return _licence_page(request, engine, principal, number, lang, errors, kind, sent, 409)
    return RedirectResponse(f"/apply/{new_id}" if draft else f"/applications/{new_id}", status_code=303)


@router.post("/my-licences/{number}/renewal")
async def renew(request: Request, number: str, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                background: BackgroundTasks) -> Response:
    return await _send(request, "renew", number, engine, principal, lang, background)


@router.post("/my-licences/{number}/amendment")
async def amend(request: Request, number: str, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                background: BackgroundTasks) -> Response:
    return await _send(request, "amend", number, engine, principal, lang, background)


@router.post("/my-licences/{number}/cancellation")
async def cancel(request: Request, number: str, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                 background: BackgroundTasks) -> Response:
    """First the reason (then a page to confirm), then the confirmed request (`confirm=yes`)."""
    confirmed = (await form_fields(request)).get("confirm") == "yes"
    return await _send(request, "cancel", number, engine, principal, lang, background, confirmed)
