"""The task list of a draft (`/apply/{id}`), its shared data (`/apply/{id}/business`), check your answers with the
declaration and the submit button (`/apply/{id}/check`), and the confirmation (`/apply/{id}/done`).

Each task's state comes from what the engine holds: a licence's form is done when every required field has a
value, the documents when no required one is missing; checking the answers can start when the others are done.
The submit is the same use case as `POST /api/v1/applications/{id}/submit`: what it still misses comes back as
an error summary linking to the page where it is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bizportal.api.deps import EngineDep, command
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages import business_form
from bizportal.api.pages.apply import shared_data
from bizportal.api.pages.apply.access import (
    ApplyRoute,
    DraftPage,
    FieldError,
    by_field,
    open_draft,
    read_draft,
    summary,
)
from bizportal.api.pages.apply.documents import DocumentLine, checklist, missing
from bizportal.api.pages.apply.licence_form import unit_text
from bizportal.api.pages.rendering import PageLang, render
from bizportal.engine.applications import applications
from bizportal.engine.applications.applications import ApplicationView
from bizportal.engine.applications.input import ApplicationChange
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Forbidden, InvalidInput, PreconditionFailed
from bizportal.engine.payments.fees import fee_by_rule
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import Status

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=ApplyRoute)

DONE, IN_PROGRESS, NOT_STARTED, CANNOT_START = "done", "in_progress", "not_started", "cannot_start"


@dataclass(frozen=True)
class Task:
    label: str
    href: str | None  # None: cannot start yet
    state: str
    hint: str | None = None


def _form_state(view: ApplicationView, code: str) -> str:
    fields = view.form_fields.get(code, [])
    if all(f.value is not None for f in fields if f.required):
        return DONE
    return IN_PROGRESS if any(f.value is not None for f in fields) else NOT_STARTED


def tasks(engine: LicensingEngine, view: ApplicationView, documents: list[DocumentLine], lang: Lang) -> list[Task]:
    labels = LABELS[lang]
    catalogue = engine.ctx.catalogue
    listed = [Task(labels["apply_task_business"], f"/apply/{view.id}/business", DONE)]
    listed += [Task(labels["apply_task_form"] % getattr(catalogue.licence(licence.code), f"name_{lang}"),
                    f"/apply/{view.id}/licences/{licence.code}", _form_state(view, licence.code))
               for licence in view.licences]
    owed = missing(documents)
    uploaded = any(d.current for d in documents)
    listed.append(Task(labels["apply_task_documents"], f"/apply/{view.id}/documents",
                       DONE if not owed else IN_PROGRESS if uploaded else NOT_STARTED,
                       labels["apply_documents_owed"] % len(owed) if owed else None))
    ready = all(task.state == DONE for task in listed)
    listed.append(Task(labels["apply_task_check"], f"/apply/{view.id}/check" if ready else None,
                       NOT_STARTED if ready else CANNOT_START))
    return listed


@router.get("/apply/{application_id}", response_class=HTMLResponse)
def task_list(application_id: str, request: Request, engine: EngineDep, principal: DraftPage,
              lang: PageLang) -> Response:
    view = open_draft(engine, principal, application_id)
    listed = tasks(engine, view, checklist(engine, principal, application_id), lang)
    return render(request, "apply/tasks.html", {
        "view": view, "tasks": listed, "done": sum(task.state == DONE for task in listed),
        "licence_names": _licence_names(engine, view)}, lang, principal=principal)


def _licence_names(engine: LicensingEngine, view: ApplicationView) -> dict[str, Any]:
    return {licence.code: engine.ctx.catalogue.licence(licence.code) for licence in view.licences}


# --- the shared data ---------------------------------------------------------------------------------------------


def _business_page(request: Request, lang: Lang, principal: Principal, view: ApplicationView,
                   values: dict[str, str], version: str, errors: list[FieldError],
                   status_code: int = 200) -> HTMLResponse:
    return render(request, "apply/business.html", {
        "view": view, "values": values, "version": version, "errors": summary(errors),
        "field_errors": by_field(errors), "masked_id": mask_thai_id(str(view.applicant.get("id_number") or ""))},
        lang, status_code=status_code, principal=principal)


@router.get("/apply/{application_id}/business", response_class=HTMLResponse)
def business_page(application_id: str, request: Request, engine: EngineDep, principal: DraftPage,
                  lang: PageLang) -> Response:
    view = open_draft(engine, principal, application_id)
    return _business_page(request, lang, principal, view, shared_data.from_view(view.applicant, view.business),
                          view.version, [])


@router.post("/apply/{application_id}/business", response_class=HTMLResponse)
async def save_business(application_id: str, request: Request, engine: EngineDep, principal: DraftPage,
                        lang: PageLang, background: BackgroundTasks) -> Response:
    view = open_draft(engine, principal, application_id)
    form = await request.form()
    values = shared_data.read(form)
    version = str(form.get("version") or "")[:200]
    labels = LABELS[lang]
    names = business_form.licence_names(engine.ctx.catalogue, lang)
    try:
        change = ApplicationChange.model_validate({"applicant": shared_data.applicant_change(values),
                                                   "business": business_form.body(values)})
    except ValidationError as err:
        return _business_page(request, lang, principal, view, values, version,
                              shared_data.input_errors(err, labels), 400)
    try:
        with command(engine, background) as session:
            applications.change(engine.ctx, session, principal, application_id, change, version or None)
    except PreconditionFailed:
        current = read_draft(engine, principal, application_id)
        return _business_page(request, lang, principal, current,
                              shared_data.from_view(current.applicant, current.business), current.version,
                              [FieldError(business_form.field_id("business.name"), labels["apply_error_stale"])], 409)
    except InvalidInput as err:
        return _business_page(request, lang, principal, view, values, version,
                              shared_data.engine_errors(err, labels, names), 400)
    return RedirectResponse(f"/apply/{application_id}", status_code=303)


# --- check your answers, submit, confirmation ------------------------------------------------------------------


def _fees(engine: LicensingEngine, view: ApplicationView) -> tuple[list[dict[str, Any]], int]:
    """Each licence's fee as its rule sets it from the answers so far (None: not known yet), and their total."""
    rows, total = [], 0
    for licence in view.licences:
        manual = engine.ctx.catalogue.licence(licence.code)
        try:
            amount: int | None = fee_by_rule(manual, float(view.business["area_m2"]), view.form.get(licence.code, {}))
        except InvalidInput:  # the field that sets it is not filled in yet
            amount = None
        rows.append({"m": manual, "amount": amount})
        total += amount or 0
    return rows, total


def _check_page(request: Request, engine: LicensingEngine, lang: Lang, principal: Principal, view: ApplicationView,
                errors: list[FieldError], status_code: int = 200) -> HTMLResponse:
    fees, total = _fees(engine, view)
    documents = checklist(engine, principal, view.id)
    units = {code: {f.name: unit_text(f.unit, lang) for f in fields} for code, fields in view.form_fields.items()}
    return render(request, "apply/check.html", {
        "view": view, "licence_names": _licence_names(engine, view), "fees": fees, "total": total,
        "documents": documents, "owed": missing(documents), "units": units,
        "masked_id": mask_thai_id(str(view.applicant.get("id_number") or "")),
        "errors": summary(errors), "field_errors": by_field(errors)}, lang, status_code=status_code,
        principal=principal)


@router.get("/apply/{application_id}/check", response_class=HTMLResponse)
def check_page(application_id: str, request: Request, engine: EngineDep, principal: DraftPage,
               lang: PageLang) -> Response:
    view = open_draft(engine, principal, application_id)
    return _check_page(request, engine, lang, principal, view, [])


def submit_errors(engine: LicensingEngine, view: ApplicationView, err: InvalidInput | Forbidden,
                  lang: Lang) -> list[FieldError]:
    """What the submit still misses, each linking to the page where it is fixed."""
    labels = LABELS[lang]
    if isinstance(err, Forbidden):  # signed in below a licence's assurance level
        return [FieldError("declaration", labels["apply_error_assurance"])]
    details = err.details if isinstance(err.details, dict) else {}
    errors = []
    for item in details.get("missing", []):
        if isinstance(item, dict):  # a document
            errors.append(FieldError(f"/apply/{view.id}/documents#doc-{item['document']}",
                                     labels["apply_error_missing_document"] % item[f"name_{lang}"]))
        elif str(item).startswith("form."):
            _, code, name = str(item).split(".", 2)
            manual = engine.ctx.catalogue.licence(code)
            field = manual.form.field(name)
            errors.append(FieldError(f"/apply/{view.id}/licences/{code}#f-{name}", labels["apply_error_missing_field"]
                                     % (getattr(field, f"label_{lang}") if field else name,
                                        getattr(manual, f"name_{lang}"))))
    return errors or [FieldError("declaration", labels["apply_error_other"] % err.message)]


@router.post("/apply/{application_id}/check", response_class=HTMLResponse)
def submit(application_id: str, request: Request, engine: EngineDep, principal: DraftPage, lang: PageLang,
           background: BackgroundTasks, declaration: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Submit, once the declaration is ticked; a double click finds it submitted and shows the confirmation."""
    view = read_draft(engine, principal, application_id)
    if view.status != Status.DRAFT:
        return RedirectResponse(f"/apply/{application_id}/done", status_code=303)
    if declaration != "yes":
        return _check_page(request, engine, lang, principal, view,
                           [FieldError("declaration", LABELS[lang]["apply_error_declaration"])], 400)
    try:
        with command(engine, background) as session:
            applications.submit(engine.ctx, session, principal, application_id)
    except (InvalidInput, Forbidden) as err:
        return _check_page(request, engine, lang, principal, view, submit_errors(engine, view, err, lang), 400)
    return RedirectResponse(f"/apply/{application_id}/done", status_code=303)


@router.get("/apply/{application_id}/done", response_class=HTMLResponse)
def done(application_id: str, request: Request, engine: EngineDep, principal: DraftPage,
         lang: PageLang) -> Response:
    view = read_draft(engine, principal, application_id)
    if view.status == Status.DRAFT:
        return RedirectResponse(f"/apply/{application_id}", status_code=303)
    return render(request, "apply/done.html", {"view": view, "licence_names": _licence_names(engine, view)}, lang,
                  principal=principal)
