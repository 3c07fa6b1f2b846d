"""The start of an application: `GET /apply` (the licences chosen in the finder or the catalogue, ticked, or the
catalogue to choose from), `GET /apply/details` (the shared data, entered once) and `POST /apply`, which creates
the draft through the same use case as `POST /api/v1/applications` and sends the person to its task list.

The draft is the signed-in entrepreneur's own: the applicant is the sign-in's person (a counter officer files for
someone from the /counter pages, which create the draft with the consent and send the officer to its task list).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bizportal.api.deps import EngineDep, command
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages import business_form
from bizportal.api.pages.apply import shared_data
from bizportal.api.pages.apply.access import ApplyRoute, FieldError, by_field, summary
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import CitizenPage
from bizportal.api.routes.business_types import FinderDep
from bizportal.engine.applications import applications
from bizportal.engine.applications.input import ApplicationInput
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.catalogue.finder import BusinessTypeFinder
from bizportal.engine.catalogue.manual import LicenceManual
from bizportal.engine.errors import Conflict, InvalidInput
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=ApplyRoute)

MAX_LICENCES = 80  # as ApplicationInput.licences


def chosen(engine: LicensingEngine, codes: list[str]) -> list[LicenceManual]:
    """The catalogue's manuals of `codes`, in order, once each; an unknown code (an edited address) is left out."""
    licences = engine.ctx.catalogue.licences
    seen: list[str] = []
    for code in codes:
        if code in licences and code not in seen:
            seen.append(code)
    return [licences[code] for code in seen[:MAX_LICENCES]]


def _catalogue(engine: LicensingEngine, search: str, lang: Lang) -> list[dict[str, Any]]:
    """Every licence grouped by agency (agencies and licences in alphabetical order of the page's language),
    narrowed to names containing `search` in either language."""
    catalogue = engine.ctx.catalogue
    wanted = search.casefold()
    groups: dict[str, list[LicenceManual]] = {}
    for manual in catalogue.licences.values():
        if wanted and wanted not in manual.name_th.casefold() and wanted not in manual.name_en.casefold():
            continue
        groups.setdefault(manual.agency, []).append(manual)
    listed = [{"agency": catalogue.agency(code),
               "licences": sorted(manuals, key=lambda m: getattr(m, f"name_{lang}").casefold())}
              for code, manuals in groups.items()]
    return sorted(listed, key=lambda g: getattr(g["agency"], f"name_{lang}").casefold())


def _start_page(request: Request, engine: LicensingEngine, lang: Lang, codes: list[str], search: str,
                principal: Principal, errors: list[FieldError] | None = None,
                business: BusinessTypeFinder | None = None) -> HTMLResponse:
    manuals = chosen(engine, codes)
    catalogue = engine.ctx.catalogue
    return render(request, "apply/start.html", {
        "chosen": [{"m": m, "agency": catalogue.agency(m.agency),
                    "prerequisites": [catalogue.licences[p] for p in m.prerequisites if p in catalogue.licences]}
                   for m in manuals],
        "chosen_codes": [m.code for m in manuals], "groups": _catalogue(engine, search, lang), "q": search,
        "business": business, "errors": summary(errors or [])}, lang, status_code=400 if errors else 200,
        principal=principal)


@router.get("/apply", response_class=HTMLResponse)
def start(request: Request, engine: EngineDep, finder: FinderDep, principal: CitizenPage, lang: PageLang,
          licences: Annotated[str, Query(max_length=8000)] = "",
          licence: Annotated[list[str] | None, Query(max_length=MAX_LICENCES)] = None,
          business_type: Annotated[str | None, Query(max_length=100)] = None,
          q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """`licences=A,B` (the finder's and the catalogue's link) or `licence=A&licence=B` (this page's own search
    form, which keeps the ticks); `business_type` is the finder's: the page names the business it found them for."""
    codes = [code.strip() for code in licences.split(",") if code.strip()] + (licence or [])
    business = finder.types.get(business_type) if business_type else None
    return _start_page(request, engine, lang, codes, q.strip(), principal, business=business)


def _details_page(request: Request, engine: LicensingEngine, lang: Lang, principal: Principal,
                  manuals: list[LicenceManual], values: dict[str, str], key: str,
                  errors: list[FieldError] | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "apply/details.html", {
        "licences": manuals, "values": values, "key": key, "errors": summary(errors or []),
        "field_errors": by_field(errors or []),
        "masked_id": mask_thai_id(principal.id_number) if principal.id_number else None,
        "change_licences": "/apply?" + urlencode({"licences": ",".join(m.code for m in manuals)})},
        lang, status_code=status_code, principal=principal)


@router.get("/apply/details", response_class=HTMLResponse)
def details(request: Request, engine: EngineDep, principal: CitizenPage, lang: PageLang,
            licence: Annotated[list[str] | None, Query(max_length=MAX_LICENCES)] = None) -> HTMLResponse:
    """The shared data of the licences ticked on the start page; none ticked: the start page says so."""
    manuals = chosen(engine, licence or [])
    if not manuals:
        return _start_page(request, engine, lang, [], "", principal,
                           [FieldError("catalogue", LABELS[lang]["apply_error_no_licence"])])
    return _details_page(request, engine, lang, principal, manuals, {"language": lang}, uuid.uuid4().hex)


@router.post("/apply", response_class=HTMLResponse)
async def create(request: Request, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                 background: BackgroundTasks) -> Response:
    """Create the draft (idempotent on the form's key: a double click or a resend opens the same draft)."""
    form = await request.form()
    labels = LABELS[lang]
    manuals = chosen(engine, [str(code) for code in form.getlist("licence")])
    values = shared_data.read(form)
    key = str(form.get("idempotency_key") or "")[:200] or uuid.uuid4().hex
    if not manuals:
        return _start_page(request, engine, lang, [], "", principal,
                           [FieldError("catalogue", labels["apply_error_no_licence"])])
    names = business_form.licence_names(engine.ctx.catalogue, lang)
    try:
        body = ApplicationInput.model_validate({
            "licences": [m.code for m in manuals],
            "applicant": {"kind": "individual", "id_number": principal.id_number or "",
                          "name": principal.name or principal.subject, "email": values["email"] or None,
                          "language": values["language"] or lang},
            "business": business_form.body(values)})
    except ValidationError as err:
        return _details_page(request, engine, lang, principal, manuals, values, key,
                             shared_data.input_errors(err, labels), 400)
    try:
        with command(engine, background) as session:
            application, _ = applications.create(engine.ctx, session, principal, body, key)
            application_id = application.id
    except InvalidInput as err:
        return _details_page(request, engine, lang, principal, manuals, values, key,
                             shared_data.engine_errors(err, labels, names), 400)
    except Conflict:  # the key was used for another draft: this form was sent before, then changed (back button)
        return _details_page(request, engine, lang, principal, manuals, values, uuid.uuid4().hex,
                             [FieldError(business_form.field_id("business.name"), labels["apply_error_resent"])], 409)
    return RedirectResponse(f"/apply/{application_id}", status_code=303)
