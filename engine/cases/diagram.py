"""A case's process as a diagram: the BPMN it runs (the exact version it started on), the steps done and the
step it stands at, for the tracking page's viewer to draw with the current step highlighted."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from bizportal.engine.access import readable_application
from bizportal.engine.cases.kinds import process_id
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import NotFound
from bizportal.engine.principal import Principal
from bizportal.storage.applications import LicenceCaseRow
from bizportal.storage.workflow_tables import HumanTaskRow, HumanTaskState, WorkflowInstanceRow


class CaseDiagram(BaseModel):
    licence: str
    process_id: str
    bpmn_xml: str = Field(description="the BPMN 2.0 XML the case runs (the version it started on)")
    done: list[str] = Field(description="ids of the human steps completed, in order")
    current: list[str] = Field(description="ids of the steps it waits at now (empty once it ended)")
    status: str


def case_diagram(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
                 licence: str) -> CaseDiagram:
    """The diagram of one licence case of the application, for whoever may read the application.

    Raises:
        NotFound: not the caller's application, or no such licence in it.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id,
                                                     LicenceCaseRow.licence_code == licence)).first()
    if case is None:
        raise NotFound(f"application {application_id} has no licence {licence!r}")
    definitions = ctx.runtime.definitions
    instance = session.get(WorkflowInstanceRow, case.instance_id) if case.instance_id else None
    if instance is None:  # not started yet: the process it will run
        definition = definitions.current(process_id(case.kind, case.licence_code))
        return CaseDiagram(licence=licence, process_id=definition.process_id, bpmn_xml=definition.bpmn_xml, done=[],
                           current=[], status=case.status)
    definition = definitions.by_hash(session, instance.spec_hash)
    tasks = session.exec(select(HumanTaskRow).where(HumanTaskRow.instance_id == instance.id)
                         .order_by(col(HumanTaskRow.opened_at))).all()
    done = [t.step for t in tasks if t.state == HumanTaskState.COMPLETED]
    current = [t.step for t in tasks if t.state == HumanTaskState.OPEN]
    if not current and case.current_step and case.current_step not in done:
        current = [case.current_step]  # waiting at a message or a timer, not a human step
    return CaseDiagram(licence=licence, process_id=definition.process_id, bpmn_xml=definition.bpmn_xml, done=done,
                       current=current, status=case.status)
