"""The statutory clock of a licence case (Licensing Facilitation Act B.E. 2558, ss.7, 8 and 10).

The manual (s.7) promises a total in Thai working days. The agency's clock starts when the case's
process starts (it leaves `submitted`), stops while the applicant owes documents (`documents_requested`,
the one request of s.8) and stops for good at the decision. Each pause moves the total deadline on by
the working days it lasted. Once the deadline has passed without a decision, Section 10 requires the
reasons to be sent to the applicant every 7 days until the decision, with a copy to OPDC; the first such
notice also escalates the case to the agency's supervisor.

Everything here reads and writes the `case_clock` projection (and the case and application rows by
primary key); no workflow is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.catalogue.catalogue import Catalogue
from bizportal.engine.clock import BANGKOK, Clock
from bizportal.engine.deadlines.working_days import add_working_days, is_working_day
from bizportal.engine.principal import SYSTEM
from bizportal.engine.statuses import Status
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.database import claim_due
from bizportal.storage.statutory_clocks import CaseClockRow
from bizportal.storage.workflow_tables import HumanTaskRow, HumanTaskState, WorkflowInstanceRow, open_tasks

log = logging.getLogger(__name__)

# Statuses before the agency's clock runs, and those that are the agency's decision (the clock stops).
# A licence without a fee goes from consideration straight to `issuing`: that approval is its decision.
NOT_STARTED = frozenset({Status.DRAFT, Status.SUBMITTED})
DECIDED = frozenset({Status.AWAITING_PAYMENT, Status.ISSUING, Status.ISSUED, Status.REJECTED, Status.PAYMENT_EXPIRED,
                     Status.CANCELLED})
NOTICE_EVERY = timedelta(days=7)  # s.10: "every 7 days" (calendar days, unlike the service times)
NOTICE_EVENT = "section10_notice"
SUPERVISOR_ROLE = "agency_supervisor"  # the role an overrun is escalated to (Role.AGENCY_SUPERVISOR)

# notify(session, clock, *, application_id, event, lang, to, cc, context): queues one message.
Notify = Callable[..., object]


# --- working days --------------------------------------------------------------------------------

@lru_cache(maxsize=32)
def _cumulative(year: int) -> tuple[int, ...]:
    """Working days of `year` up to and including each day (index: day of the year - 1)."""
    day, counts, total = date(year, 1, 1), [], 0
    while day.year == year:
        total += is_working_day(day)
        counts.append(total)
        day += timedelta(days=1)
    return tuple(counts)


def _working_days_through(day: date, base_year: int) -> int:
    """Working days from 1 January of `base_year` through `day` (day.year >= base_year)."""
    return sum(_cumulative(year)[-1] for year in range(base_year, day.year)) \
        + _cumulative(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(a: datetime, b: datetime) -> int:
    """The working days after `a`'s day up to and including `b`'s day (Bangkok dates); 0 if b is not later.

    The inverse of `add_working_days`: `working_days_between(t, add_working_days(t, n)) == n`.
    """
    first, last = a.astimezone(BANGKOK).date(), b.astimezone(BANGKOK).date()
    if last <= first:
        return 0
    return _working_days_through(last, first.year) - _working_days_through(first, first.year)


# --- the clock follows the case ------------------------------------------------------------------

def _process_started_at(session: Session, case: LicenceCaseRow, now: datetime) -> datetime:
    """When the case's process started (a case already running when the clock was added keeps its start)."""
    if case.instance_id is None:
        return now
    started = session.exec(select(WorkflowInstanceRow.created_at)
                           .where(WorkflowInstanceRow.id == case.instance_id)).first()
    return started or now


def _due(row: CaseClockRow, extra_paused_days: int = 0) -> datetime:
    return add_working_days(row.started_at, row.budget_working_days + row.paused_working_days + extra_paused_days)


def _end_pause(row: CaseClockRow, now: datetime) -> None:
    assert row.paused_since is not None
    row.paused_working_days += working_days_between(row.paused_since, now)
    row.paused_since = None
    row.due_at = _due(row)


def _schedule_notice(row: CaseClockRow) -> None:
    """The next Section 10 notice: at the deadline, but never sooner than 7 days after the last one."""
    last = row.last_notice_at
    row.next_notice_at = row.due_at if last is None else max(row.due_at, last + NOTICE_EVERY)


def on_case_moved(session: Session, clock: Clock, catalogue: Catalogue, case: LicenceCaseRow,
                  previous_status: str | None) -> CaseClockRow | None:
    """Follow a move of the case (called by the case after every move, once `case.status` is updated).

    Starts the clock when the case first leaves `submitted`, pauses it while the applicant owes documents,
    resumes it (the deadline moves on by the paused working days) and stops it at the decision. Idempotent:
    calling it again for the same state changes nothing. Returns the case's clock (None: not started).
    """
    row = session.get(CaseClockRow, case.id)
    if row is not None and previous_status == case.status:
        return row  # most moves do not change the status
    status = case.status
    now = clock.now()
    if row is None:
        if status in NOT_STARTED:
            return None
        started_at = _process_started_at(session, case, now)
        budget = catalogue.licence(case.licence_code).total_working_days
        row = CaseClockRow(case_id=case.id, started_at=started_at, budget_working_days=budget,
                           due_at=add_working_days(started_at, budget))
        _schedule_notice(row)
        session.add(row)
    if row.decided_at is not None:
        return row
    if status == Status.DOCUMENTS_REQUESTED:
        if row.paused_since is None:
            row.paused_since, row.next_notice_at = now, None
    elif row.paused_since is not None:
        _end_pause(row, now)
        _schedule_notice(row)
    if status in DECIDED:
        row.decided_at, row.next_notice_at = now, None
    return row


# --- Section 10 ----------------------------------------------------------------------------------

def _pending_steps(session: Session, case: LicenceCaseRow) -> list[HumanTaskRow]:
    if case.instance_id is None:
        return []
    return open_tasks(session, case.instance_id)


def _reasons(steps: list[HumanTaskRow], lang: str, agency_name: str) -> list[str]:
    """Why there is no decision yet, as far as the projections know: the steps the case waits at."""
    if lang == "th":
        reasons = [f"อยู่ระหว่างขั้นตอน: {t.title_th or t.title}" + (" (เกินกำหนดของขั้นตอน)" if t.overdue else "")
                   for t in steps]
        return reasons or [f"คำขออยู่ระหว่างการพิจารณาของ{agency_name}"]
    reasons = [f"In progress: {t.title}" + (" (past the step's own deadline)" if t.overdue else "") for t in steps]
    return reasons or [f"The application is under consideration by {agency_name}"]


def _notice_context(session: Session, catalogue: Catalogue, row: CaseClockRow, case: LicenceCaseRow,
                    application: ApplicationRow, now: datetime, application_url: str) -> dict[str, Any]:
    """The `section10_notice` template's names, and the facts behind them for the trail."""
    thai = application.language == "th"
    manual = catalogue.licences.get(case.licence_code)
    agency = catalogue.agencies.get(case.agency)
    licence_name = (manual.name_th if thai else manual.name_en) if manual else case.licence_code
    agency_name = (agency.name_th if thai else agency.name_en) if agency else case.agency
    steps = _pending_steps(session, case)
    due_day = row.due_at.astimezone(BANGKOK).date()
    return {
        "applicant_name": application.applicant_name,
        "contact_email": application.applicant_email,
        "tracking_number": application.tracking_number,
        "licence": case.licence_code,
        "licence_name": licence_name,
        "agency": case.agency,
        "agency_name": agency_name,
        "office": case.office,
        "status": case.status,
        "started_at": row.started_at,
        "due_date": row.due_at,  # the end of the manual's time (an aware datetime)
        "days_overdue": (now.astimezone(BANGKOK).date() - due_day).days,  # calendar days, as the notice says
        "working_days_overdue": working_days_between(row.due_at, now),
        "budget_working_days": row.budget_working_days,
        "notice_number": row.notices_sent + 1,
        "reasons": _reasons(steps, application.language, agency_name),
        "pending_steps": [{"step": t.step, "title": t.title, "title_th": t.title_th, "due_at": t.due_at,
                           "overdue": t.overdue} for t in steps],
        "application_url": application_url,
    }


def _send_notice(session: Session, clock: Clock, notify: Notify, catalogue: Catalogue, row: CaseClockRow,
                 now: datetime, opdc_email: str | None, application_url: Callable[[str], str]) -> None:
    case = session.get(LicenceCaseRow, row.case_id)
    assert case is not None  # foreign key
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None
    context = _notice_context(session, catalogue, row, case, application, now, application_url(application.id))
    to = application.applicant_email
    if to and opdc_email:
        notify(session, clock, application_id=application.id, event=NOTICE_EVENT, lang=application.language,
               to=to, cc=opdc_email, context=context)
    elif to:
        log.warning("Section 10 notice for case %s not sent: no OPDC address is configured", case.id)
    due = row.due_at.isoformat()
    audit.record(session, SYSTEM, "section10.notice_sent", now, application.id, licence=case.licence_code,
                 notice_number=context["notice_number"], due_at=due, days_overdue=context["days_overdue"],
                 working_days_overdue=context["working_days_overdue"], reasons=context["reasons"],
                 sent_to_applicant=bool(to and opdc_email), copied_to_opdc=bool(to and opdc_email))
    if row.escalated_at is None:
        row.escalated_at = now
        audit.record(session, SYSTEM, "case.escalated", now, application.id, licence=case.licence_code,
                     role=SUPERVISOR_ROLE, agency=case.agency, office=case.office, due_at=due)
    row.notices_sent += 1
    row.last_notice_at = now
    assert row.next_notice_at is not None
    upcoming = row.next_notice_at + NOTICE_EVERY
    while upcoming <= now:  # a scan that was down for weeks sends one notice, not a burst
        upcoming += NOTICE_EVERY
    row.next_notice_at = upcoming


def fire_section10(session: Session, clock: Clock, notify: Notify, now: datetime, *, catalogue: Catalogue,
                   opdc_email: str | None, application_url: Callable[[str], str], limit: int = 500) -> int:
    """Send every due Section 10 notice: to the applicant, copied to OPDC; the first one escalates.

    Reads only the `case_clock` rows whose `next_notice_at` has come (claimed with SKIP LOCKED on
    PostgreSQL, so concurrent scanners share the work). The message is the `section10_notice` event in
    the applicant's language; `application_url(application_id)` is the link it carries. An applicant
    without an e-mail address (or a portal without an OPDC address: the copy is mandatory) gets no
    message, but the notice is still recorded in the trail, with its reasons, and the case still
    escalates. Each case runs in its own savepoint: one failing notice is logged and retried on the
    next scan.

    Returns the number of notices recorded.
    """
    query = (select(CaseClockRow).where(col(CaseClockRow.next_notice_at) <= now)
             .order_by(col(CaseClockRow.next_notice_at)).limit(limit))
    sent = 0
    for row in claim_due(session, query):
        if row.decided_at is not None or row.paused_since is not None:
            row.next_notice_at = None  # a stopped clock owes no notice
            continue
        try:
            with session.begin_nested():
                _send_notice(session, clock, notify, catalogue, row, now, opdc_email, application_url)
            sent += 1
        except Exception:  # the savepoint is rolled back; the row stays due for the next scan
            log.exception("Section 10 notice for case %s failed", row.case_id)
    return sent


# --- deadlines for the status API -----------------------------------------------------------------

class StepDeadline(BaseModel):
    step: str
    title: str
    due_at: datetime | None
    overdue: bool


class Deadline(BaseModel):
    """A case's total deadline under its manual, and the deadlines of the steps it waits at."""

    started_at: datetime
    budget_working_days: int
    due_at: datetime  # the total deadline; while paused, as it would be if the applicant answered now
    paused: bool
    paused_working_days: int
    working_days_used: int
    working_days_left: int
    overdue: bool
    decided_at: datetime | None
    decided_on_time: bool | None
    notices_sent: int
    escalated: bool
    steps: list[StepDeadline]


def effective_due(row: CaseClockRow, now: datetime) -> datetime:
    """The total deadline, counting an ongoing pause up to `now`."""
    if row.paused_since is None:
        return row.due_at
    return _due(row, working_days_between(row.paused_since, now))


def working_days_used(row: CaseClockRow, now: datetime) -> int:
    """Working days the agency has had the case: from the start to the decision (or now), less pauses."""
    end = row.decided_at or now
    ongoing = working_days_between(row.paused_since, end) if row.paused_since else 0
    return max(0, working_days_between(row.started_at, end) - row.paused_working_days - ongoing)


def is_overdue(row: CaseClockRow, now: datetime) -> bool:
    return row.decided_at is None and now > effective_due(row, now)


def deadlines_for(session: Session, case_ids: Iterable[str], now: datetime) -> dict[str, Deadline]:
    """Deadline per case id for the cases whose clock has started (others are left out)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = session.exec(select(CaseClockRow).where(col(CaseClockRow.case_id).in_(ids))).all()
    steps: dict[str, list[StepDeadline]] = {row.case_id: [] for row in rows}
    for case_id, task in session.exec(
            select(LicenceCaseRow.id, HumanTaskRow)
            .join(HumanTaskRow, col(HumanTaskRow.instance_id) == col(LicenceCaseRow.instance_id))
            .where(col(LicenceCaseRow.id).in_(ids), HumanTaskRow.state == HumanTaskState.OPEN)
            .order_by(col(HumanTaskRow.opened_at))):
        if case_id in steps:
            steps[case_id].append(StepDeadline(step=task.step, title=task.title, due_at=task.due_at,
                                               overdue=task.overdue))
    deadlines = {}
    for row in rows:
        used = working_days_used(row, now)
        deadlines[row.case_id] = Deadline(
            started_at=row.started_at, budget_working_days=row.budget_working_days, due_at=effective_due(row, now),
            paused=row.paused_since is not None,
            paused_working_days=row.paused_working_days
            + (working_days_between(row.paused_since, now) if row.paused_since else 0),
            working_days_used=used, working_days_left=max(0, row.budget_working_days - used),
            overdue=is_overdue(row, now), decided_at=row.decided_at,
            decided_on_time=None if row.decided_at is None else row.decided_at <= row.due_at,
            notices_sent=row.notices_sent, escalated=row.escalated_at is not None, steps=steps[row.case_id])
    return deadlines
