"""The officer inbox (and the applicant's own to-dos): list open human tasks, complete one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, func, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.access import (
    AGENCY_ROLES,
    OFFICERS,
    in_scope,
    is_owner,
    owner_filter,
    scope_filter,
    scope_offices,
)
from bizportal.engine.cases.case import case_of, complete_step
from bizportal.engine.cases.kinds import fee_to_set
from bizportal.engine.catalogue.forms import FilledField, filled
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from bizportal.engine.input_text import has_visible_text, line, text
from bizportal.engine.paging import MAX_LIMIT, Keyset, Page, SortKey, page_of
from bizportal.engine.principal import Principal, Role
from bizportal.engine.uploads import checklist
from bizportal.engine.uploads.checklist import Answer
from bizportal.engine.workflow.runtime import ensure_open, human_task
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.likelihood import usually
from bizportal.storage.prefix import starts_with
from bizportal.storage.workflow_tables import HumanTaskRow, HumanTaskState, WorkflowInstanceRow


class FeeToSet(BaseModel):
    """Approving this task sets the licence's fee: send `fee_satang` within these bounds."""

    min_satang: int
    max_satang: int | None


class RequestedDocument(BaseModel):
    code: str
    name_th: str
    name_en: str


class DocumentRequest(BaseModel):
    """What the agency asked for (once, s.8): the documents and why, and what the applicant sent in answer."""

    documents: list[RequestedDocument]
    comment: str
    requested_at: datetime
    answers: list[Answer] = Field(default_factory=list, description="the new versions uploaded in answer: what "
                                  "the officer re-checks")


class TaskView(BaseModel):
    id: str
    application_id: str
    tracking_number: str | None
    applicant_name: str | None = Field(default=None, description="who the application is for")
    business_name: str | None = None
    licence: str
    kind: str = "new"  # or renewal | amendment | cancellation of an issued licence
    step: str
    title: str
    title_th: str | None
    lane: str
    agency: str | None
    office: str | None
    actions: list[str]
    opened_at: datetime
    due_at: datetime | None
    overdue: bool
    assignee: str | None = None
    claimed_at: datetime | None = None
    sets_fee: FeeToSet | None = None
    document_request: DocumentRequest | None = Field(
        default=None, description="once the agency asked for documents: which and why (the applicant's answer "
        "and the officer's re-check show it)")
    form: list[FilledField] = Field(default_factory=list, description="the applicant's form for the task's licence: "
                                    "every field with its Thai and English label, unit and value")


class TaskFilter(BaseModel):
    """Inbox filters; all optional and combined with AND."""

    model_config = ConfigDict(extra="forbid")

    licence: str | None = None
    step: str | None = None
    overdue: bool | None = None
    assigned: Literal["me", "unassigned", "anyone"] = "anyone"
    number: Annotated[str | None, Field(max_length=40, description="only the application whose tracking number "
                                        "starts with this (case-insensitively)")] = None


class TaskCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Annotated[str, line(60, min_length=1)] = Field(description="one of the task's `actions`")
    comment: Annotated[str, text(4000)] = ""
    fee_satang: int | None = Field(default=None, ge=0, description="the assessed fee, when approving a licence "
                                   "whose manual leaves the amount to the agency (within its range)")
    documents: list[Annotated[str, line(100, min_length=1)]] | None = Field(
        default=None, max_length=50, description="with request_documents (and only then): the codes of the "
        "licence's documents asked for; `comment` says why")

    @model_validator(mode="after")
    def _reasons(self) -> TaskCompletion:
        # Licensing Facilitation Act s.8: what is missing must be recorded in writing, and a
        # refusal must give its reason; both reach the applicant's timeline.
        if self.action in ("reject", "request_documents") and not has_visible_text(self.comment):
            raise ValueError(f"`comment` is required for {self.action}: say what is wrong or missing")
        if self.action == "request_documents" and not self.documents:
            raise ValueError("`documents` is required for request_documents: list the codes of the documents "
                             "asked for")
        if self.action != "request_documents" and self.documents is not None:
            raise ValueError(f"`documents` goes with request_documents only; leave it out for {self.action}")
        return self


def _may_work_on(session: Session, principal: Principal, task: HumanTaskRow, now: datetime) -> bool:
    if principal.role == Role.ADMIN:
        return True
    if task.lane == "agency":
        # An officer of a local government works only on their own office's cases.
        return in_scope(principal, task.agency, task.office, OFFICERS)
    if task.lane == "applicant":
        instance = session.get(WorkflowInstanceRow, task.instance_id)
        application = session.get(ApplicationRow, instance.context["application_id"]) if instance else None
        return application is not None and is_owner(session, principal, application, now)
    return False


def _fee_to_set(ctx: EngineContext, case: LicenceCaseRow, step: str) -> FeeToSet | None:
    bounds = fee_to_set(ctx.catalogue.licence(case.licence_code), case.kind, step)
    return FeeToSet.model_validate(bounds, from_attributes=True) if bounds else None


INBOX_ORDER = Keyset("inbox", (SortKey(HumanTaskRow.overdue, bool, descending=True),
                              SortKey(HumanTaskRow.due_at, datetime, nullable=True),
                              SortKey(HumanTaskRow.opened_at, datetime), SortKey(HumanTaskRow.id, str)))
# The inbox's order in parts, each read from one range of an index (storage/workflow_tables.py) in the index's own
# direction: overdue with a deadline, overdue without, then on time with a deadline, without. (One index cannot
# serve "overdue descending, deadline ascending, nulls last" on both databases.)
_PARTS = ((True, True), (True, False), (False, True), (False, False))
_DATED = Keyset("inbox", (SortKey(HumanTaskRow.due_at, datetime), SortKey(HumanTaskRow.opened_at, datetime),
                          SortKey(HumanTaskRow.id, str)))
_UNDATED = Keyset("inbox", (SortKey(HumanTaskRow.opened_at, datetime), SortKey(HumanTaskRow.id, str)))


COUNT_CAP = 1_000


class InboxCounts(BaseModel):
    """How many open tasks the inbox's filters match, and how many of them are overdue; counting stops past
    `COUNT_CAP` (then `more`/`more_overdue`: "1,000+"), so a count costs what a page of that size does however
    long the queue grows."""

    total: int
    overdue: int
    more: bool = False
    more_overdue: bool = False

    def text(self, overdue: bool = False) -> str:
        """The count as people read it: "1,234", or "1,000+" past the cap."""
        count, more = (self.overdue, self.more_overdue) if overdue else (self.total, self.more)
        return f"{count:,}+" if more else f"{count:,}"


def _visible(ctx: EngineContext, principal: Principal, query: Any, filters: TaskFilter | None,
             offices: list[str | None] | None = None) -> Any:
    """`query` (over open human tasks joined to their case and application) narrowed to the caller's lane and
    to the filters, all in SQL; for agency staff, to the tasks of `offices` only if given (see `_office_ranges`)."""
    query = query.where(HumanTaskRow.state == HumanTaskState.OPEN)
    if principal.role in AGENCY_ROLES:
        query = query.where(HumanTaskRow.lane == "agency",
                            scope_filter(principal, HumanTaskRow.agency, HumanTaskRow.office, offices=offices))
    elif principal.role != Role.ADMIN:
        query = query.where(HumanTaskRow.lane == "applicant",
                            owner_filter(principal, ctx.clock.now()))
    external = ctx.agencies.external_agencies()
    if external and principal.role != Role.ADMIN:
        # Steps delivered to an agency's own system are decided there, not in this inbox.
        query = query.where(or_(col(HumanTaskRow.agency).is_(None), col(HumanTaskRow.agency).not_in(external)))
    filters = filters or TaskFilter()
    if filters.number:
        # As the instances of the matching applications' cases: a query planner then reads the few applications
        # first (their number's index), not the whole queue in the inbox's order looking for them.
        query = query.where(col(HumanTaskRow.instance_id).in_(
            select(LicenceCaseRow.instance_id).join(ApplicationRow, col(ApplicationRow.id) == col(
                LicenceCaseRow.application_id)).where(number_prefix(filters.number))))
    if filters.licence:
        query = query.where(LicenceCaseRow.licence_code == filters.licence)
    if filters.step:
        query = query.where(HumanTaskRow.step == filters.step)
    if filters.overdue is not None:
        query = query.where(HumanTaskRow.overdue == filters.overdue)
    if filters.assigned == "me":
        query = query.where(HumanTaskRow.assignee == principal.label)
    elif filters.assigned == "unassigned":
        # Most open tasks are unclaimed: said so, SQLite reads an officer's office range (ix_human_task_office)
        # instead of every unclaimed task of every office in order (ix_human_task_assignee), which is all of them
        # when the office has none, e.g. the agency's own tasks (storage/likelihood.py).
        query = query.where(usually(col(HumanTaskRow.assignee).is_(None)))
    return query


def _office_ranges(ctx: EngineContext, principal: Principal, query: Any, filters: TaskFilter | None) -> list[Any]:
    """`_visible` as one query per index range: agency staff's per office in scope (their agency's own tasks,
    their office's: each one range of `ix_human_task_office`/`_office_overdue`), anyone else's whole. Both offices
    in one query are an OR, no one range: PostgreSQL read it as a bitmap of both ranges whole, then sorted, or
    walked the whole queue's index in order checking rows (at 1,000,000 open tasks, ~450 rows for a page of 20)."""
    if principal.role not in AGENCY_ROLES:
        return [_visible(ctx, principal, query, filters)]
    return [_visible(ctx, principal, query, filters, offices=[office]) for office in scope_offices(principal)]


def number_prefix(number: str) -> ColumnElement[bool]:
    """Tracking numbers starting with `number`, in any case: the input in the stored capitals (BP-2569-...) as
    a prefix that both databases read from an index (storage/prefix.py), where a case-insensitive LIKE of
    lower-cased text is read from none."""
    return starts_with(col(ApplicationRow.tracking_number), number.strip().upper())


def _joined(query: Any) -> Any:
    """Each task with its case (by the task's instance: indexed on both sides) and its application."""
    return (query.join(LicenceCaseRow, col(LicenceCaseRow.instance_id) == col(HumanTaskRow.instance_id))
            .join(ApplicationRow, col(ApplicationRow.id) == col(LicenceCaseRow.application_id)))


def _joined_for(principal: Principal, filters: TaskFilter | None, query: Any) -> Any:
    """`query` with the case and application joined only where a condition reads them (an applicant's own
    tasks, the licence and number filters): a count or a choice over tasks alone reads only their index."""
    needed = (principal.role not in AGENCY_ROLES and principal.role != Role.ADMIN) or (
        filters is not None and bool(filters.licence or filters.number))
    return _joined(query) if needed else query


def _views(ctx: EngineContext, session: Session, rows: Any) -> list[TaskView]:
    return [TaskView(id=t.id, application_id=a.id, tracking_number=a.tracking_number,
                     applicant_name=a.applicant_name, business_name=a.business_name, licence=c.licence_code,
                     kind=c.kind, step=t.step, title=t.title, title_th=t.title_th, lane=t.lane, agency=t.agency,
                     office=t.office, actions=t.actions.split(","), opened_at=t.opened_at, due_at=t.due_at,
                     overdue=t.overdue, assignee=t.assignee, claimed_at=t.claimed_at,
                     sets_fee=_fee_to_set(ctx, c, t.step), document_request=document_request(ctx, session, c),
                     form=filled(ctx.catalogue.licence(c.licence_code).form, a.form.get(c.licence_code, {})))
            for t, c, a in rows]


def inbox(ctx: EngineContext, session: Session, principal: Principal, filters: TaskFilter | None = None,
          limit: int = 20, cursor: list[Any] | None = None) -> Page[TaskView]:
    """One page of the caller's open tasks (as `open_tasks` chooses them): overdue first, then by deadline (none
    last), then the oldest first (and by id, which is unique), starting after `cursor` (a position of this list:
    engine/paging.py).

    Raises:
        InvalidInput: a cursor that is not one of this list's.
    """
    position = INBOX_ORDER.position(cursor)
    limit = min(limit, MAX_LIMIT)
    joined = _joined(select(HumanTaskRow, LicenceCaseRow, ApplicationRow))
    if filters is not None and filters.number:
        # A number names few applications: one query that reads them first and sorts their tasks. (Part by part,
        # a planner may walk a part's whole range, e.g. every task without a deadline, looking for them.)
        query = _visible(ctx, principal, joined, filters)
        after = query if position is None else query.where(INBOX_ORDER.after(position))
        rows = list(session.exec(after.order_by(*INBOX_ORDER.order_by()).limit(limit + 1)).all())
    else:
        rows = _in_parts(session, _office_ranges(ctx, principal, joined, filters), position, filters, limit)
    found = page_of(rows, limit, lambda row: INBOX_ORDER.of(row[0]))
    return Page(_views(ctx, session, found.items), found.next)


def _in_parts(session: Session, ranges: list[Any], position: tuple[Any, ...] | None, filters: TaskFilter | None,
              limit: int) -> list[Any]:
    """The first `limit` + 1 rows of the union of `ranges` (queries: `_office_ranges`) after `position` in the
    inbox's order, read part by part (`_PARTS`), each from one range of an index in the index's own order; the
    ranges' rows of a part are merged here, in the same order."""
    here = None if position is None else _PARTS.index((bool(position[0]), position[1] is not None))
    rows: list[Any] = []
    for index, (overdue, dated) in enumerate(_PARTS):
        if (here is not None and index < here) or (filters and filters.overdue not in (None, overdue)):
            continue
        keyset = _DATED if dated else _UNDATED
        wanted = limit + 1 - len(rows)
        found: list[Any] = []
        for query in ranges:
            part = query.where(HumanTaskRow.overdue == overdue,
                               col(HumanTaskRow.due_at).is_not(None) if dated else col(HumanTaskRow.due_at).is_(None))
            if position is not None and index == here:
                part = part.where(keyset.after(position[1:] if dated else position[2:]))
            found += session.exec(part.order_by(*keyset.order_by()).limit(wanted)).all()
        if len(ranges) > 1:  # (ids are UUIDs: Python's order of them is any collation's)
            found.sort(key=lambda row: tuple(getattr(row[0], key.name) for key in keyset.keys))
        rows += found[:wanted]
        if len(rows) > limit:
            break
    return rows


def inbox_counts(ctx: EngineContext, session: Session, principal: Principal,
                 filters: TaskFilter | None = None) -> InboxCounts:
    """How many open tasks match (the inbox's heading) and how many of them are overdue, each counted in SQL up
    to `COUNT_CAP` + 1 index entries (the same ranges as the pages); an officer's per office in scope (their
    agency's own tasks, their office's), each one range of `ix_human_task_office`, not a walk of the agency's."""
    ranges = _office_ranges(ctx, principal, _joined_for(principal, filters, select(HumanTaskRow.id)), filters)

    def bounded(condition: Any = None) -> tuple[int, bool]:
        found = sum(session.exec(select(func.count()).select_from(
            (matching if condition is None else matching.where(condition)).limit(COUNT_CAP + 1).subquery())).one()
            for matching in ranges)
        return min(found, COUNT_CAP), found > COUNT_CAP

    total, more = bounded()
    overdue, more_overdue = bounded(HumanTaskRow.overdue == true()) if total else (0, False)
    return InboxCounts(total=total, overdue=overdue, more=more, more_overdue=more_overdue)


def inbox_choices(ctx: EngineContext, session: Session, principal: Principal) -> tuple[list[str],
                                                                                        list[tuple[str, str, str]]]:
    """The inbox filters' choices: the licences, and the steps (code, English and Thai title), of the caller's
    work, each once. Staff's do not grow with the queue: their licences come from the catalogue (an officer's:
    their agency's; an admin's: all), their steps from the open tasks by a loose index scan (`_open_steps`).
    An applicant's few own tasks are read as they are."""
    if principal.role in AGENCY_ROLES or principal.role == Role.ADMIN:
        if principal.role != Role.ADMIN and principal.agency in ctx.agencies.external_agencies():
            return [], []  # decided in the agency's own system: nothing in this inbox
        licences = sorted(code for code, manual in ctx.catalogue.licences.items()
                          if principal.role == Role.ADMIN or manual.agency == principal.agency)
        return licences, _open_steps(session, principal)
    codes = session.exec(_visible(ctx, principal, _joined(select(LicenceCaseRow.licence_code).distinct()
                                                          .select_from(HumanTaskRow)), None)).all()
    steps = session.exec(_visible(ctx, principal, _joined(select(
        HumanTaskRow.step, HumanTaskRow.title, HumanTaskRow.title_th).distinct().select_from(HumanTaskRow)),
        None)).all()
    return sorted(set(codes)), sorted({(s, t, th or t) for s, t, th in steps})


def _open_steps(session: Session, principal: Principal) -> list[tuple[str, str, str]]:
    """The steps of the open tasks a staff member sees (code, English and Thai title), each once: a loose index
    scan, one seek per step (the next step after the last one found) in `ix_human_task_step` (admins) or in
    `ix_human_task_office` per office in scope (officers), so it costs the number of steps, not of tasks. A
    step's title is its first task's (the BPMN names a step once per process)."""
    is_open = col(HumanTaskRow.state) == HumanTaskState.OPEN
    ranges = [is_open] if principal.role == Role.ADMIN else [
        and_(is_open, col(HumanTaskRow.agency) == principal.agency, col(HumanTaskRow.lane) == "agency",
             col(HumanTaskRow.office).is_(None) if office is None else col(HumanTaskRow.office) == office)
        for office in scope_offices(principal)]
    found: dict[str, tuple[str, str, str]] = {}
    for where in ranges:
        after: str | None = None
        while True:
            query = select(HumanTaskRow.step, HumanTaskRow.title, HumanTaskRow.title_th).where(where)
            if after is not None:
                query = query.where(col(HumanTaskRow.step) > after)
            row = session.exec(query.order_by(col(HumanTaskRow.step)).limit(1)).first()
            if row is None:
                break
            step, title, title_th = row
            found.setdefault(step, (step, title, title_th or title))
            after = step
    return sorted(found.values())


def open_tasks(ctx: EngineContext, session: Session, principal: Principal, filters: TaskFilter | None = None,
               limit: int = 200, *, by_deadline: bool = False, task_id: str | None = None) -> list[TaskView]:
    """Open tasks the caller can work on: an officer's agency lane (a supervisor sees the same, without
    working on them), or an applicant's own steps; an admin sees all, anyone else none. The first `limit` only:
    lists that page use `inbox`.

    Args:
        by_deadline: overdue first, then by deadline (none last), instead of the oldest first.
        task_id: only this task (the task page): empty when it is not open or not the caller's to see.
    """
    order = INBOX_ORDER.order_by() if by_deadline else [col(HumanTaskRow.opened_at), col(HumanTaskRow.id)]
    query = _visible(ctx, principal, _joined(select(HumanTaskRow, LicenceCaseRow, ApplicationRow)), filters)
    if task_id is not None:
        query = query.where(HumanTaskRow.id == task_id)
    return _views(ctx, session, session.exec(query.order_by(*order).limit(limit)))


def open_task(ctx: EngineContext, session: Session, principal: Principal, task_id: str) -> TaskView:
    """One task of the caller's inbox, as `open_tasks` shows it (the officer's task page).

    Raises:
        NotFound: no such task, or not in the caller's inbox (another agency's or office's: the same answer).
        Conflict: the task is in the caller's agency lane but no longer open; `details` say its state and who
            completed it (so a page tells "you did, just now" from "a colleague did meanwhile").
    """
    found = open_tasks(ctx, session, principal, limit=1, task_id=task_id)
    if found:
        return found[0]
    task = session.get(HumanTaskRow, task_id)
    visible = task is not None and (principal.role == Role.ADMIN
                                    or (task.lane == "agency" and in_scope(principal, task.agency, task.office)))
    if task is None or not visible or task.state == HumanTaskState.OPEN:  # open: decided in an agency's system
        raise NotFound(f"task {task_id} is not in your inbox")
    raise Conflict(f"task {task_id} is {task.state}, not open", hint="list open tasks again",
                   details={"state": task.state, "completed_by": task.completed_by, "decision": task.decision})


def document_request(ctx: EngineContext, session: Session, case: LicenceCaseRow) -> DocumentRequest | None:
    """What the agency asked the applicant for on this case, if it did: the documents, by name, and why."""
    if not case.requested_documents or case.documents_requested_at is None or case.instance_id is None:
        return None
    names = {d.id: d for d in ctx.catalogue.licence(case.licence_code).documents}
    asked = session.exec(select(HumanTaskRow.comment).where(HumanTaskRow.instance_id == case.instance_id,
                                                            HumanTaskRow.decision == "request_documents")
                         .order_by(col(HumanTaskRow.completed_at).desc())).first()
    return DocumentRequest(documents=[RequestedDocument(code=code, name_th=names[code].name_th,
                                                        name_en=names[code].name_en)
                                      for code in case.requested_documents if code in names],
                           comment=asked or "", requested_at=case.documents_requested_at,
                           answers=checklist.answers(session, case))


def _assessed_fee(ctx: EngineContext, session: Session, task: HumanTaskRow, data: TaskCompletion) -> dict[str, int]:
    """Check `fee_satang`: required exactly where an officer approves a licence whose fee they assess."""
    instance = session.get(WorkflowInstanceRow, task.instance_id)
    assert instance is not None
    case = case_of(session, instance)
    manual = ctx.catalogue.licence(case.licence_code)
    bounds = fee_to_set(manual, case.kind, task.step)
    if bounds is None or data.action != "approve":
        if data.fee_satang is not None:
            raise InvalidInput(f"step {task.step!r} does not set a fee", hint="leave `fee_satang` out",
                               details={"field": "fee_satang"})
        return {}
    low, high = bounds.min_satang, bounds.max_satang
    if data.fee_satang is None or data.fee_satang < low or (high is not None and data.fee_satang > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"approving {manual.code} sets its fee: `fee_satang` must be {limit} satang",
                           hint="the manual leaves the amount to the agency within this range",
                           details={"field": "fee_satang", "min_satang": low, "max_satang": high})
    return {"fee_satang": data.fee_satang}


def _task_to_act_on(session: Session, principal: Principal, task_id: str, now: datetime) -> HumanTaskRow:
    """An open task the principal may act on (the runtime's own checks, with the inbox's lanes in between)."""
    task = human_task(session, task_id)
    if not _may_work_on(session, principal, task, now):
        raise Forbidden(f"task {task_id} is not in your inbox",
                        hint="officers work on their own agency's tasks; applicants on their own applications")
    ensure_open(task)
    return task


def claim(ctx: EngineContext, session: Session, principal: Principal, task_id: str) -> HumanTaskRow:
    """Take a task so colleagues see it is being worked on (claiming your own claim again is a no-op).

    Raises:
        NotFound, Forbidden: as for completing it.
        Conflict: finished, or claimed by someone else.
    """
    task = _task_to_act_on(session, principal, task_id, ctx.clock.now())
    if task.assignee == principal.label:
        return task
    if task.assignee is not None:
        raise Conflict(f"task {task_id} is claimed by {task.assignee}", hint="ask them to release it")
    task.assignee, task.claimed_at = principal.label, ctx.clock.now()
    _record_task_event(ctx, session, principal, task, "task.claimed")
    return task


def release(ctx: EngineContext, session: Session, principal: Principal, task_id: str) -> HumanTaskRow:
    """Give a claimed task back to the agency's queue (its assignee or an admin)."""
    task = _task_to_act_on(session, principal, task_id, ctx.clock.now())
    if task.assignee is None:
        return task
    if task.assignee != principal.label and principal.role != Role.ADMIN:
        raise Forbidden(f"task {task_id} is claimed by {task.assignee}; only they can release it")
    task.assignee, task.claimed_at = None, None
    _record_task_event(ctx, session, principal, task, "task.released")
    return task


def _record_task_event(ctx: EngineContext, session: Session, principal: Principal, task: HumanTaskRow,
                       event: str) -> None:
    instance = session.get(WorkflowInstanceRow, task.instance_id)
    assert instance is not None
    audit.record(session, principal, event, ctx.clock.now(), instance.context.get("application_id"),
                 licence=instance.context.get("licence"), step=task.step)


def complete(ctx: EngineContext, session: Session, principal: Principal, task_id: str,
             data: TaskCompletion, via_agency_system: bool = False) -> HumanTaskRow:
    """Complete a task with a decision; the process moves on in the same transaction.

    Raises:
        NotFound: no such task.
        Forbidden: the task is in another agency's (or another applicant's) lane.
        Conflict: the task is already finished, or a concurrent change won.
        InvalidInput: the action is not allowed at this step.
    """
    task = _task_to_act_on(session, principal, task_id, ctx.clock.now())
    if task.agency in ctx.agencies.external_agencies() and not via_agency_system:
        # The agency decides this step in its own back-office; its answer arrives as a signed callback.
        raise Forbidden(f"task {task_id} is decided in {task.agency}'s own system",
                        hint=f"{task.agency} answers through POST /api/v1/agencies/{task.agency}/callbacks")
    if task.assignee is not None and task.assignee != principal.label and principal.role != Role.ADMIN:
        raise Conflict(f"task {task_id} is claimed by {task.assignee}", hint="ask them to release it")
    extra = _assessed_fee(ctx, session, task, data)
    if task.lane == "applicant" and data.action == "submit":  # the answer to a request for documents
        instance = session.get(WorkflowInstanceRow, task.instance_id)
        assert instance is not None
        checklist.require_answered(ctx, session, case_of(session, instance))
    documents = _requested_documents(ctx, session, task, data)
    return complete_step(ctx, session, principal, task_id, data.action, data.comment, extra, documents=documents)


def _requested_documents(ctx: EngineContext, session: Session, task: HumanTaskRow,
                         data: TaskCompletion) -> list[str] | None:
    """The documents asked for, each one the applicant provides for this licence (never one the platform looks
    up: copies of those may not be demanded).

    Raises:
        InvalidInput: a code that is not such a document of the licence, naming the ones that are.
    """
    if data.documents is None:
        return None
    instance = session.get(WorkflowInstanceRow, task.instance_id)
    assert instance is not None
    manual = ctx.catalogue.licence(case_of(session, instance).licence_code)
    providable = [d.id for d in manual.documents if not d.obtained_by_exchange]
    wrong = [code for code in data.documents if code not in providable]
    if wrong:
        raise InvalidInput(f"not documents the applicant provides for {manual.code}: {', '.join(wrong)}",
                           hint=f"ask for some of: {', '.join(providable)}; the others are looked up by data "
                                "exchange, and copies of them may not be demanded", details={"field": "documents"})
    return list(dict.fromkeys(data.documents))
