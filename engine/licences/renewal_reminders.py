"""Renewal reminders: before a licence expires, its holder is told to renew it, with a link.

The reminders go `REMINDER_DAYS` before the expiry (`valid_until`): 90 days (the day the renewal window
opens, engine/licences/renewal.py), 30 days and 7 days. Each licence keeps, in indexed columns, the day the
scan should look at it next (`next_reminder_on`) and the threshold it was last reminded at
(`last_reminder_days`); the scan reads only the licences whose day has come, never every licence.

Each threshold is reminded at most once: the scan claims its rows with SKIP LOCKED on PostgreSQL (SQLite
takes the write lock when the transaction begins), writes the message and moves the row on in the same
transaction, and a scan that comes late (down for weeks) sends only the nearest threshold passed, not a
burst. No reminder is sent for a licence that is not `valid` (revoked, suspended, cancelled, renewed or
replaced), has expired, or whose renewal has already been requested.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.cases.kinds import Kind
from bizportal.engine.clock import BANGKOK
from bizportal.engine.context import EngineContext
from bizportal.engine.licences.renewal import GRACE_DAYS
from bizportal.engine.principal import SYSTEM
from bizportal.engine.statuses import TERMINAL
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.database import claim_due
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding

log = logging.getLogger(__name__)

REMINDER_DAYS: tuple[int, ...] = (90, 30, 7)  # days before expiry, largest first
EVENT = "renewal_reminder"

# notify(session, clock, *, application_id, event, lang, to, context): queues one message (engine/notices/notifier.py).
Notify = Callable[..., object]


def _next_on(valid_until: date, after: date, last_sent: int | None) -> date | None:
    """The first threshold day later than `after` that is below the threshold last reminded of."""
    days = [valid_until - timedelta(days=d) for d in REMINDER_DAYS if last_sent is None or d < last_sent]
    ahead = [day for day in days if day > after]
    return min(ahead) if ahead else None


def first_reminder_on(valid_until: date | None, issued_on: date) -> date | None:
    """When the scan first looks at a licence issued on `issued_on` (None: it never expires)."""
    return None if valid_until is None else _next_on(valid_until, issued_on, None)


def due_threshold(valid_until: date, today: date, last_sent: int | None) -> int | None:
    """The threshold to remind of today: the nearest one passed and not yet reminded of (None: none)."""
    days_left = (valid_until - today).days
    if days_left < 0:
        return None
    passed = [d for d in REMINDER_DAYS if days_left <= d and (last_sent is None or d < last_sent)]
    return min(passed) if passed else None


def resume(issued: IssuedLicenceRow, today: date) -> None:
    """Reminders restart once a licence is valid again: the scan looks at it today (it sends only what is due)."""
    reminded = issued.status == LicenceStanding.VALID and issued.valid_until is not None
    issued.next_reminder_on = today if reminded else None


def stop(issued: IssuedLicenceRow) -> None:
    """No more reminders for this licence (until `resume`)."""
    issued.next_reminder_on = None


def _renewal_requested(session: Session, number: str) -> bool:
    return session.exec(select(LicenceCaseRow.id).where(
        LicenceCaseRow.subject_licence == number, LicenceCaseRow.kind == Kind.RENEWAL.value,
        col(LicenceCaseRow.status).not_in([s.value for s in TERMINAL]))).first() is not None


def _send(ctx: EngineContext, session: Session, notify: Notify, issued: IssuedLicenceRow, today: date,
          threshold: int) -> None:
    assert issued.valid_until is not None
    application = session.get(ApplicationRow, issued.application_id)
    assert application is not None  # foreign key
    manual = ctx.catalogue.licences.get(issued.licence_code)
    lang = application.language
    if application.applicant_email:
        notify(session, ctx.clock, application_id=application.id, event=EVENT, lang=lang,
               to=application.applicant_email, context={
                   "holder_name": issued.holder_name, "licence_number": issued.number,
                   "tracking_number": application.tracking_number or "",
                   "licence_name": getattr(manual, f"name_{lang}") if manual else issued.licence_code,
                   "business_name": issued.business_name, "valid_until": issued.valid_until,
                   "days_left": (issued.valid_until - today).days,
                   "renew_by": issued.valid_until + timedelta(days=GRACE_DAYS),
                   "renew_url": ctx.links.renewal(issued.number)})
    audit.record(session, SYSTEM, "licence.renewal_reminder_sent", ctx.clock.now(), application.id,
                 licence=issued.licence_code, licence_number=issued.number, days_before_expiry=threshold,
                 valid_until=issued.valid_until.isoformat(), notified=bool(application.applicant_email))


def _remind(ctx: EngineContext, session: Session, notify: Notify, issued: IssuedLicenceRow, today: date) -> bool:
    """Send the reminder due for one licence, if any, and move it on to its next day. True if one was sent."""
    if issued.status != LicenceStanding.VALID or issued.valid_until is None or issued.valid_until < today:
        stop(issued)
        return False
    threshold = due_threshold(issued.valid_until, today, issued.last_reminder_days)
    sent = False
    if threshold is not None:
        if not _renewal_requested(session, issued.number):  # already renewing: nothing to remind of
            _send(ctx, session, notify, issued, today, threshold)
            sent = True
        issued.last_reminder_days = threshold
    issued.next_reminder_on = _next_on(issued.valid_until, today, issued.last_reminder_days)
    return sent


def send_due_reminders(ctx: EngineContext, session: Session, notify: Notify, limit: int = 500) -> int:
    """Send every renewal reminder due today; returns how many were sent.

    Each licence runs in its own savepoint: one that fails is logged and stays due for the next scan.
    """
    today = ctx.clock.now().astimezone(BANGKOK).date()
    query = (select(IssuedLicenceRow).where(col(IssuedLicenceRow.next_reminder_on) <= today)
             .order_by(col(IssuedLicenceRow.next_reminder_on)).limit(limit))
    sent = 0
    for issued in claim_due(session, query):
        try:
            with session.begin_nested():
                sent += _remind(ctx, session, notify, issued, today)
        except Exception:  # the savepoint is rolled back; the licence stays due for the next scan
            log.exception("renewal reminder for licence %s failed", issued.number)
    return sent
