"""The per-application notification log: what was sent to whom, and whether it went out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bizportal.engine.access import readable_application
from bizportal.engine.context import EngineContext
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import Principal
from bizportal.storage.notifications import NotificationRow, NotificationState
from bizportal.storage.outbox import JobState, OutboxRow


class NotificationView(BaseModel):
    """One notification as the log shows it.

    `state` is pending, sent or failed. A notification whose sending job gave up after its retries
    shows as failed even though its own row never got an answer; while it is still retrying,
    `attempts` and `last_error` come from that job.
    """

    id: str
    event: str
    recipients: list[str]
    cc: list[str]
    subject: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


NOTIFICATIONS_ORDER = Keyset("notifications", (SortKey(NotificationRow.created_at, datetime),
                                               SortKey(NotificationRow.id, str)))


def readable_notifications(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
                           limit: int | None = None, cursor: list[Any] | None = None) -> Page[NotificationView]:
    """The notification log of an application the caller may read (engine/access.py), oldest first: one page
    after `cursor` (engine/paging.py), or all of it (`limit=None`).

    Raises:
        NotFound: no such application, or the caller may not read it (the same answer).
        InvalidInput: a cursor that is not this list's.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    return _notifications(session, application.id, limit, cursor)


def notifications_for(session: Session, application_id: str) -> list[NotificationView]:
    """Every notification about `application_id`, oldest first."""
    return _notifications(session, application_id, None, None).items


def _notifications(session: Session, application_id: str, limit: int | None,
                   cursor: list[Any] | None) -> Page[NotificationView]:
    query = (select(NotificationRow, OutboxRow)
             .join(OutboxRow, col(OutboxRow.id) == col(NotificationRow.outbox_id), isouter=True)
             .where(NotificationRow.application_id == application_id))
    return (fetch_page(session, query, NOTIFICATIONS_ORDER, limit, cursor, keyed=lambda row: row[0])
            .map(lambda row: _view(row[0], row[1])))


def _view(row: NotificationRow, job: OutboxRow | None) -> NotificationView:
    state, attempts, last_error = row.state, row.attempts, row.last_error
    if row.state == NotificationState.PENDING and job is not None:
        # A retriable failure rolls back the job's writes to the notification, so the job's row is
        # where the retries are counted.
        attempts, last_error = job.attempts, job.last_error
        if job.state == JobState.FAILED:
            state = NotificationState.FAILED
    return NotificationView(id=row.id, event=row.event, recipients=list(row.recipients), cc=list(row.cc),
                            subject=row.subject, state=state, attempts=attempts, last_error=last_error,
                            created_at=row.created_at, sent_at=row.sent_at)
