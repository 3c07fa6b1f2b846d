"""The officer inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskCompletion, TaskFilter, TaskView

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskView],
            summary="Open tasks: an officer's agency lane (and office), or an applicant's own steps")
def list_tasks(engine: EngineDep, principal: PrincipalDep, filters: Annotated[TaskFilter, Query()]) -> list[TaskView]:
    with query(engine) as session:
        return tasks.open_tasks(engine.ctx, session, principal, filters)


class TaskState(BaseModel):
    id: str
    state: str
    assignee: str | None


@router.post("/{task_id}/claim", response_model=TaskState, summary="Claim a task (others see who works on it)")
def claim_task(task_id: str, engine: EngineDep, principal: PrincipalDep, background: BackgroundTasks) -> TaskState:
    with command(engine, background) as session:
        task = tasks.claim(engine.ctx, session, principal, task_id)
        return TaskState(id=task.id, state=task.state, assignee=task.assignee)


@router.post("/{task_id}/release", response_model=TaskState, summary="Release a claimed task")
def release_task(task_id: str, engine: EngineDep, principal: PrincipalDep, background: BackgroundTasks) -> TaskState:
    with command(engine, background) as session:
        task = tasks.release(engine.ctx, session, principal, task_id)
        return TaskState(id=task.id, state=task.state, assignee=task.assignee)


@router.post("/{task_id}/complete", summary="Complete a task with one of its actions")
def complete_task(task_id: str, body: TaskCompletion, engine: EngineDep, principal: PrincipalDep,
                  background: BackgroundTasks) -> dict[str, str]:
    with command(engine, background) as session:
        task = tasks.complete(engine.ctx, session, principal, task_id, body)
        return {"id": task.id, "state": task.state, "decision": task.decision or ""}
