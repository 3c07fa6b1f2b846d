"""Steps in the lane of an agency with its own system: hand them over, and apply the answers it sends back.

When a human task opens for such an agency (its adapter `handles_tasks`), a `task_delivery` row and a
`deliver_task` outbox job are written with it. The job calls the adapter after commit. A retriable
failure schedules the next attempt with exponential back-off (a new outbox job, so the attempt count
lives in the delivery row and survives the job's own transaction); after the last attempt, or on a
final failure, the delivery is marked failed and an incident is opened for administrators. The agency
answers with a signed callback, applied once per callback id through the ordinary inbox use case.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from bizportal.adapters.agencies.base import (
    AgencyAdapterError,
    CallbackDecision,
    DispatchApplicant,
    DispatchBusiness,
    FeeBounds,
    FinalAgencyError,
    InvalidCallback,
    TaskDispatch,
)
from bizportal.engine import outbox
from bizportal.engine.backoff import Backoff
from bizportal.engine.cases import tasks
from bizportal.engine.cases.case import case_of
from bizportal.engine.cases.kinds import fee_to_set
from bizportal.engine.cases.tasks import TaskCompletion
from bizportal.engine.clock import Clock
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from bizportal.engine.principal import Principal, Role
from bizportal.storage.agency_tables import (
    AgencyCallbackRow,
    DeliveryState,
    IncidentRow,
    IncidentState,
    TaskDeliveryRow,
)
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.workflow_tables import HumanTaskRow, HumanTaskState, WorkflowInstanceRow

log = logging.getLogger(__name__)

DELIVER_TASK = "deliver_task"
INCIDENT_KIND = "task_delivery"
# Failed attempt n waits 30 s * 2**(n-1) for the next: 30 s, 1, 2, 4, 8 min (about 15 min in all), 6 attempts.
RETRY = Backoff(first=timedelta(seconds=30), factor=2, max_attempts=6)


class CallbackOutcome(BaseModel):
    """What a callback did; a callback sent again with the same id gets the first answer back."""

    callback_id: str
    task_id: str
    outcome: str
    action: str
    officer: str
    received_at: datetime
    replayed: bool


# -- handing tasks over --------------------------------------------------------------------------


def on_tasks_opened(ctx: EngineContext, session: Session, task_ids: Iterable[str]) -> list[str]:
    """Queue the delivery of newly opened tasks whose agency works in its own system.

    Call it in the transaction that opened the tasks (after their rows are flushed). Tasks of inbox
    agencies and applicant steps are left alone; a task that already has a delivery gets no second one.

    Returns:
        The ids of the deliveries queued.
    """
    queued = []
    for task_id in task_ids:
        task = session.get(HumanTaskRow, task_id)
        if (task is None or task.state != HumanTaskState.OPEN or task.lane != "agency"
                or not ctx.agencies.handles_tasks(task.agency)):
            continue
        assert task.agency is not None  # handles_tasks is False without an agency
        if session.exec(select(TaskDeliveryRow.id).where(TaskDeliveryRow.task_id == task_id)).first() is not None:
            continue
        delivery = TaskDeliveryRow(id=str(uuid.uuid4()), task_id=task_id, agency=task.agency,
                                   state=DeliveryState.PENDING, attempts=0, created_at=ctx.clock.now())
        session.add(delivery)
        outbox.enqueue(session, DELIVER_TASK, ctx.clock, delivery_id=delivery.id)
        queued.append(delivery.id)
    if queued:
        session.flush()
    return queued


def requeue_delivery(session: Session, clock: Clock, delivery: TaskDeliveryRow) -> None:
    """Start a failed delivery over with a fresh series of attempts."""
    delivery.state, delivery.attempts = DeliveryState.PENDING, 0
    outbox.enqueue(session, DELIVER_TASK, clock, delivery_id=delivery.id)


def task_dispatch(ctx: EngineContext, session: Session, delivery: TaskDeliveryRow,
                  task: HumanTaskRow) -> TaskDispatch:
    """What the agency's system receives for one task (read from the projection, never the workflow)."""
    instance = session.get(WorkflowInstanceRow, task.instance_id)
    assert instance is not None  # foreign key
    case = case_of(session, instance)
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None  # foreign key
    # A new licence's final decision, a renewal's review: where the agency assesses the fee.
    bounds = fee_to_set(ctx.catalogue.licence(case.licence_code), case.kind, task.step)
    sets_fee = FeeBounds.model_validate(bounds, from_attributes=True) if bounds else None
    return TaskDispatch(
        delivery_id=delivery.id, task_id=task.id, application_id=application.id,
        tracking_number=application.tracking_number, licence_code=case.licence_code, step=task.step,
        title=task.title, title_th=task.title_th, actions=task.actions.split(","), agency=delivery.agency,
        office=task.office, due_at=task.due_at,
        applicant=DispatchApplicant(kind=application.applicant_kind, id_number=application.applicant_id_number,
                                    name=application.applicant_name),
        business=DispatchBusiness(name=application.business_name, address=application.business_address,
                                  province=application.business_province, district=application.business_district,
                                  area_m2=application.business_area_m2),
        form=application.form.get(case.licence_code, {}), sets_fee=sets_fee,
        callback_url=ctx.links.agency_callback(delivery.agency), sent_at=ctx.clock.now())


def deliver_task_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any], *,
                     retry: Backoff = RETRY) -> None:
    """Job: one attempt to hand a task to its agency's system.

    Never raises for the agency's failures: the outcome (delivered, next attempt queued, or failed with an
    incident) is written in this job's transaction, so it is kept together with the job being marked done.
    """
    delivery = session.get(TaskDeliveryRow, payload["delivery_id"])
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return  # a duplicate of a finished attempt
    task = session.get(HumanTaskRow, delivery.task_id)
    adapter = ctx.agencies.get(delivery.agency)
    if task is None or task.state != HumanTaskState.OPEN:
        delivery.state, delivery.last_error = DeliveryState.CANCELLED, f"the task is {task.state if task else 'gone'}"
        return
    if adapter is None or not adapter.handles_tasks:
        delivery.state, delivery.last_error = DeliveryState.CANCELLED, "the agency now works in the inbox"
        return
    dispatch = task_dispatch(ctx, session, delivery, task)
    delivery.attempts += 1
    now = ctx.clock.now()
    try:
        result = adapter.dispatch(dispatch)
    except FinalAgencyError as err:
        _give_up(ctx, session, delivery, dispatch, f"refused: {err}")
        return
    except Exception as err:  # retriable by contract; an adapter's unexpected error is treated the same way
        error = str(err) if isinstance(err, AgencyAdapterError) else f"{type(err).__name__}: {err}"
        if retry.gives_up(delivery.attempts):
            _give_up(ctx, session, delivery, dispatch, f"failed {delivery.attempts} times, last: {error}")
            return
        delivery.last_error = error
        delay = retry.delay(delivery.attempts)
        outbox.enqueue_at(session, DELIVER_TASK, ctx.clock, now + delay, delivery_id=delivery.id)
        log.warning("delivery %s of task %s to %s failed (attempt %d of %d), next in %s: %s", delivery.id,
                    task.id, delivery.agency, delivery.attempts, retry.max_attempts, delay, error)
        return
    if not result.accepted:
        _give_up(ctx, session, delivery, dispatch, "the agency's system did not accept the task")
        return
    delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
    delivery.external_reference = result.external_reference
    _resolve_incidents(session, now, delivery.id)


def _give_up(ctx: EngineContext, session: Session, delivery: TaskDeliveryRow, dispatch: TaskDispatch,
             reason: str) -> None:
    delivery.state, delivery.last_error = DeliveryState.FAILED, reason
    message = (f"step {dispatch.step!r} of {dispatch.licence_code} ({dispatch.tracking_number}) could not be "
               f"delivered to {delivery.agency}: {reason}")
    log.error("%s (delivery %s)", message, delivery.id)
    session.add(IncidentRow(id=str(uuid.uuid4()), kind=INCIDENT_KIND, reference=delivery.id, agency=delivery.agency,
                            message=message, state=IncidentState.OPEN, created_at=ctx.clock.now()))


def _resolve_incidents(session: Session, now: datetime, delivery_id: str) -> None:
    for incident in session.exec(select(IncidentRow).where(IncidentRow.kind == INCIDENT_KIND,
                                                           IncidentRow.reference == delivery_id,
                                                           IncidentRow.state != IncidentState.RESOLVED)):
        incident.state, incident.resolved_at = IncidentState.RESOLVED, now


# -- answers from the agency ---------------------------------------------------------------------


def handle_callback(ctx: EngineContext, session: Session, agency: str, headers: Mapping[str, str],
                    body: bytes) -> CallbackOutcome:
    """Apply an agency system's signed decision on one of its tasks, once per callback id.

    Raises:
        NotFound: no such agency, or the task is not one of this agency's.
        Unauthenticated: the callback is not authentic (bad signature, stale timestamp, inbox agency);
            nothing is written.
        InvalidInput: the body is not a valid decision, or the decision breaks a rule of the step.
        Conflict: the callback id was used for another decision, or the task is already finished.
    """
    adapter = ctx.agencies.for_agency(agency)
    now = ctx.clock.now()
    try:
        decision = adapter.parse_callback(headers, body, now)
    except InvalidCallback as err:
        raise Unauthenticated(f"callback rejected: {err}",
                              hint="sign `callback.<timestamp>.<body>` with the agency's shared secret "
                                   "(HMAC-SHA256) and send it with a current timestamp") from err
    except AgencyAdapterError as err:  # MalformedCallback, or an adapter's own kind
        raise InvalidInput(str(err), hint="send a CallbackDecision: callback_id, task_id, action, comment, "
                                          "fee_satang, officer") from err
    seen = session.get(AgencyCallbackRow, decision.callback_id)
    if seen is not None:
        if seen.agency != agency or seen.task_id != decision.task_id or seen.decision != decision.action:
            raise Conflict(f"callback id {decision.callback_id!r} was already used for another decision",
                           hint="use a new callback_id for every decision")
        return _outcome(seen, replayed=True)
    task = session.get(HumanTaskRow, decision.task_id)
    if task is None or task.lane != "agency" or task.agency != agency:
        raise NotFound(f"task {decision.task_id} is not a task of agency {agency}")
    officer = Principal(subject=f"{agency}:{decision.officer}", role=Role.AGENCY_OFFICER, agency=agency,
                        office=task.office)
    tasks.complete(ctx, session, officer, task.id, _completion(decision), via_agency_system=True)
    record = AgencyCallbackRow(callback_id=decision.callback_id, agency=agency, task_id=task.id, received_at=now,
                               outcome="completed", decision=decision.action, officer=decision.officer)
    session.add(record)
    _acknowledge(session, now, task.id)
    session.flush()
    return _outcome(record, replayed=False)


def _completion(decision: CallbackDecision) -> TaskCompletion:
    try:
        return TaskCompletion(action=decision.action, comment=decision.comment, fee_satang=decision.fee_satang,
                              documents=decision.documents)
    except ValidationError as err:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in err.errors())
        raise InvalidInput(f"the decision is incomplete: {problems}",
                           details=[{"field": ".".join(str(p) for p in e["loc"]) or "comment", "message": e["msg"]}
                                    for e in err.errors()]) from err


def _acknowledge(session: Session, now: datetime, task_id: str) -> None:
    """An answer proves the agency has the task: a delivery still retrying or failed is settled."""
    unsettled = (DeliveryState.PENDING, DeliveryState.FAILED)
    for delivery in session.exec(select(TaskDeliveryRow).where(TaskDeliveryRow.task_id == task_id,
                                                               TaskDeliveryRow.state.in_(unsettled))):  # type: ignore[attr-defined]
        delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, delivery.delivered_at or now
        _resolve_incidents(session, now, delivery.id)


def _outcome(row: AgencyCallbackRow, replayed: bool) -> CallbackOutcome:
    return CallbackOutcome(callback_id=row.callback_id, task_id=row.task_id, outcome=row.outcome, action=row.decision,
                           officer=row.officer, received_at=row.received_at, replayed=replayed)
