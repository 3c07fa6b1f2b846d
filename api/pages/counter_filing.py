"""Filing on the entrepreneur's behalf (`/counter/entrepreneurs/{id_number}/file`): the licences, the consent the
officer takes, the applicant's contact and the business. The POST creates the draft through the use case of
POST /api/v1/applications (with `consent` and the idempotency key made when the form was shown), then sends the
officer on to `/apply/{id}` (forms, documents, check answers, submit).

A refusal re-renders the form with what was typed, an error summary linking each field, and the message beside
it: pydantic's input errors and the engine's own (`details.field` names the field) land on the same field names.
The business's fields, their parsing and their messages are the apply pages' too (api/pages/business_form.py).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from bizportal.api.deps import EngineDep, command
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages import business_form
from bizportal.api.pages.counter_company import LETTER_CHECKED, LETTER_UNTIL, checked_letter, record_letter
from bizportal.api.pages.counter_people import (
    CounterPage,
    IdNumberPath,
    counter_context,
    holder_kind,
    id_number_error,
)
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.engine.applications import applications
from bizportal.engine.applications.input import ApplicationInput
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.clock import BANGKOK
from bizportal.engine.errors import BizPortalError, Conflict, Forbidden, InvalidInput, Unavailable
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

# The form's fields, named as the API's body names them (so an engine error's `details.field` finds its field).
FIELDS = ("applicant.name", "applicant.email", "applicant.language", *business_form.FIELDS, "consent.method",
          "consent.valid_until", "consent.given_by_id_number", "consent.given_by_name", LETTER_CHECKED, LETTER_UNTIL)
GENERAL = "licences"  # where an error that names no field of the form is linked
# Refusals about the entrepreneur themselves (not registered; the registry not answering): told at the top, by
# the number the officer found them with.
ABOUT_THE_NUMBER = ("applicant.id_number", "registry")
REFUSALS: tuple[tuple[type[BizPortalError], int], ...] = (
    (InvalidInput, 422), (Forbidden, 403), (Conflict, 409), (Unavailable, 503))
FIRST_CHOICE = {"consent.method": "method-identity_checked_in_person", "applicant.language": "language-th",
                "applicant.id_number": "f-applicant-id-number", "registry": "f-applicant-id-number"}
CONSENT_DAYS_PROPOSED = 180  # what the form proposes; the engine allows up to consents.MAX_CONSENT_DAYS


field_id = business_form.field_id  # one id rule for every field of the form


def _body(kind: str, id_number: str, licences: list[str], values: dict[str, str]) -> dict[str, Any]:
    """The API's request body from the form: empty optional fields are left out, as a person leaves them."""
    def given(field: str) -> str | None:
        return values.get(field) or None

    return {
        "licences": licences,
        "applicant": {"kind": kind, "id_number": id_number, "name": values["applicant.name"],
                      "email": given("applicant.email"), "language": values["applicant.language"] or "th"},
        "business": business_form.body(values),
        "consent": {"method": values["consent.method"], "valid_until": values["consent.valid_until"],
                    "given_by_id_number": given("consent.given_by_id_number"),
                    "given_by_name": given("consent.given_by_name")},
    }


def _input_errors(err: ValidationError) -> dict[str, str | None]:
    """Each field pydantic refused (the first problem of each), without pydantic's English: the label says it."""
    fields: dict[str, str | None] = {}
    for problem in err.errors():
        path = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        field = next((f for f in FIELDS if path == f or path.startswith(f + ".")), GENERAL)
        fields.setdefault(field, None)
    return fields


def _engine_error(err: BizPortalError) -> dict[str, str | None]:
    """The field the engine names (`details.field`), or who acts for a company, else the licences; with the
    engine's words, shown under the field's message."""
    named = err.details.get("field") if isinstance(err.details, dict) else None
    if isinstance(err, Forbidden):  # nobody known to act for the company: the person at the counter
        named = "consent.given_by_id_number"
    if isinstance(err, Unavailable):
        named = "registry"
    field = named if named in FIELDS or named in ABOUT_THE_NUMBER else GENERAL
    return {field: err.message}


def _form(request: Request, engine: LicensingEngine, principal: Principal, lang: Lang, id_number: str,
          chosen: list[str], values: dict[str, str], key: str, q: str = "",
          problems: dict[str, str | None] | None = None, status_code: int = 200,
          worded: dict[str, str] | None = None) -> HTMLResponse:
    """The form; `problems`: field -> the engine's words (or None), each told by the field's label unless
    `worded` (field -> message) says it better (a business field's refusal, from business_form)."""
    labels = LABELS[lang]
    catalogue = engine.ctx.catalogue
    needle = q.strip().casefold()
    shown = [m for m in sorted(catalogue.licences.values(), key=lambda m: getattr(m, f"name_{lang}"))
             if m.code in chosen or not needle or needle in m.code or needle in m.name_th.casefold()
             or needle in m.name_en.casefold()]
    problems = problems or {}
    worded = worded or {}
    messages = {field: worded.get(field) or _message(field, labels) for field in problems}
    targets = {GENERAL: field_id(GENERAL) + ("-" + shown[0].code if shown else ""),
               **FIRST_CHOICE}  # a group's error links to its first choice
    summary = [(messages[field], "#" + targets.get(field, field_id(field)))
               for field in (*ABOUT_THE_NUMBER, GENERAL, *FIELDS) if field in problems]
    return render(request, "counter/file.html", {
        **counter_context(engine, principal), "id_number": id_number, "masked": mask_thai_id(id_number),
        "kind": holder_kind(id_number),
        "licences": shown, "agencies": catalogue.agencies, "chosen": chosen, "q": q, "values": values, "key": key,
        "errors": summary, "messages": messages, "details": {f: d for f, d in problems.items() if d},
        "business_errors": {field_id(f): m for f, m in messages.items() if f in business_form.FIELDS},
        "business_details": {field_id(f): d for f, d in problems.items() if d and f in business_form.FIELDS},
        "field_id": field_id}, lang, status_code=status_code, principal=principal)


def _message(field: str, labels: dict[str, str]) -> str:
    """What the field needs, in the page's language."""
    if field in business_form.FIELDS:
        return business_form.message(field, labels)
    return labels[f"counter_err_{field.replace('.', '_')}"]


def _proposed_until(engine: LicensingEngine) -> str:
    return (engine.ctx.clock.now().astimezone(BANGKOK).date() + timedelta(days=CONSENT_DAYS_PROPOSED)).isoformat()


@router.get("/counter/entrepreneurs/{id_number}/file", response_class=HTMLResponse)
def filing_form(request: Request, id_number: IdNumberPath, engine: EngineDep, principal: CounterPage,
                lang: PageLang, licences: Annotated[str | None, Query(max_length=4000)] = None,
                q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """The filing form; `licences` (comma-separated codes, e.g. from the finder) are ticked, `q` narrows the
    list of the catalogue's licences."""
    _, error = id_number_error(id_number)
    if error is not None:
        raise InvalidInput(f"{id_number} is not a Thai identification number",
                           hint="find the entrepreneur again at /counter")
    chosen = [code for code in (licences or "").split(",") if code in engine.ctx.catalogue.licences]
    values = {field: "" for field in FIELDS}
    values.update({"applicant.language": "th", "consent.method": "identity_checked_in_person",
                   "consent.valid_until": _proposed_until(engine)})
    return _form(request, engine, principal, lang, id_number, chosen, values, str(uuid.uuid4()), q)


@router.post("/counter/entrepreneurs/{id_number}/file")
async def file_for_entrepreneur(request: Request, id_number: IdNumberPath, engine: EngineDep,
                                principal: CounterPage, background: BackgroundTasks, lang: PageLang) -> Response:
    """Create the draft in the entrepreneur's name with the consent taken (POST /api/v1/applications' use case),
    then go on to its forms and documents at /apply/{id}."""
    submitted = await request.form()
    licences = [str(code) for code in submitted.getlist("licences")][:80]
    values = {field: str(submitted.get(field, "")).strip()[:1000] for field in FIELDS}
    key = str(submitted.get("idempotency_key", ""))[:200] or str(uuid.uuid4())
    _, error = id_number_error(id_number)
    if error is not None:
        raise InvalidInput(f"{id_number} is not a Thai identification number")
    kind = holder_kind(id_number)
    letter, problems = checked_letter(values) if kind == "juristic" else (None, {})
    data: ApplicationInput | None = None
    try:
        data = ApplicationInput.model_validate(_body(kind, id_number, licences, values))
    except ValidationError as err:
        problems = {**_input_errors(err), **problems}
    if problems or data is None:
        return _form(request, engine, principal, lang, id_number, licences, values, key, problems=problems,
                     status_code=422)

    def create(data: ApplicationInput) -> str:
        with command(engine, background) as session:
            if letter is not None:
                record_letter(engine, session, principal, id_number, letter)
            application, _ = applications.create(engine.ctx, session, principal, data, key)
            return application.id

    try:
        created = await run_in_threadpool(create, data)
    except (InvalidInput, Forbidden, Conflict, Unavailable) as err:
        status = next(code for kind, code in REFUSALS if isinstance(err, kind))
        business = business_form.engine_error(err, LABELS[lang], business_form.licence_names(
            engine.ctx.catalogue, lang))
        return _form(request, engine, principal, lang, id_number, licences, values, key,
                     problems=_engine_error(err), status_code=status, worded=dict([business]) if business else None)
    return RedirectResponse(f"/apply/{created}", status_code=303)
