"""Process definitions, instances and the projections queries read instead of workflows.

The questions asked of the projections in more than one place are answered here once (`open_tasks`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, Session, SQLModel, col, select

from bizportal.storage.columns import UTCDateTime, utcnow


class HumanTaskState(StrEnum):
    """Where a human task is: open in an inbox, or closed by its completion or by the process moving on."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TimerState(StrEnum):
    """A timer event waits until the due scan fires it, or is cancelled when its process moves on."""

    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"


class ProcessDefinitionRow(SQLModel, table=True):
    """A BPMN source as deployed, keyed by content hash.

    Kept forever so an instance started on an older version can be restored after a
    new deploy changed the file: in-flight cases finish on the version they began with.
    """

    __tablename__ = "process_definition"

    spec_hash: str = Field(primary_key=True, max_length=64)
    process_id: str = Field(index=True, max_length=200)
    source_name: str = Field(max_length=500)
    bpmn_xml: str = Field(sa_column=Column(Text, nullable=False))
    deployed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkflowInstanceRow(SQLModel, table=True):
    """One running process: its serialized state (spec by reference) and its projection."""

    __tablename__ = "workflow_instance"

    id: str = Field(primary_key=True, max_length=36)
    spec_hash: str = Field(foreign_key="process_definition.spec_hash", max_length=64)
    process_id: str = Field(index=True, max_length=200)
    document: str = Field(sa_column=Column(Text, nullable=False))
    completed: bool = Field(default=False, index=True)
    status: str = Field(max_length=40, description="business status from the BPMN element's `status`")
    current_step: str | None = Field(default=None, max_length=200)
    waiting_messages: str = Field(default="", max_length=500, description="comma list of messages awaited")
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HumanTaskRow(SQLModel, table=True):
    """A user task as the inbox sees it; written from the workflow on every save."""

    __tablename__ = "human_task"
    # The inbox pages by keyset in its order (overdue first, then deadline, then age, then id: engine/cases/
    # tasks.py): each part of it (overdue or not, with a deadline or without) is one range of these indexes, for
    # an agency's queue, the whole list (admins), and the step and claim filters. An officer's office follows
    # its agency and lane (a count reads only that office's entries, and only them, not the rows, for their lane;
    # the filter's step choices are one seek each, and an officer's step filter is one range in the inbox's order).
    __table_args__ = (Index("ix_human_task_office", "state", "agency", "lane", "office", "step", "overdue",
                            "due_at", "opened_at", "id"),
                      # An office's overdue tasks in one range: the overdue count (ix_human_task_office has the
                      # step before `overdue`, for the step filter and choices, so counting overdue walked them all).
                      Index("ix_human_task_office_overdue", "state", "agency", "lane", "office", "overdue", "due_at",
                            "opened_at", "id"),
                      Index("ix_human_task_queue", "state", "agency", "overdue", "due_at", "opened_at", "id"),
                      Index("ix_human_task_order", "state", "overdue", "due_at", "opened_at", "id"),
                      Index("ix_human_task_step", "state", "step", "overdue", "due_at", "opened_at", "id"),
                      Index("ix_human_task_assignee", "state", "assignee", "overdue", "due_at", "opened_at", "id"))

    id: str = Field(primary_key=True, max_length=36, description="the SpiffWorkflow task id")
    instance_id: str = Field(foreign_key="workflow_instance.id", index=True, max_length=36)
    step: str = Field(max_length=200)
    title: str = Field(max_length=300)
    title_th: str | None = Field(default=None, max_length=300)
    lane: str = Field(max_length=40)
    agency: str | None = Field(default=None, max_length=40)
    office: str | None = Field(default=None, max_length=40)
    actions: str = Field(max_length=300, description="comma list")
    state: str = Field(default=HumanTaskState.OPEN, max_length=20)
    assignee: str | None = Field(default=None, max_length=200, description="the officer who claimed it")
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue: bool = Field(default=False)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by: str | None = Field(default=None, max_length=200)
    decision: str | None = Field(default=None, max_length=60)
    comment: str | None = Field(default=None, sa_column=Column(Text))


class TimerRow(SQLModel, table=True):
    """A waiting timer event; the due scan reads only this table."""

    __tablename__ = "workflow_timer"
    # The due scan's range in its order (state, due_at), with what it reads of each timer: index-only at any size.
    __table_args__ = (Index("ix_workflow_timer_due", "state", "due_at", "instance_id", "id"),)

    id: str = Field(primary_key=True, max_length=36, description="the SpiffWorkflow task id of the timer")
    instance_id: str = Field(foreign_key="workflow_instance.id", index=True, max_length=36)
    attached_to: str | None = Field(default=None, max_length=200)
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=TimerState.WAITING, max_length=20)
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def open_tasks(session: Session, instance_id: str, step: str | None = None) -> list[HumanTaskRow]:
    """The open human tasks of one process instance (only those of `step` if given), oldest first."""
    query = select(HumanTaskRow).where(HumanTaskRow.instance_id == instance_id,
                                        HumanTaskRow.state == HumanTaskState.OPEN)
    if step is not None:
        query = query.where(HumanTaskRow.step == step)
    return list(session.exec(query.order_by(col(HumanTaskRow.opened_at))))
