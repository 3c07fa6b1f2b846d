"""A licence case: one licence of an application, run as one process instance.

This module is the one door for moving a case. Each move (`complete_step`, `deliver_message`,
`fire_timers`, `cancel_case`, and starting the process in `start_case_job`) runs the workflow
runtime and then brings every projection with it in the same transaction: the case's status,
step and due date, the statutory clock, the audit trail, the applicant's notices, the licences
waiting for this one, and the application's status. Callers elsewhere may read the runtime
(tasks, state) but never move it themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from bizportal.engine import audit, outbox
from bizportal.engine.cases.kinds import process_id
from bizportal.engine.context import EngineContext
from bizportal.engine.deadlines import statutory_clock
from bizportal.engine.errors import InvalidInput
from bizportal.engine.notices import triggers
from bizportal.engine.principal import SYSTEM, Principal
from bizportal.engine.statuses import TERMINAL, Status, application_status
from bizportal.engine.workflow.script_engine import ServiceCall
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.workflow_tables import HumanTaskRow, WorkflowInstanceRow, open_tasks


def complete_step(ctx: EngineContext, session: Session, principal: Principal, task_id: str, action: str,
                  comment: str, data: Mapping[str, Any] | None = None,
                  documents: list[str] | None = None) -> HumanTaskRow:
    """Complete a human task of the case with `action` and move the case on (the completion is in its trail).
    `documents`: the codes a request for documents asks for, kept on the case.

    Raises:
        NotFound, Conflict, InvalidInput: as `ProcessRuntime.complete_task`.
    """
    done = ctx.runtime.complete_task(session, task_id, action, comment, principal.label, data)
    case = case_of(session, done.instance)
    now = ctx.clock.now()
    if documents is not None:
        case.requested_documents, case.documents_requested_at = documents, now
    audit.record(session, principal, "task.completed", now, case.application_id,
                 licence=case.licence_code, step=done.task.step, action=action, comment=comment,
                 **({"documents": documents} if documents is not None else {}))
    _project_case(ctx, session, case, done.instance, principal)
    return done.task


def deliver_message(ctx: EngineContext, session: Session, case: LicenceCaseRow, message: str,
                    payload: Mapping[str, Any] | None = None, *, by: Principal = SYSTEM) -> WorkflowInstanceRow:
    """Tell the case's process what it waits for (`payment_received`, `licence_issued`) and move the case on.

    Raises:
        Conflict: the process is not waiting for `message`, or a concurrent move won.
    """
    assert case.instance_id is not None  # only a started case waits for a message
    instance = ctx.runtime.send_message(session, case.instance_id, message, payload)
    _project_case(ctx, session, case, instance, by)
    return instance


def fire_timers(ctx: EngineContext, session: Session, instance_id: str, timer_ids: list[str]) -> LicenceCaseRow:
    """Fire the given due timers of the case run by `instance_id` and move the case on; returns the case."""
    instance = ctx.runtime.fire_timers(session, instance_id, timer_ids)
    case = case_of(session, instance)
    _project_case(ctx, session, case, instance)
    return case


def cancel_case(ctx: EngineContext, session: Session, case: LicenceCaseRow, *, by: Principal, reason: str) -> None:
    """End a case as cancelled where it stands: its process (open tasks and timers with it), or a case with none.

    Raises:
        Conflict: the process has already ended, or a concurrent move won.
    """
    if case.instance_id is None:  # a draft, or waiting for a prerequisite: no process to stop
        _close_case(ctx, session, case, Status.CANCELLED, by, reason)
        return
    instance = ctx.runtime.cancel(session, case.instance_id, Status.CANCELLED.value)
    _project_case(ctx, session, case, instance, by)


def _project_case(ctx: EngineContext, session: Session, case: LicenceCaseRow, instance: WorkflowInstanceRow,
                  actor: Principal = SYSTEM) -> None:
    """After a move of the process: copy its projection onto the case, then everything that follows from it."""
    now = ctx.clock.now()
    dues = ctx.runtime.open_task_dues(session, instance.id)
    previous = case.status
    case.status = instance.status
    case.current_step = instance.current_step
    case.due_at = min(dues) if dues else None
    case.updated_at = now
    statutory_clock.on_case_moved(session, ctx.clock, ctx.catalogue, case, previous)
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None  # foreign key
    if previous != case.status:
        audit.record(session, actor, "licence.status_changed", now, application.id,
                     licence=case.licence_code, **{"from": previous, "to": case.status})
        triggers.licence_status_changed(ctx, session, case, previous)
        _release_dependents(ctx, session, case)
    _recompute_application_status(ctx, session, application)


def _close_case(ctx: EngineContext, session: Session, case: LicenceCaseRow, status: Status, actor: Principal,
                reason: str) -> None:
    """End a case that has no running process (a draft, or one waiting for a prerequisite) with `status`."""
    now = ctx.clock.now()
    previous, case.status, case.current_step, case.updated_at = case.status, status.value, None, now
    audit.record(session, actor, "licence.status_changed", now, case.application_id,
                 licence=case.licence_code, reason=reason, **{"from": previous, "to": case.status})
    triggers.licence_status_changed(ctx, session, case, previous, reason=reason)
    _release_dependents(ctx, session, case)
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None  # foreign key
    _recompute_application_status(ctx, session, application)


def _recompute_application_status(ctx: EngineContext, session: Session, application: ApplicationRow) -> None:
    """The application's status follows its licences'."""
    session.flush()
    cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)).all()
    new_status = application_status(c.status for c in cases)
    if new_status != application.status:
        application.status = new_status.value
        application.updated_at = ctx.clock.now()


WAITING_FOR_PREREQUISITES = "waiting_for_prerequisites"


def pending_prerequisites(ctx: EngineContext, case: LicenceCaseRow, siblings: list[LicenceCaseRow]) -> list[str]:
    """Prerequisites of `case` filed in the same application and not issued yet.

    A prerequisite not in the application was already issued to the applicant (checked when the
    application was created), so it never holds a case back.
    """
    by_code = {sibling.licence_code: sibling for sibling in siblings}
    return [code for code in ctx.catalogue.licence(case.licence_code).prerequisites
            if code in by_code and by_code[code].status != Status.ISSUED]


def start_when_ready(ctx: EngineContext, session: Session, case: LicenceCaseRow,
                     siblings: list[LicenceCaseRow]) -> bool:
    """Queue the case's process start if its prerequisites are issued; otherwise mark it waiting."""
    pending = pending_prerequisites(ctx, case, siblings)
    if pending:
        case.current_step = f"{WAITING_FOR_PREREQUISITES}:{','.join(pending)}"
        return False
    case.current_step = None
    outbox.enqueue(session, "start_licence_case", ctx.clock, case_id=case.id)
    return True


def _release_dependents(ctx: EngineContext, session: Session, case: LicenceCaseRow) -> None:
    """After a licence is decided, start the licences that waited for it, or end them with its reason."""
    if case.status not in TERMINAL:
        return
    siblings = list(session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == case.application_id)))
    waiting = [c for c in siblings if c.instance_id is None and c.status == Status.SUBMITTED
               and case.licence_code in ctx.catalogue.licence(c.licence_code).prerequisites]
    for dependent in waiting:
        if case.status == Status.ISSUED:
            start_when_ready(ctx, session, dependent, siblings)
            continue
        # Licensing cannot go on without the prerequisite: the dependent ends with that reason.
        reason = f"prerequisite {case.licence_code} was {case.status}"
        _close_case(ctx, session, dependent, Status.REJECTED, SYSTEM, reason)


def start_case_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: start the process of a submitted licence case (idempotent: a started case is left alone)."""
    case = session.get(LicenceCaseRow, payload["case_id"])
    if case is None or case.instance_id is not None:
        return
    # A new licence runs its own process; a renewal, amendment or cancellation the one of its kind.
    instance = ctx.runtime.start(session, process_id(case.kind, case.licence_code), context={
        "application_id": case.application_id, "case_id": case.id, "licence": case.licence_code,
        "kind": case.kind, "subject_licence": case.subject_licence,
        "agency": case.agency, "office": case.office, "offices": _offices_of_other_agencies(ctx, session, case)})
    case.instance_id = instance.id
    _project_case(ctx, session, case, instance)


def _offices_of_other_agencies(ctx: EngineContext, session: Session, case: LicenceCaseRow) -> dict[str, str]:
    """The local office of the business's location for each local agency a step of the process names.

    An opinion asked of local government goes to the office where the business is; where no connected
    office serves that place, the step stays with the agency as a whole.
    """
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None
    offices = {}
    process = ctx.runtime.definitions.current(process_id(case.kind, case.licence_code))
    for agency in process.agencies_named() - {case.agency}:
        if ctx.catalogue.agencies[agency].level != "local":
            continue
        try:
            offices[agency] = ctx.offices.route(agency, application.business_province,
                                                application.business_district).code
        except InvalidInput:
            continue
    return offices


def case_of(session: Session, instance: WorkflowInstanceRow) -> LicenceCaseRow:
    case = session.get(LicenceCaseRow, instance.context["case_id"])
    assert case is not None  # written together with the instance
    return case


def record_overdue(ctx: EngineContext, session: Session, instance: WorkflowInstanceRow,
                   call: ServiceCall) -> Mapping[str, Any]:
    """Service operator: an SLA timer ran out on an agency step; mark it and say so in the trail."""
    step = str(call.params.get("step", ""))
    for task in open_tasks(session, instance.id, step):
        task.overdue = True
    audit.record(session, SYSTEM, "step.overdue", ctx.clock.now(), instance.context.get("application_id"),
                 licence=instance.context.get("licence"), step=step)
    return {"step": step, "overdue": True}
