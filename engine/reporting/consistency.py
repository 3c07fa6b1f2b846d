"""Whether the whole system holds together: the invariants behind "nothing lost, nothing doubled" (issue 15),
checked from the database after a run, under faults or in production (`bizportal check`).

Each invariant is one function of a few set-wide queries (anti-joins and grouped counts, never a query per
case), so a database of 100,000 cases is checked in seconds. Every finding is a `Violation` naming the
invariant, the row it is about and what is wrong; an empty list means every invariant holds.

Read it on a settled system: once the jobs that were due have run. Work in flight looks like a gap (a case
paid a moment ago has no licence yet), so jobs are only counted as unfinished when they have been due or
claimed for longer than `GRACE` (the outbox's own limit before it claims a dispatched job again).

The invariants:
- `one_licence`: a case that is issued has exactly one issued licence, and an issued licence belongs to an
  issued case; a case whose invoice is paid is issued or still issuing (a refunded invoice is not "paid").
- `one_receipt`: every paid invoice (and every refunded one: it was paid first) is covered by exactly one
  receipt, that of the counter payment or of the successful online payment that settled it.
- `charged_once`: an invoice keeps at most the one charge that settled it; every other charge of it (a
  second payment, a payment that arrived after it expired, was cancelled or was paid at a counter) has a
  refund recorded (requested from the provider, refunded, or owed by the agency); a refunded invoice keeps none.
  (A payment the provider reported refunded before it settled anything is no charge.)
- `payment_recorded`: every successful charge a provider reported (a `succeeded` event) settled its payment or
  was refunded as a duplicate: money taken is never left on a payment still pending or marked failed. An amount
  that did not match is left out: it is recorded as such, in the event and the trail, for an operator.
- `outbox_ended`: every outbox job is done, or failed with an incident open to administrators (the
  outbox opens one of kind `outbox_job` when a job gives up), or is still within `GRACE` of being due.
- `notification_once`: no message went twice (two rows for one application with the same event, recipients,
  subject and body), and no notification is still pending after the job that sends it finished.
- `not_stuck`: a case that is neither a draft nor ended is waiting on someone or something. Waiting means one
  of: an open human task of its process (an officer's step, or the applicant's, such as owed documents); a
  timer of its process still waiting (the payment deadline, a step's deadline); an unfinished outbox job about
  it (starting its process, issuing its licence); an open invoice (the applicant is to pay); or, for a case
  whose process has not started, another case of its application still running (the prerequisite it waits for).
- `audit_complete`: every step the records show has its entry in the audit trail: an application submitted
  (`application.submitted`), each case's current status (`licence.status_changed` to it), each completed human
  task (`task.completed`, as many as were completed per step), each invoice (`invoice.created`), payment
  (`payment.recorded`), receipt (`receipt.issued`), issued licence (`licence.issued`) and refund
  (`refund.requested`), and each Section 10 notice a case's clock counts (`section10.notice_sent`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bizportal.engine.statuses import TERMINAL, Status
from bizportal.storage.agency_tables import IncidentRow
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.notifications import NotificationRow, NotificationState
from bizportal.storage.online_payments import (
    OnlinePaymentRow,
    OnlinePaymentState,
    PaymentEventRow,
    PaymentInvoiceRow,
)
from bizportal.storage.outbox import JobState, OutboxRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus, PaymentRow
from bizportal.storage.receipts import ReceiptRow
from bizportal.storage.refunds import RefundRow
from bizportal.storage.statutory_clocks import CaseClockRow
from bizportal.storage.workflow_tables import HumanTaskRow, HumanTaskState, TimerRow, TimerState

# How long a job may be due, or claimed, before it counts as unfinished (the outbox claims a dispatched job
# again after as long: engine/outbox.py `pending_ids`).
GRACE = timedelta(minutes=5)
# The incident the outbox opens for a job that gave up (engine/outbox.py).
OUTBOX_INCIDENT = "outbox_job"
# Receipts' `source` (engine/payments/receipts.py).
_COUNTER, _ONLINE = "counter", "online"


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which, about what (a case, invoice, job... id), and what is wrong."""

    invariant: str
    subject: str
    detail: str


def check_consistency(session: Session, now: datetime) -> list[Violation]:
    """Every violation of every invariant (the module's docstring lists them); empty when all hold.
    `now` is the engine's clock: jobs due before `now - GRACE` should have finished."""
    checks: list[Callable[[Session, datetime], Iterable[Violation]]] = [
        one_licence, one_receipt, charged_once, payment_recorded, outbox_ended, notification_once, not_stuck,
        audit_complete]
    return [violation for check in checks for violation in check(session, now)]


def _detail(key: str) -> ColumnElement[str]:
    """An audit entry's detail field `key` as text (JSON on both SQLite and PostgreSQL)."""
    detail: Any = col(AuditEventRow.detail)
    return detail[key].as_string()


def _audited(event: str, application_id: Any, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Whether the trail has an `event` entry of the application meeting `conditions`."""
    return exists().where(col(AuditEventRow.application_id) == application_id, col(AuditEventRow.event) == event,
                          *conditions)


# -- licences and receipts --------------------------------------------------------------------------------


def one_licence(session: Session, now: datetime) -> Iterable[Violation]:
    """An issued case has one licence; a licence has an issued case; a paid case is issued or issuing."""
    licences = (select(IssuedLicenceRow.licence_case_id, func.count().label("n"))
                .group_by(col(IssuedLicenceRow.licence_case_id)).subquery())
    count = func.coalesce(licences.c.n, 0)
    for case_id, status, n in session.exec(
            select(LicenceCaseRow.id, LicenceCaseRow.status, count)
            .join(licences, licences.c.licence_case_id == col(LicenceCaseRow.id), isouter=True)
            .where(or_(col(LicenceCaseRow.status) == Status.ISSUED, count > 0))
            .where(or_(col(LicenceCaseRow.status) != Status.ISSUED, count != 1))):
        detail = f"issued with {n} licences" if status == Status.ISSUED else f"{status} but has {n} licence(s)"
        yield Violation("one_licence", case_id, detail)
    for case_id, status, invoice_id in session.exec(
            select(LicenceCaseRow.id, LicenceCaseRow.status, InvoiceRow.id)
            .join(InvoiceRow, col(InvoiceRow.licence_case_id) == col(LicenceCaseRow.id))
            .where(col(InvoiceRow.status) == InvoiceStatus.PAID,
                   col(LicenceCaseRow.status).not_in((Status.ISSUED, Status.ISSUING)))):
        yield Violation("one_licence", case_id, f"invoice {invoice_id} is paid but the case is {status}")


def one_receipt(session: Session, now: datetime) -> Iterable[Violation]:
    """Every paid (or paid, then refunded) invoice has exactly one receipt, of the payment that settled it."""
    counter = (select(PaymentRow.invoice_id.label("invoice_id"), ReceiptRow.number)  # type: ignore[attr-defined]
               .join(ReceiptRow, and_(col(ReceiptRow.source) == _COUNTER, col(ReceiptRow.payment_id) == PaymentRow.id)))
    online = (select(PaymentInvoiceRow.invoice_id.label("invoice_id"), ReceiptRow.number)  # type: ignore[attr-defined]
              .join(OnlinePaymentRow, col(OnlinePaymentRow.id) == col(PaymentInvoiceRow.payment_id))
              .join(ReceiptRow, and_(col(ReceiptRow.source) == _ONLINE,
                                     col(ReceiptRow.payment_id) == col(OnlinePaymentRow.id)))
              .where(col(OnlinePaymentRow.state) == OnlinePaymentState.SUCCEEDED))
    receipts = union_all(counter, online).subquery()
    per_invoice = (select(receipts.c.invoice_id, func.count().label("n")).group_by(receipts.c.invoice_id).subquery())
    count = func.coalesce(per_invoice.c.n, 0)
    for invoice_id, status, n in session.exec(
            select(InvoiceRow.id, InvoiceRow.status, count)
            .join(per_invoice, per_invoice.c.invoice_id == col(InvoiceRow.id), isouter=True)
            .where(col(InvoiceRow.status).in_((InvoiceStatus.PAID, InvoiceStatus.REFUNDED)), count != 1)):
        yield Violation("one_receipt", invoice_id, f"{status} invoice with {n} receipts")


# -- money ------------------------------------------------------------------------------------------------


def charged_once(session: Session, now: datetime) -> Iterable[Violation]:
    """An invoice keeps the charge that settled it (if paid) and no other: every other one has a refund."""
    counter = select(PaymentRow.invoice_id.label("invoice_id"),  # type: ignore[attr-defined]
                     PaymentRow.id.label("payment_id"))  # type: ignore[attr-defined]
    online = (select(PaymentInvoiceRow.invoice_id.label("invoice_id"),  # type: ignore[attr-defined]
                     PaymentInvoiceRow.payment_id.label("payment_id"))  # type: ignore[attr-defined]
              .join(OnlinePaymentRow, col(OnlinePaymentRow.id) == col(PaymentInvoiceRow.payment_id))
              .where(col(OnlinePaymentRow.state).in_((OnlinePaymentState.SUCCEEDED, OnlinePaymentState.DUPLICATE))))
    charges = union_all(counter, online).subquery()
    refunded = exists().where(col(RefundRow.invoice_id) == charges.c.invoice_id,
                              col(RefundRow.payment_id) == charges.c.payment_id)
    kept = (select(charges.c.invoice_id, func.sum(case((refunded, 0), else_=1)).label("kept"),
                   func.count().label("charges"))
            .group_by(charges.c.invoice_id).subquery())
    expected = case((col(InvoiceRow.status) == InvoiceStatus.PAID, 1), else_=0)
    for invoice_id, status, n_kept, n_charges in session.exec(
            select(InvoiceRow.id, InvoiceRow.status, kept.c.kept, kept.c.charges)
            .join(kept, kept.c.invoice_id == col(InvoiceRow.id))
            .where(kept.c.kept != expected)):
        yield Violation("charged_once", invoice_id,
                        f"{status} invoice charged {n_charges} times, {n_kept} of them not refunded")


def payment_recorded(session: Session, now: datetime) -> Iterable[Violation]:
    """A provider's report of money taken settled its payment, or left it a refunded duplicate."""
    for event_id, payment_id, state, outcome in session.exec(
            select(PaymentEventRow.event_id, OnlinePaymentRow.id, OnlinePaymentRow.state, PaymentEventRow.outcome)
            .join(OnlinePaymentRow, col(OnlinePaymentRow.id) == col(PaymentEventRow.payment_id))
            .where(col(PaymentEventRow.kind) == "succeeded", col(PaymentEventRow.outcome) != "amount_mismatch",
                   col(OnlinePaymentRow.state).in_((OnlinePaymentState.PENDING, OnlinePaymentState.FAILED)))):
        yield Violation("payment_recorded", payment_id,
                        f"the provider reported it paid (event {event_id}, {outcome}) but the payment is {state}")


# -- jobs and notifications -------------------------------------------------------------------------------


def outbox_ended(session: Session, now: datetime) -> Iterable[Violation]:
    """Every job is done, failed with an incident for administrators, or not yet overdue."""
    incident = exists().where(col(IncidentRow.kind) == OUTBOX_INCIDENT, col(IncidentRow.reference) == OutboxRow.id)
    for job_id, job, attempts, error in session.exec(
            select(OutboxRow.id, OutboxRow.job, OutboxRow.attempts, OutboxRow.last_error)
            .where(col(OutboxRow.state) == JobState.FAILED, ~incident)):
        yield Violation("outbox_ended", job_id, f"{job} failed after {attempts} attempts with no incident: {error}")
    overdue = now - GRACE
    for job_id, job, state, attempts in session.exec(
            select(OutboxRow.id, OutboxRow.job, OutboxRow.state, OutboxRow.attempts)
            .where(or_(and_(col(OutboxRow.state) == JobState.PENDING, col(OutboxRow.available_at) <= overdue),
                       and_(col(OutboxRow.state) == JobState.DISPATCHED, col(OutboxRow.dispatched_at) <= overdue)))):
        yield Violation("outbox_ended", job_id, f"{job} still {state} after {attempts} attempts, overdue since "
                                                f"more than {GRACE}")


def notification_once(session: Session, now: datetime) -> Iterable[Violation]:
    """No message stored twice; none left pending by a job that finished."""
    for application_id, event, subject, n in session.exec(
            select(NotificationRow.application_id, NotificationRow.event, NotificationRow.subject, func.count())
            .group_by(col(NotificationRow.application_id), col(NotificationRow.event),
                      cast(col(NotificationRow.recipients), String), col(NotificationRow.subject),
                      col(NotificationRow.body))
            .having(func.count() > 1)):
        yield Violation("notification_once", application_id or "-", f"{event} {subject!r} stored {n} times")
    for notification_id, event, job_state in session.exec(
            select(NotificationRow.id, NotificationRow.event, OutboxRow.state)
            .join(OutboxRow, col(OutboxRow.id) == col(NotificationRow.outbox_id))
            .where(col(NotificationRow.state) == NotificationState.PENDING, col(OutboxRow.state) == JobState.DONE)):
        yield Violation("notification_once", notification_id, f"{event} still pending, its job {job_state}")


# -- cases ------------------------------------------------------------------------------------------------


def not_stuck(session: Session, now: datetime) -> Iterable[Violation]:
    """Every case neither a draft nor ended is waiting on someone or something (the module's docstring)."""
    # Each "waiting on" is a set read once (an uncorrelated IN): a subquery per case read the outbox's JSON once
    # per case on SQLite. No NULL may enter a set, or `NOT IN` answers unknown and hides a stuck case.
    instance_id = func.coalesce(col(LicenceCaseRow.instance_id), "")
    payload: Any = col(OutboxRow.payload)
    job_case = payload["case_id"].as_string()
    running = [s.value for s in TERMINAL] + [Status.DRAFT.value]
    other = LicenceCaseRow.__table__.alias("other")  # type: ignore[attr-defined]
    waiting = or_(
        instance_id.in_(select(HumanTaskRow.instance_id).where(col(HumanTaskRow.state) == HumanTaskState.OPEN)),
        instance_id.in_(select(TimerRow.instance_id).where(col(TimerRow.state) == TimerState.WAITING)),
        col(LicenceCaseRow.id).in_(select(job_case).where(
            col(OutboxRow.state).in_((JobState.PENDING, JobState.DISPATCHED)), job_case.is_not(None))),
        col(LicenceCaseRow.id).in_(select(InvoiceRow.licence_case_id).where(
            col(InvoiceRow.status) == InvoiceStatus.OPEN)),
        and_(col(LicenceCaseRow.instance_id).is_(None), col(LicenceCaseRow.application_id).in_(
            select(other.c.application_id).where(other.c.instance_id.is_not(None),
                                                 other.c.status.not_in(running)))))
    for stuck_id, status, step in session.exec(
            select(LicenceCaseRow.id, LicenceCaseRow.status, LicenceCaseRow.current_step)
            .where(col(LicenceCaseRow.status).not_in(running), ~waiting)):
        where = f" at {step}" if step else ""
        yield Violation("not_stuck", stuck_id, f"{status}{where} with no open task, timer, job or invoice")


# -- the audit trail --------------------------------------------------------------------------------------


def audit_complete(session: Session, now: datetime) -> Iterable[Violation]:
    """Every step the records show has its audit entry (the module's docstring lists which)."""
    yield from _missing(session, "application.submitted", select(ApplicationRow.id, ApplicationRow.id)
                        .where(col(ApplicationRow.submitted_at).is_not(None),
                               ~_audited("application.submitted", ApplicationRow.id)))
    yield from _missing(session, "licence.status_changed", select(LicenceCaseRow.id, LicenceCaseRow.status)
                        .where(col(LicenceCaseRow.status).not_in((Status.DRAFT, Status.SUBMITTED)),
                               ~_audited("licence.status_changed", LicenceCaseRow.application_id,
                                         _detail("licence") == col(LicenceCaseRow.licence_code),
                                         _detail("to") == col(LicenceCaseRow.status))))
    yield from _missing(session, "invoice.created", select(InvoiceRow.id, InvoiceRow.status).where(
        ~_audited("invoice.created", InvoiceRow.application_id, _detail("invoice_id") == col(InvoiceRow.id))))
    yield from _missing(session, "payment.recorded", select(PaymentRow.id, PaymentRow.invoice_id)
                        .join(InvoiceRow, col(InvoiceRow.id) == col(PaymentRow.invoice_id)).where(
        ~_audited("payment.recorded", InvoiceRow.application_id, _detail("invoice_id") == col(PaymentRow.invoice_id))))
    yield from _missing(session, "payment.recorded", select(OnlinePaymentRow.id, OnlinePaymentRow.state).where(
        col(OnlinePaymentRow.state) == OnlinePaymentState.SUCCEEDED,
        ~_audited("payment.recorded", OnlinePaymentRow.application_id,
                  _detail("payment_id") == col(OnlinePaymentRow.id))))
    yield from _missing(session, "receipt.issued", select(ReceiptRow.number, ReceiptRow.payment_id).where(
        ~_audited("receipt.issued", ReceiptRow.application_id, _detail("receipt_number") == col(ReceiptRow.number))))
    yield from _missing(session, "licence.issued", select(IssuedLicenceRow.number, IssuedLicenceRow.licence_case_id)
                        .where(~_audited("licence.issued", IssuedLicenceRow.application_id,
                                         _detail("licence_number") == col(IssuedLicenceRow.number))))
    yield from _missing(session, "refund.requested", select(RefundRow.id, RefundRow.invoice_id).where(
        ~_audited("refund.requested", RefundRow.application_id, _detail("refund_id") == col(RefundRow.id))))
    yield from _tasks_audited(session)
    yield from _notices_audited(session)


def _missing(session: Session, event: str, query: Any) -> Iterable[Violation]:
    for subject, about in session.exec(query):
        yield Violation("audit_complete", subject, f"no {event!r} entry ({about})")


def _tasks_audited(session: Session) -> Iterable[Violation]:
    """As many `task.completed` entries per case and step as the case's process completed tasks there."""
    completed = (sa_select(col(LicenceCaseRow.id).label("case_id"), col(LicenceCaseRow.application_id),
                           col(LicenceCaseRow.licence_code), col(HumanTaskRow.step), func.count().label("n"))
                 .join(HumanTaskRow, col(HumanTaskRow.instance_id) == col(LicenceCaseRow.instance_id))
                 .where(col(HumanTaskRow.state) == HumanTaskState.COMPLETED)
                 .group_by(col(LicenceCaseRow.id), col(LicenceCaseRow.application_id),
                           col(LicenceCaseRow.licence_code), col(HumanTaskRow.step)).subquery())
    # The detail fields are extracted in an inner query and grouped by name outside: PostgreSQL would not see
    # two renderings of `detail ->> 'step'` (each with its own bound key) as the same grouping expression.
    entries = (select(AuditEventRow.application_id, _detail("licence").label("licence"),
                      _detail("step").label("step"))
               .where(col(AuditEventRow.event) == "task.completed").subquery())
    audited = (select(entries.c.application_id, entries.c.licence, entries.c.step, func.count().label("n"))
               .group_by(entries.c.application_id, entries.c.licence, entries.c.step).subquery())
    found = func.coalesce(audited.c.n, 0)
    for case_id, step, n, entries_n in session.exec(
            select(completed.c.case_id, completed.c.step, completed.c.n, found)
            .join(audited, and_(audited.c.application_id == completed.c.application_id,
                                audited.c.licence == completed.c.licence_code, audited.c.step == completed.c.step),
                  isouter=True)
            .where(found < completed.c.n)):
        yield Violation("audit_complete", case_id,
                        f"{n} {step!r} tasks completed, {entries_n} 'task.completed' entries")


def _notices_audited(session: Session) -> Iterable[Violation]:
    """As many `section10.notice_sent` entries per case as its statutory clock counts notices."""
    entries = (select(AuditEventRow.application_id, _detail("licence").label("licence"))
               .where(col(AuditEventRow.event) == "section10.notice_sent").subquery())
    audited = (select(entries.c.application_id, entries.c.licence, func.count().label("n"))
               .group_by(entries.c.application_id, entries.c.licence).subquery())
    found = func.coalesce(audited.c.n, literal(0))
    for case_id, sent, entries_n in session.exec(
            select(CaseClockRow.case_id, CaseClockRow.notices_sent, found)
            .join(LicenceCaseRow, col(LicenceCaseRow.id) == col(CaseClockRow.case_id))
            .join(audited, and_(audited.c.application_id == col(LicenceCaseRow.application_id),
                                audited.c.licence == col(LicenceCaseRow.licence_code)), isouter=True)
            .where(found != col(CaseClockRow.notices_sent))):
        yield Violation("audit_complete", case_id, f"{sent} Section 10 notices counted, {entries_n} "
                                                   "'section10.notice_sent' entries")
