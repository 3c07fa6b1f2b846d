"""The agency officer's inbox (`/inbox`): the open tasks of their agency (and office), overdue first then by
deadline, with filters as a GET form and paging; claim and release as form posts (the same use cases as
GET /api/v1/tasks and POST /api/v1/tasks/{id}/claim|release).

Claim and release come back to the page they were sent from (`back`, a path of this service only), with a
banner saying what happened; a refusal (claimed by a colleague meanwhile, or no longer open) is a page that says
so in words, not an error code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render, working_days
from bizportal.api.pages.signin import staff_page
from bizportal.api.pagination import MAX_OFFSET, Cursor, decode, encode
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import InboxCounts, TaskFilter, TaskView
from bizportal.engine.deadlines.statutory_clock import working_days_between
from bizportal.engine.errors import Conflict, Forbidden
from bizportal.engine.paging import Page
from bizportal.engine.principal import Principal, Role

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

PAGE_SIZE = 20
InboxPrincipal = Annotated[Principal, Depends(staff_page(Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR))]
OfficerPrincipal = Annotated[Principal, Depends(staff_page(Role.AGENCY_OFFICER))]
Banner = Literal["claimed", "released", "decided"]


@dataclass(frozen=True)
class Paged:
    """One page of the inbox: its items, where they start (1-based, for "showing 21-40 of 57"), how many tasks
    the filters match (and how many are overdue), and the links to the first page and the next, each keeping
    the filters. There is no "previous" cursor: the first page's link and the browser's back button go back."""

    items: list[TaskView]
    first: int
    counts: InboxCounts
    first_url: str | None
    next_url: str | None


def paged(page: Page[TaskView], counts: InboxCounts, at: int, url: Callable[[dict[str, str]], str]) -> Paged:
    """The links of one page: the next page starts after this page's last task (its cursor) and numbers its
    rows from where this page ends (`at`, only for the caption: the cursor decides what is shown)."""
    following = {"cursor": encode(page.next), "at": str(at + len(page.items))} if page.next is not None else None
    return Paged(items=page.items, first=at, counts=counts, first_url=url({}) if at > 1 else None,
                 next_url=url(following) if following else None)


def deadline_of(task: TaskView, now: datetime, lang: Lang) -> dict[str, Any]:
    """What the deadline column says: the date and the working days left, or (overdue: the engine's flag, shown
    as a tag in words as well as in red) by how many working days."""
    labels = LABELS[lang]
    if task.due_at is None:
        return {"due_at": None, "overdue": False, "text": labels["inbox_no_deadline"]}
    if task.overdue or now > task.due_at:
        late = working_days_between(task.due_at, now)
        return {"due_at": task.due_at, "overdue": True, "text": working_days(late, lang) if late else ""}
    left = working_days_between(now, task.due_at)
    text = labels["inbox_days_left"] % left if left > 1 else labels["inbox_day_left"] if left else \
        labels["inbox_due_today"]
    return {"due_at": task.due_at, "overdue": False, "text": text}


def claimed_by(assignee: str | None, principal: Principal, lang: Lang) -> str:
    """Who claimed a task, as people read it: "me", or the colleague's sign-in name (the last part of the
    engine's actor label `role:agency:office:subject`)."""
    if assignee is None:
        return LABELS[lang]["inbox_unclaimed"]
    if assignee == principal.label:
        return LABELS[lang]["inbox_claimed_by_me"]
    return assignee.rsplit(":", 1)[-1].replace("%3A", ":").replace("%25", "%")


def safe_back(back: str | None, default: str = "/inbox") -> str:
    """A return address of this service only (a path, never `//host` or a scheme), so a form cannot redirect
    elsewhere."""
    if back and back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back
    return default


def with_banner(path: str, banner: Banner, **extra: str) -> str:
    """`path` with the banner to show after a redirect (and its detail, e.g. the application number)."""
    return path + ("&" if "?" in path else "?") + urlencode({"done": banner, **extra})


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, engine: EngineDep, principal: InboxPrincipal, lang: PageLang,
               licence: Annotated[str | None, Query(max_length=100)] = None,
               step: Annotated[str | None, Query(max_length=200)] = None,
               assigned: Literal["me", "unassigned", "anyone"] = "anyone",
               overdue: Annotated[str | None, Query(max_length=5)] = None,
               number: Annotated[str | None, Query(max_length=40)] = None,
               cursor: Cursor = None,
               at: Annotated[int, Query(ge=1, le=MAX_OFFSET)] = 1,
               done: Banner | None = None,
               app: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    licence, step, number = (value.strip() or None if value else None for value in (licence, step, number))
    filters = TaskFilter(licence=licence, step=step, assigned=assigned, overdue=True if overdue else None,
                         number=number)
    kept = {key: value for key, value in (("licence", licence), ("step", step), ("number", number),
                                          ("overdue", "1" if overdue else None)) if value}
    if assigned != "anyone":
        kept["assigned"] = assigned

    def url(page: dict[str, str]) -> str:
        return "/inbox" + (f"?{urlencode({**kept, **page})}" if kept or page else "")

    with query(engine) as session:
        found = tasks.inbox(engine.ctx, session, principal, filters, PAGE_SIZE, decode(cursor))
        listed = paged(found, tasks.inbox_counts(engine.ctx, session, principal, filters), at, url)
        licences, steps = tasks.inbox_choices(engine.ctx, session, principal)
    now = engine.ctx.clock.now()
    catalogue = engine.ctx.catalogue
    rows = [{"task": task, "licence": catalogue.licences.get(task.licence),
             "deadline": deadline_of(task, now, lang), "claimed_by": claimed_by(task.assignee, principal, lang),
             "mine": task.assignee == principal.label} for task in listed.items]
    # The filters' choices: the agency's licences (the catalogue's) and the steps of its open work.
    licences = sorted(set(licences) | ({licence} if licence else set()))
    return render(request, "inbox/inbox.html", {
        "rows": rows, "listed": listed, "here_path": _here_path(request),
        "licence_choices": [(code, catalogue.licences.get(code)) for code in licences],
        "step_choices": [(code, title_th if lang == "th" else title) for code, title, title_th in steps],
        "licence": licence or "", "step": step or "", "assigned": assigned, "overdue": bool(overdue),
        "number": number or "", "filtered": bool(kept), "banner": done, "banner_app": app or "",
        "officer": principal.role == Role.AGENCY_OFFICER}, lang, principal=principal)


def _here_path(request: Request) -> str:
    """This page's address without a banner, for the claim buttons to come back to."""
    params = [(key, value) for key, value in request.query_params.multi_items() if key not in ("done", "app")]
    return request.url.path + (f"?{urlencode(params)}" if params else "")


@router.post("/inbox/{task_id}/claim")
def claim(task_id: str, request: Request, engine: EngineDep, principal: OfficerPrincipal, lang: PageLang,
          background: BackgroundTasks, back: Annotated[str | None, Form(max_length=2000)] = None) -> Response:
    """Claim a task (POST /api/v1/tasks/{id}/claim), then back to the list or the task page."""
    return _claim_or_release(tasks.claim, "claimed", task_id, request, engine, principal, lang, background, back)


@router.post("/inbox/{task_id}/release")
def release(task_id: str, request: Request, engine: EngineDep, principal: OfficerPrincipal, lang: PageLang,
            background: BackgroundTasks, back: Annotated[str | None, Form(max_length=2000)] = None) -> Response:
    """Release a task (POST /api/v1/tasks/{id}/release), then back to where the button was."""
    return _claim_or_release(tasks.release, "released", task_id, request, engine, principal, lang, background,
                             back)


def _claim_or_release(use_case: Callable[..., Any], banner: Banner, task_id: str, request: Request,
                      engine: EngineDep, principal: Principal, lang: Lang, background: BackgroundTasks,
                      back: str | None) -> Response:
    try:
        with command(engine, background) as session:
            use_case(engine.ctx, session, principal, task_id)
    except (Conflict, Forbidden) as err:
        return refusal(request, engine, principal, lang, task_id, err)
    return RedirectResponse(with_banner(safe_back(back), banner), status_code=303)


def refusal(request: Request, engine: EngineDep, principal: Principal, lang: Lang, task_id: str,
            err: Conflict | Forbidden) -> HTMLResponse:
    """The page for a task that cannot be acted on: done meanwhile (by whom, with what decision), or claimed
    by a colleague. A task of another agency is a 404 like any address that is not theirs."""
    labels = LABELS[lang]
    with query(engine) as session:
        try:
            holder = tasks.open_task(engine.ctx, session, principal, task_id).assignee
            state: dict[str, Any] | None = None
        except Conflict as closed:
            holder, state = None, closed.details if isinstance(closed.details, dict) else {}
    if state is not None:
        title = labels["inbox_done_title"]
        decision = state.get("decision")
        if state.get("completed_by"):
            who = claimed_by(state["completed_by"], principal, lang)
            message = labels["inbox_done_by_other"] % (who, labels.get(f"inbox_action_{decision}", decision or "-"))
        else:
            message = labels["inbox_done_closed"] % state.get("state", "-")
    else:
        title = labels["inbox_refused_title"]
        message = (labels["inbox_claimed_by_other"] % claimed_by(holder, principal, lang)
                   if holder and holder != principal.label else err.message)
    return render(request, "inbox/refused.html", {"title": title, "message": message}, lang, status_code=409,
                  principal=principal)

