"""The entrepreneur's applications: the list (`/applications`) and the tracking page (`/applications/{id}`), with
what the page lets them do: upload the documents an agency asked for and send the answer, and withdraw.

Each route calls the use case its JSON twin calls (api/routes/applications.py, uploads.py, tasks.py), so the
rules are the engine's. A form that the engine refuses is shown again with the error summary (GOV.UK), with the
status the API would have answered; a form that succeeds redirects (303) to the tracking page, which says what
was done (`?done=`). The page works without JavaScript; tracking-live.js and tracking-diagram.js add the live
status and the process diagrams.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.errors import STATUS
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render, size_text
from bizportal.api.pages.signin import CitizenPage
from bizportal.api.pages.tracking_view import actor_label, event_text, tracking
from bizportal.engine.applications import applications, withdrawals
from bizportal.engine.applications.withdrawals import WithdrawalInput
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskCompletion
from bizportal.engine.errors import (
    BizPortalError,
    Conflict,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from bizportal.engine.input_text import line
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import TERMINAL, Status
from bizportal.engine.uploads import documents
from bizportal.engine.uploads.limits import UploadLimits

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

PAGE_SIZE = 20
Done = Literal["uploaded", "answered", "withdrawn"]
Errors = list[tuple[str, str]]  # (message, href of the field), as the error summary macro takes them


def _status_of(err: BizPortalError) -> int:
    """The status the API answers for the same refusal (api/errors.py), so the page's refusal says the same."""
    return next((code for kind, code in STATUS.items() if isinstance(err, kind)), 400)


def _page_url(application_id: str, done: str | None = None, anchor: str = "") -> str:
    return f"/applications/{quote(application_id, safe='')}" + (f"?done={done}" if done else "") + anchor


@router.get("/applications", response_class=HTMLResponse)
def applications_page(request: Request, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                      page: Annotated[int, Query(ge=1, le=1000)] = 1) -> HTMLResponse:
    """My applications, newest first (the engine's list, GET /api/v1/applications), each with what it asks of me
    now (documents to send, fees to pay) and when it last changed."""
    ctx = engine.ctx
    with query(engine) as session:
        found = applications.list_for(ctx, session, principal, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE).items
        rows = []
        for summary in found[:PAGE_SIZE]:
            view = applications.view(ctx, session, principal, summary.id)
            rows.append({
                "summary": summary, "view": view,
                "licence_names": [getattr(ctx.catalogue.licence(code), f"name_{lang}") for code in summary.licences],
                "last_change": view.timeline[-1].at if view.timeline else view.created_at,
                "documents_asked": any(lic.status == Status.DOCUMENTS_REQUESTED for lic in view.licences),
                "to_pay": [invoice for invoice in view.invoices if invoice.status == "open"]})
    return render(request, "tracking/list.html", {
        "rows": rows, "page": page,
        "next_url": f"/applications?page={page + 1}" if len(found) > PAGE_SIZE else None,
        "previous_url": f"/applications?page={page - 1}" if page > 1 else None}, lang, principal=principal)


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def tracking_page(request: Request, application_id: str, engine: EngineDep, principal: CitizenPage,
                  lang: PageLang, done: Done | None = None) -> HTMLResponse:
    """The tracking page (another's application, or none: the 404 page, as the API's 404)."""
    return _tracking(request, engine, principal, application_id, lang, done=done)


def _tracking(request: Request, engine: EngineDep, principal: Principal, application_id: str, lang: Lang, *,
              errors: Errors | None = None, status_code: int = 200, done: str | None = None) -> HTMLResponse:
    labels = LABELS[lang]
    with query(engine) as session:
        tracked = tracking(engine.ctx, session, principal, application_id, labels, lang)
    timeline = [{"at": entry.at, "who": actor_label(entry, principal, labels),
                 "what": event_text(entry, tracked, labels, lang)} for entry in reversed(tracked.application.timeline)
                if entry.event not in HIDDEN_EVENTS]
    file_bytes = (engine.ctx.upload_limits or UploadLimits()).file_bytes
    return render(request, "tracking/application.html", {
        "tracked": tracked, "app": tracked.application, "timeline": timeline, "errors": errors or [],
        "max_size": size_text(file_bytes),
        "done": done, "stream_url": f"/api/v1/applications/{quote(tracked.application.id, safe='')}/status-stream"},
        lang, status_code=status_code, principal=principal)


# Audit entries that are not news to the applicant (their own reading of a file).
HIDDEN_EVENTS = frozenset({"document_read"})


def upload_field(licence: str, code: str) -> str:
    """The id of a requested document's file input (the error summary links to it)."""
    return f"file-{licence}-{code}"


@router.post("/applications/{application_id}/documents", response_class=HTMLResponse)
def upload_page(request: Request, application_id: str, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                background: BackgroundTasks,
                document: Annotated[str, line(100, min_length=1), Form()],
                licence: Annotated[str, line(100, min_length=1), Form()],
                file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Upload one document the agency asked for (the use case of POST /api/v1/applications/{id}/documents: after
    submission, an upload is accepted only as the answer to a request)."""
    field = upload_field(licence, document)
    if file is None or not file.filename:
        return _tracking(request, engine, principal, application_id, lang, status_code=422,
                         errors=[(LABELS[lang]["trk_error_no_file"], f"#{field}")])
    try:
        with command(engine, background) as session:
            documents.upload(engine.ctx, session, principal, application_id, document, file.filename, file.file)
    except (Conflict, InvalidInput, PayloadTooLarge, UnsupportedMediaType, Forbidden, Unavailable) as err:
        return _tracking(request, engine, principal, application_id, lang, status_code=_status_of(err),
                         errors=[(err.message, f"#{field}")])
    return RedirectResponse(_page_url(application_id, "uploaded", f"#request-{licence}"), status_code=303)


@router.post("/applications/{application_id}/licences/{licence}/answer", response_class=HTMLResponse)
def answer_page(request: Request, application_id: str, licence: str, engine: EngineDep, principal: CitizenPage,
                lang: PageLang, background: BackgroundTasks,
                task: Annotated[str, line(100, min_length=1), Form()]) -> Response:
    """Send the uploaded documents to the agency: the applicant's own step (`submit`), as POST
    /api/v1/tasks/{id}/complete; the engine refuses while a document asked for has no new version."""
    try:
        with command(engine, background) as session:
            tasks.complete(engine.ctx, session, principal, task, TaskCompletion(action="submit"))
    except (Conflict, InvalidInput, Forbidden) as err:
        if isinstance(err, Conflict) and not _still_asked(engine, principal, application_id, licence, lang):
            return RedirectResponse(_page_url(application_id), status_code=303)  # a resend: already answered
        missing = (err.details or {}).get("missing") if isinstance(err.details, dict) else None
        href = f"#{upload_field(licence, missing[0])}" if missing else f"#request-{licence}"
        return _tracking(request, engine, principal, application_id, lang, status_code=_status_of(err),
                         errors=[(err.message, href)])
    return RedirectResponse(_page_url(application_id, "answered"), status_code=303)


def _still_asked(engine: EngineDep, principal: Principal, application_id: str, licence: str, lang: Lang) -> bool:
    """Whether the licence still waits for the applicant's answer to a request for documents."""
    with query(engine) as session:
        tracked = tracking(engine.ctx, session, principal, application_id, LABELS[lang], lang)
    return any(asked.view.code == licence and asked.answer_task for asked in tracked.requests)


@router.get("/applications/{application_id}/withdraw", response_class=HTMLResponse)
def withdraw_form(request: Request, application_id: str, engine: EngineDep, principal: CitizenPage,
                  lang: PageLang) -> Response:
    """The confirmation step of a withdrawal: which licences, and why."""
    return _withdraw_page(request, engine, principal, application_id, lang)


def _withdraw_page(request: Request, engine: EngineDep, principal: Principal, application_id: str, lang: Lang, *,
                   errors: Errors | None = None, status_code: int = 200, reason: str = "",
                   chosen: list[str] | None = None) -> Response:
    labels = LABELS[lang]
    with query(engine) as session:
        tracked = tracking(engine.ctx, session, principal, application_id, labels, lang)
    if not tracked.withdrawable:  # nothing (left) to withdraw: a resent confirmation lands on the tracking page
        return RedirectResponse(_page_url(application_id), status_code=303)
    open_licences = [licence for licence in tracked.licences if licence.view.status not in TERMINAL]
    return render(request, "tracking/withdraw.html", {
        "tracked": tracked, "app": tracked.application, "open_licences": open_licences, "errors": errors or [],
        "reason": reason, "chosen": chosen if chosen is not None else [lic.view.code for lic in open_licences]},
        lang, status_code=status_code, principal=principal)


@router.post("/applications/{application_id}/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, application_id: str, engine: EngineDep, principal: CitizenPage,
                  lang: PageLang, background: BackgroundTasks,
                  reason: Annotated[str, Form(max_length=4000)] = "",
                  licences: Annotated[list[str] | None, Form(max_length=50)] = None) -> Response:
    """Withdraw the chosen licences (the use case of POST /api/v1/applications/{id}/withdrawal)."""
    chosen = licences or []
    try:
        body = WithdrawalInput(reason=reason, licences=chosen)
    except ValidationError as err:
        return _withdraw_page(request, engine, principal, application_id, lang, status_code=422,
                              errors=_withdrawal_errors(err, lang), reason=reason, chosen=chosen)
    try:
        with command(engine, background) as session:
            withdrawals.withdraw(engine.ctx, session, principal, application_id, body)
    except (Conflict, InvalidInput, Forbidden) as err:
        return _withdraw_page(request, engine, principal, application_id, lang, status_code=_status_of(err),
                              errors=[(err.message, "#withdraw-licences")], reason=reason, chosen=chosen)
    return RedirectResponse(_page_url(application_id, "withdrawn"), status_code=303)


def _withdrawal_errors(err: ValidationError, lang: Lang) -> Errors:
    """The form's errors, by field: the engine's own input rules (WithdrawalInput)."""
    labels = LABELS[lang]
    fields = {str(error["loc"][0]) for error in err.errors() if error["loc"]}
    errors: Errors = []
    if "reason" in fields:
        errors.append((labels["trk_error_withdraw_reason"], "#withdraw-reason"))
    if "licences" in fields:
        errors.append((labels["trk_error_withdraw_licences"], "#withdraw-licences"))
    return errors
