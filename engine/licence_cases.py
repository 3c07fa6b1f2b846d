"""A licence case: one licence of an application, run as one process instance.

After every move of its process the case copies the projection (status, step, due date)
and the application's status follows, with each change written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from bizportal.engine import audit
from bizportal.engine.application_status import application_status
from bizportal.engine.context import EngineContext
from bizportal.engine.principal import SYSTEM, Principal
from bizportal.engine.script_engine import ServiceCall
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.workflow_tables import HumanTaskRow, WorkflowInstanceRow


def sync_case(session: Session, ctx: EngineContext, case: LicenceCaseRow, instance: WorkflowInstanceRow,
              actor: Principal = SYSTEM) -> None:
    """Copy the instance's projection onto the case and recompute the application's status."""
    now = ctx.clock.now()
    open_tasks = session.exec(select(HumanTaskRow).where(HumanTaskRow.instance_id == instance.id,
                                                         HumanTaskRow.state == "open")).all()
    dues = [t.due_at for t in open_tasks if t.due_at is not None]
    previous = case.status
    case.status = instance.status
    case.current_step = instance.current_step
    case.due_at = min(dues) if dues else None
    case.updated_at = now
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None  # foreign key
    if previous != case.status:
        audit.record(session, actor, "licence.status_changed", now, application.id,
                     licence=case.licence_code, **{"from": previous, "to": case.status})
    session.flush()
    cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)).all()
    new_status = application_status(c.status for c in cases)
    if new_status != application.status:
        application.status = new_status.value
        application.updated_at = now


def start_case_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: start the process of a submitted licence case (idempotent: a started case is left alone)."""
    case = session.get(LicenceCaseRow, payload["case_id"])
    if case is None or case.instance_id is not None:
        return
    manual = ctx.catalogue.licence(case.licence_code)
    instance = ctx.runtime.start(session, manual.code, context={
        "application_id": case.application_id, "case_id": case.id, "licence": case.licence_code,
        "agency": case.agency})
    case.instance_id = instance.id
    sync_case(session, ctx, case, instance)


def case_of(session: Session, instance: WorkflowInstanceRow) -> LicenceCaseRow:
    case = session.get(LicenceCaseRow, instance.context["case_id"])
    assert case is not None  # written together with the instance
    return case


def record_overdue(ctx: EngineContext, session: Session, instance: WorkflowInstanceRow,
                   call: ServiceCall) -> Mapping[str, Any]:
    """Service operator: an SLA timer ran out on an agency step; mark it and say so in the trail."""
    step = str(call.params.get("step", ""))
    tasks = session.exec(select(HumanTaskRow).where(HumanTaskRow.instance_id == instance.id,
                                                    HumanTaskRow.step == step, HumanTaskRow.state == "open")).all()
    for task in tasks:
        task.overdue = True
    audit.record(session, SYSTEM, "step.overdue", ctx.clock.now(), instance.context.get("application_id"),
                 licence=instance.context.get("licence"), step=step)
    return {"step": step, "overdue": True}
