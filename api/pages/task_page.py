"""The officer's task page (`/inbox/{task_id}`): the application behind one task of their inbox (applicant and
business, the licence's form labelled, the documents viewed in the page, the timeline, the statutory clock) and
the decision form (POST /inbox/{task_id}/decision: the same use case as POST /api/v1/tasks/{id}/complete).

The engine decides what a decision needs (a reason to reject, codes to request documents, a fee within the
manual's bounds); its refusals come back here as the form again with an error summary, each error beside its
field. A decision is not recorded twice: a resent form meets the engine's "already completed" Conflict, and when
the one who completed it is the sender, the page says it is recorded as if the first send had answered.

A document is shown in the page from `/inbox/{task_id}/documents/{document_id}`: the upload's bytes with
`Content-Disposition: inline` and, for that route only, framing allowed from this service's own pages
(`frame-ancestors 'self'`), so a PDF opens in an <iframe>; every other response keeps `frame-ancestors 'none'`
(api/security_headers.py adds its headers only where a response has not set them). The download link is the
API's own content route (an attachment).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.inbox import (
    Banner,
    InboxPrincipal,
    OfficerPrincipal,
    claimed_by,
    deadline_of,
    refusal,
    with_banner,
)
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, page_helpers, render
from bizportal.api.routes.downloads import content_disposition
from bizportal.engine.applications import applications
from bizportal.engine.applications.applications import ApplicationView
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskCompletion, TaskView
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from bizportal.engine.principal import Principal, Role
from bizportal.engine.uploads import documents

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

FRAMEABLE_CSP = "default-src 'none'; frame-ancestors 'self'"
FIELDS = ("action", "comment", "fee", "documents")


@router.get("/inbox/{task_id}", response_class=HTMLResponse)
def task_page(task_id: str, request: Request, engine: EngineDep, principal: InboxPrincipal,
              lang: PageLang, done: Banner | None = None) -> HTMLResponse:
    try:
        return _page(request, engine, principal, lang, task_id, {}, {}, banner=done)
    except Conflict as err:  # done meanwhile: say so (a 404 would hide that it was done)
        return refusal(request, engine, principal, lang, task_id, err)


@router.post("/inbox/{task_id}/decision", response_class=HTMLResponse)
def decide(task_id: str, request: Request, engine: EngineDep, principal: OfficerPrincipal, lang: PageLang,
           background: BackgroundTasks,
           action: Annotated[str, Form(max_length=60)] = "",
           comment: Annotated[str, Form(max_length=4000)] = "",
           fee: Annotated[str, Form(max_length=40)] = "",
           document: Annotated[list[str] | None, Form(max_length=50)] = None) -> Response:
    sent = {"action": action, "comment": comment, "fee": fee, "documents": document or []}
    errors: dict[str, str] = {}
    fee_satang = None
    if action == "approve" and fee.strip():  # the fee goes with an approval only (the field says so)
        fee_satang = _satang(fee)
        if fee_satang is None:
            errors["fee"] = LABELS[lang]["inbox_error_fee_number"]
    try:
        decision = TaskCompletion(action=action, comment=comment, fee_satang=fee_satang,
                                  documents=(document or []) if action == "request_documents" else None)
    except ValidationError as err:
        errors.update(_validation_errors(err, lang))
    if errors:
        return _again(request, engine, principal, lang, task_id, sent, errors)
    try:
        with command(engine, background) as session:
            task = tasks.open_task(engine.ctx, session, principal, task_id)
            tasks.complete(engine.ctx, session, principal, task_id, decision)
    except InvalidInput as err:
        return _again(request, engine, principal, lang, task_id, sent, _engine_error(err, lang))
    except (Conflict, Forbidden) as err:
        done = _completed_by(engine, principal, task_id)
        if done == principal.label:  # this officer's own first send went through: the same answer again
            return RedirectResponse(with_banner("/inbox", "decided"), status_code=303)
        return refusal(request, engine, principal, lang, task_id, err)
    return RedirectResponse(with_banner("/inbox", "decided", app=task.tracking_number or ""), status_code=303)


@router.get("/inbox/{task_id}/documents/{document_id}")
def document_in_page(task_id: str, document_id: str, engine: EngineDep, principal: InboxPrincipal,
                     background: BackgroundTasks) -> StreamingResponse:
    """An upload of the task's application, to show inside the task page (an <img> or an <iframe>); the read is
    audited as any read of an upload."""
    with command(engine, background) as session:
        task = tasks.open_task(engine.ctx, session, principal, task_id)
        row = documents.readable_upload(engine.ctx, session, principal, document_id)
        if row.application_id != task.application_id:
            raise NotFound(f"document {document_id} is not one of this task's application")
        chunks = documents.content_of(engine.ctx, row)
        filename, content_type = row.filename, row.content_type
    return StreamingResponse(chunks, media_type=content_type, headers={
        "Content-Disposition": "inline" + content_disposition(filename).removeprefix("attachment"),
        "Content-Security-Policy": FRAMEABLE_CSP, "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": "private, no-store"})


def _satang(text: str) -> int | None:
    """Baht as people type them (`1,500`, `1500.50`) in satang; None when it is not such an amount."""
    try:
        baht = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not baht.is_finite() or baht < 0 or baht != baht.quantize(Decimal("0.01")) or baht > 10**12:
        return None
    return int(baht * 100)


def _validation_errors(err: ValidationError, lang: Lang) -> dict[str, str]:
    """The decision's own checks (TaskCompletion), each beside its field."""
    labels = LABELS[lang]
    found: dict[str, str] = {}
    for problem in err.errors():
        where = str(problem["loc"][0]) if problem["loc"] else ""
        message = str(problem.get("msg", ""))
        if where == "action":
            found["action"] = labels["inbox_error_action"]
        elif where == "comment" or "`comment`" in message:
            found["comment"] = labels["inbox_error_comment"]
        elif where == "documents" or "`documents`" in message:
            found["documents"] = labels["inbox_error_documents"]
        elif where == "fee_satang":
            found["fee"] = labels["inbox_error_fee_number"]
        else:
            found["action"] = labels["inbox_error_refused"]
    return found


def _engine_error(err: InvalidInput, lang: Lang) -> dict[str, str]:
    """The engine's refusal of a decision, beside the field it names (`details.field`)."""
    labels = LABELS[lang]
    details = err.details if isinstance(err.details, dict) else {}
    field = details.get("field")
    if field == "fee_satang":
        if "min_satang" not in details:
            return {"fee": labels["inbox_error_fee_not_here"]}
        helpers = page_helpers(lang)
        low, high = helpers["baht"](details["min_satang"]), details.get("max_satang")
        return {"fee": labels["inbox_error_fee"] % (low, helpers["baht"](high)) if high is not None
                else labels["inbox_error_fee_from"] % low}
    if field == "documents":
        return {"documents": labels["inbox_error_documents_wrong"]}
    return {"action": f"{labels['inbox_error_refused']}: {err.message}"}


def _completed_by(engine: EngineDep, principal: Principal, task_id: str) -> str | None:
    with query(engine) as session:
        try:
            tasks.open_task(engine.ctx, session, principal, task_id)
        except Conflict as closed:
            details = closed.details if isinstance(closed.details, dict) else {}
            return details.get("completed_by")
    return None


def _again(request: Request, engine: EngineDep, principal: Principal, lang: Lang, task_id: str,
           sent: dict[str, Any], errors: dict[str, str]) -> Response:
    try:
        return _page(request, engine, principal, lang, task_id, sent, errors)
    except Conflict as err:
        return refusal(request, engine, principal, lang, task_id, err)


def _page(request: Request, engine: EngineDep, principal: Principal, lang: Lang, task_id: str,
          sent: dict[str, Any], errors: dict[str, str], banner: Banner | None = None) -> HTMLResponse:
    with query(engine) as session:
        task = tasks.open_task(engine.ctx, session, principal, task_id)
        try:
            application: ApplicationView | None = applications.view(engine.ctx, session, principal,
                                                                     task.application_id)
            uploads = documents.list_documents(engine.ctx, session, principal, task.application_id)
        except NotFound:  # a supervisor oversees the task without reading the application (engine/access.py)
            application, uploads = None, []
    manual = engine.ctx.catalogue.licence(task.licence)
    case = next((item for item in application.licences if item.code == task.licence and item.kind == task.kind),
                None) if application else None
    order = [field for field in FIELDS if field in errors]
    first_action = f"action-{task.actions[0]}" if task.actions else "action"
    anchors = {"action": first_action, "comment": "comment", "fee": "fee", "documents": "document-0"}
    return render(request, "inbox/task.html", {
        "task": task, "application": application, "manual": manual, "case": case,
        "uploads": [item for item in uploads if item.licence == task.licence or item.current is not None],
        "requestable": [d for d in manual.documents if not d.obtained_by_exchange],
        "deadline": deadline_of(task, engine.ctx.clock.now(), lang),
        "claimed_by": claimed_by(task.assignee, principal, lang), "mine": task.assignee == principal.label,
        "officer": principal.role == Role.AGENCY_OFFICER, "sent": sent, "errors": errors,
        "summary": [(errors[field], f"#{anchors[field]}") for field in order],
        "fee_baht": _fee_default(task, sent), "here_path": request.url.path, "banner": banner},
        lang, status_code=400 if errors else 200, principal=principal)


def _fee_default(task: TaskView, sent: dict[str, Any]) -> str:
    """The fee field's value: what was sent, else empty (the officer sets it; no amount is suggested)."""
    return str(sent.get("fee", "")) if task.sets_fee else ""
