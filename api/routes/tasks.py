"""The officer inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel, Field

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import MAX_CURSOR, NEXT_HEADERS, decode, with_next
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import COUNT_CAP, TaskCompletion, TaskFilter, TaskView
from bizportal.engine.paging import MAX_LIMIT

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


class TaskQuery(TaskFilter):
    """The inbox's filters, and where the page starts."""

    cursor: str | None = Field(default=None, max_length=MAX_CURSOR, description="where the page starts: the "
                               "`X-Next-Cursor` header of the page before (leave out for the first page)")
    limit: int = Field(default=200, ge=1, le=MAX_LIMIT, description=f"tasks per page (at most {MAX_LIMIT})")


COUNT_HEADERS = {"X-Total-Count": {"description": f"open tasks the filters match, on every page: a number, or "
                                                  f"`{COUNT_CAP}+` when more match (counting stops there)",
                                   "schema": {"type": "string", "pattern": r"^\d+\+?$"}},
                 "X-Overdue-Count": {"description": "of those, how many are overdue (the same way)",
                                     "schema": {"type": "string", "pattern": r"^\d+\+?$"}}}


@router.get("", response_model=list[TaskView],
            summary="Open tasks: an officer's agency lane (and office), or an applicant's own steps",
            description="Overdue first, then by deadline (none last), then the oldest first; paged by cursor "
                        "(`X-Next-Cursor`, `Link: rel=\"next\"`), with the counts of the whole filtered list.",
            responses={200: {"headers": {**NEXT_HEADERS, **COUNT_HEADERS}}})
def list_tasks(request: Request, response: Response, engine: EngineDep, principal: PrincipalDep,
               params: Annotated[TaskQuery, Query()]) -> list[TaskView]:
    filters = TaskFilter.model_validate(params.model_dump(exclude={"cursor", "limit"}))
    with query(engine) as session:
        page = tasks.inbox(engine.ctx, session, principal, filters, params.limit, decode(params.cursor))
        counts = tasks.inbox_counts(engine.ctx, session, principal, filters)
    response.headers["X-Total-Count"] = f"{counts.total}{'+' if counts.more else ''}"
    response.headers["X-Overdue-Count"] = f"{counts.overdue}{'+' if counts.more_overdue else ''}"
    return with_next(request, response, page)


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
