"""The supervisors' escalations (`/escalations`): the cases past the manual's total time and still undecided
(the same use case as GET /api/v1/escalations, s.10), and the overdue open tasks of their agency grouped by who
claimed them and by step, each linking to its task page.

Reassigning is not offered: the engine lets only a task's assignee (or an administrator) release it, so the page
says so instead of showing a button that would be refused.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from bizportal.api.deps import EngineDep, query
from bizportal.api.pages.inbox import claimed_by, deadline_of
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import staff_page
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskFilter
from bizportal.engine.deadlines.escalations import EscalatedCase, escalated_cases
from bizportal.engine.principal import Principal, Role

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

SupervisorPrincipal = Annotated[Principal, Depends(staff_page(Role.AGENCY_SUPERVISOR))]


@router.get("/escalations", response_class=HTMLResponse)
def escalations_page(request: Request, engine: EngineDep, principal: SupervisorPrincipal,
                     lang: PageLang) -> HTMLResponse:
    now = engine.ctx.clock.now()
    with query(engine) as session:
        cases = escalated_cases(session, principal, now)
        overdue = tasks.open_tasks(engine.ctx, session, principal, TaskFilter(overdue=True), by_deadline=True)
        rows = [{"case": case, "licence": engine.ctx.catalogue.licences.get(case.licence),
                 "task_id": _open_task_of(engine, session, principal, case)} for case in cases]
    by_officer = Counter((claimed_by(task.assignee, principal, lang),
                          task.title_th if lang == "th" and task.title_th else task.title) for task in overdue)
    late = [{"task": task, "deadline": deadline_of(task, now, lang),
             "claimed_by": claimed_by(task.assignee, principal, lang),
             "licence": engine.ctx.catalogue.licences.get(task.licence)} for task in overdue]
    return render(request, "inbox/escalations.html", {
        "rows": rows, "late": late, "by_officer": sorted(by_officer.items())}, lang, principal=principal)


def _open_task_of(engine: EngineDep, session: Session, principal: Principal, case: EscalatedCase) -> str | None:
    """The case's open task in the supervisor's view, for the link to its task page (a case waits at one agency
    step at a time); None while it waits on the applicant."""
    if case.tracking_number is None:
        return None
    found = tasks.open_tasks(engine.ctx, session, principal,
                             TaskFilter(licence=case.licence, number=case.tracking_number), limit=10)
    return next((task.id for task in found if task.application_id == case.application_id), None)
