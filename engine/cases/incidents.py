"""Incidents: automatic work that gave up and waits for an administrator (list them, retry one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import Session, col, select

from bizportal.engine import outbox
from bizportal.engine.cases.agency_delivery import INCIDENT_KIND, requeue_delivery
from bizportal.engine.clock import Clock
from bizportal.engine.errors import Conflict, NotFound
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.storage.agency_tables import DeliveryState, IncidentRow, IncidentState, TaskDeliveryRow
from bizportal.storage.outbox import JobState, OutboxRow


class IncidentView(BaseModel):
    id: str
    kind: str
    reference: str
    agency: str | None
    message: str
    state: str
    created_at: datetime
    resolved_at: datetime | None
    task_id: str | None = None
    attempts: int | None = None
    last_error: str | None = None


def _view(session: Session, row: IncidentRow) -> IncidentView:
    delivery = session.get(TaskDeliveryRow, row.reference) if row.kind == INCIDENT_KIND else None
    return IncidentView(id=row.id, kind=row.kind, reference=row.reference, agency=row.agency, message=row.message,
                        state=row.state, created_at=row.created_at, resolved_at=row.resolved_at,
                        task_id=delivery.task_id if delivery else None,
                        attempts=delivery.attempts if delivery else None,
                        last_error=delivery.last_error if delivery else None)


INCIDENTS_ORDER = Keyset("incidents", (SortKey(IncidentRow.created_at, datetime, descending=True),
                                       SortKey(IncidentRow.id, str, descending=True)))


def list_incidents(session: Session, state: IncidentState | None = None, limit: int = 200,
                   cursor: list[Any] | None = None) -> Page[IncidentView]:
    """Incidents, newest first; only those in `state` when given; one page after `cursor` (engine/paging.py).
    The caller checks the admin role.

    Raises:
        InvalidInput: a cursor that is not this list's.
    """
    query = select(IncidentRow)
    if state is not None:
        query = query.where(IncidentRow.state == state)
    return fetch_page(session, query, INCIDENTS_ORDER, limit, cursor).map(lambda row: _view(session, row))


def retry_incident(session: Session, clock: Clock, incident_id: str) -> IncidentView:
    """Start the failed work over (a delivery, or an outbox job that gave up, gets a fresh series of attempts) and
    mark the incident retried.

    The caller checks the admin role. A retry that fails again opens a new incident.

    Raises:
        NotFound: no such incident.
        Conflict: the incident was already retried or resolved.
    """
    incident = session.get(IncidentRow, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    if incident.state != IncidentState.OPEN:
        raise Conflict(f"incident {incident_id} is {incident.state}, not open", hint="list open incidents again")
    if incident.kind == outbox.INCIDENT_KIND:
        _requeue_job(session, clock, incident)
    elif incident.kind != INCIDENT_KIND:
        raise Conflict(f"incidents of kind {incident.kind!r} cannot be retried")
    else:
        _requeue_delivery(session, clock, incident)
    incident.state = IncidentState.RETRIED
    session.flush()
    return _view(session, incident)


def _requeue_job(session: Session, clock: Clock, incident: IncidentRow) -> None:
    """A job that gave up runs again with a fresh series of attempts (the next dispatch polls it)."""
    requeued = session.execute(update(OutboxRow).where(col(OutboxRow.id) == incident.reference,
                                                       col(OutboxRow.state) == JobState.FAILED)
                               .values(state=JobState.PENDING, attempts=0, available_at=clock.now())
                               .execution_options(synchronize_session=False))
    if requeued.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"job {incident.reference} of incident {incident.id} is not failed: nothing to retry")


def _requeue_delivery(session: Session, clock: Clock, incident: IncidentRow) -> None:
    delivery = session.get(TaskDeliveryRow, incident.reference)
    if delivery is None:
        raise NotFound(f"delivery {incident.reference} of incident {incident.id} does not exist")
    if delivery.state != DeliveryState.FAILED:
        raise Conflict(f"delivery {delivery.id} is {delivery.state}: nothing to retry")
    requeue_delivery(session, clock, delivery)
