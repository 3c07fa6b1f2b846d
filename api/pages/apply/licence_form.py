"""One licence's own form (`/apply/{id}/licences/{code}`): its typed fields (engine/catalogue/forms.py) as inputs,
saved through the same use case as `PATCH /api/v1/applications/{id}` with the version the page was made from.

The page turns each input's text into the JSON value the API would receive (a number, true/false, a date string);
whether the value fits its field (bounds, whole numbers, choices, lengths) is the engine's check, and its refusal
is shown beside the field in words of the page's language, from the field's own definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bizportal.api.deps import EngineDep, command
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.apply.access import (
    ApplyRoute,
    DraftPage,
    FieldError,
    by_field,
    open_draft,
    read_draft,
    summary,
)
from bizportal.api.pages.rendering import PageLang, page_helpers, render
from bizportal.engine.applications import applications
from bizportal.engine.applications.input import ApplicationChange
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.catalogue.forms import FormField
from bizportal.engine.catalogue.manual import LicenceManual
from bizportal.engine.errors import InvalidInput, NotFound, PreconditionFailed
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=ApplyRoute)

YES, NO = "yes", "no"


def field_id(field: FormField) -> str:
    return f"f-{field.name}"


def as_text(field: FormField, value: Any) -> str:
    """A stored value as the input shows it."""
    if value is None:
        return ""
    if field.type == "yes_no":
        return YES if value is True else NO if value is False else ""
    if field.type == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str) -> int | float | str:
    """A number as people write it (1,250 or 12.5); what is not a number is passed on for the engine to refuse."""
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def typed(field: FormField, text: str) -> Any:
    """The JSON value of an input's text (None: not given)."""
    if not text:
        return None
    if field.type == "number":
        return _number(text)
    if field.type == "yes_no":
        return {YES: True, NO: False}.get(text, text)
    return text


def allowed(field: FormField, lang: Lang) -> str:
    """What the field accepts, in words of the page's language (the hint under a number, and the error message)."""
    labels = LABELS[lang]
    number = page_helpers(lang)["number"]
    if field.type == "number":
        unit = unit_text(field.unit, lang)
        template = labels["apply_allowed_whole" if field.integer else "apply_allowed_number"]
        return template % (number(field.minimum or 0), number(field.maximum or 0), unit)
    if field.type == "text":
        return labels["apply_allowed_text"] % field.text_limit
    return labels[f"apply_allowed_{field.type}"]


def unit_text(unit: str | None, lang: Lang) -> str:
    """A field's unit as the page's language writes it (the catalogue writes m2, seats, persons...)."""
    if not unit:
        return ""
    return LABELS[lang].get(f"unit_{unit}", unit)


def form_errors(manual: LicenceManual, err: InvalidInput | ValidationError, lang: Lang) -> list[FieldError]:
    """The engine's refusal of a form's values, beside each field it names."""
    if isinstance(err, ValidationError):  # the outer limits of any form (input.py): a text too long for any form
        names = [str(e["loc"][2]) for e in err.errors() if len(e["loc"]) > 2]  # ("form", licence, field, ...)
    else:
        details = err.details if isinstance(err.details, dict) else {}
        paths = [e["field"] for e in details.get("errors", [])] or [str(details.get("field", ""))]
        names = [path.rsplit(".", 1)[-1] for path in paths]
    labels = LABELS[lang]
    errors = []
    for name in names:
        field = manual.form.field(name)
        if field is None:
            continue
        message = (labels["apply_error_choose"] % label(field, lang) if field.type in ("choice", "yes_no")
                   else labels["apply_error_enter"] % (label(field, lang), allowed(field, lang)))
        errors.append(FieldError(field_id(field), message))
    if not errors:
        message = err.message if isinstance(err, InvalidInput) else str(err)
        errors.append(FieldError("licence-form", labels["apply_error_other"] % message))
    return errors


def label(field: FormField, lang: Lang) -> str:
    return str(getattr(field, f"label_{lang}"))


def _manual(engine: LicensingEngine, code: str, licences: list[str]) -> LicenceManual:
    if code not in licences:
        raise NotFound(f"licence {code} is not part of this application")
    return engine.ctx.catalogue.licence(code)


def _page(request: Request, lang: Lang, principal: Principal, application_id: str, manual: LicenceManual,
          values: Mapping[str, str], version: str, errors: list[FieldError], stale: bool = False,
          status_code: int = 200) -> HTMLResponse:
    fields = [{"f": f, "id": field_id(f), "value": values.get(f.name, ""), "hint": getattr(f, f"help_{lang}"),
               "allowed": allowed(f, lang) if f.type == "number" else None, "unit": unit_text(f.unit, lang),
               "choices": [(c.value, getattr(c, f"label_{lang}")) for c in f.choices]}
              for f in manual.form.fields]
    return render(request, "apply/licence_form.html", {
        "application_id": application_id, "m": manual, "fields": fields, "version": version, "stale": stale,
        "errors": summary(errors), "field_errors": by_field(errors)}, lang, status_code=status_code,
        principal=principal)


@router.get("/apply/{application_id}/licences/{code}", response_class=HTMLResponse)
def licence_form(application_id: str, code: str, request: Request, engine: EngineDep, principal: DraftPage,
                 lang: PageLang) -> Response:
    view = open_draft(engine, principal, application_id)
    manual = _manual(engine, code, [licence.code for licence in view.licences])
    stored = view.form.get(code, {})
    values = {f.name: as_text(f, stored.get(f.name)) for f in manual.form.fields}
    return _page(request, lang, principal, application_id, manual, values, view.version, [])


@router.post("/apply/{application_id}/licences/{code}", response_class=HTMLResponse)
async def save_licence_form(application_id: str, code: str, request: Request, engine: EngineDep,
                            principal: DraftPage, lang: PageLang, background: BackgroundTasks,
                            version: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Save the form (the fields left empty are not given: a draft may lack them until it is submitted)."""
    view = open_draft(engine, principal, application_id)
    manual = _manual(engine, code, [licence.code for licence in view.licences])
    form = await request.form()
    values = {f.name: text.strip() if isinstance(text := form.get(f.name), str) else "" for f in manual.form.fields}
    sent = {f.name: typed(f, values[f.name]) for f in manual.form.fields}
    try:
        change = ApplicationChange.model_validate({"form": {code: {k: v for k, v in sent.items() if v is not None}}})
        with command(engine, background) as session:
            applications.change(engine.ctx, session, principal, application_id, change, version or None)
    except PreconditionFailed:
        # Changed meanwhile (another tab, or the counter): show what it holds now, and say so.
        current = read_draft(engine, principal, application_id)
        stored = current.form.get(code, {})
        return _page(request, lang, principal, application_id, manual,
                     {f.name: as_text(f, stored.get(f.name)) for f in manual.form.fields}, current.version,
                     [FieldError("licence-form", LABELS[lang]["apply_error_stale"])], stale=True, status_code=409)
    except (InvalidInput, ValidationError) as err:
        return _page(request, lang, principal, application_id, manual, values, version,
                     form_errors(manual, err, lang), status_code=400)
    return RedirectResponse(f"/apply/{application_id}", status_code=303)
