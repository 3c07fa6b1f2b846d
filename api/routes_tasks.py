"""The officer inbox."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks

from bizportal.api.deps import PortalDep, PrincipalDep, command, query
from bizportal.engine import inbox
from bizportal.engine.inbox import TaskCompletion, TaskView

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskView],
            summary="Open tasks: an officer's agency lane, or an applicant's own steps")
def list_tasks(portal: PortalDep, principal: PrincipalDep) -> list[TaskView]:
    with query(portal) as session:
        return inbox.open_tasks(portal.ctx, session, principal)


@router.post("/{task_id}/complete", summary="Complete a task with one of its actions")
def complete_task(task_id: str, body: TaskCompletion, portal: PortalDep, principal: PrincipalDep,
                  background: BackgroundTasks) -> dict[str, str]:
    with command(portal, background) as session:
        task = inbox.complete(portal.ctx, session, principal, task_id, body)
        return {"id": task.id, "state": task.state, "decision": task.decision or ""}
