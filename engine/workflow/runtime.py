"""Runs process instances: start, complete a human task, deliver a message, fire timers.

Every command loads one instance, moves it, and saves it with its projection (status,
current step, open human tasks, timers) in the caller's transaction, guarded by an
optimistic version check. Status and inbox queries read the projection only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from bizportal.engine.clock import Clock
from bizportal.engine.deadlines.working_days import add_working_days
from bizportal.engine.errors import BizPortalError, Conflict, InvalidInput, NotFound
from bizportal.engine.workflow.cache import WorkflowCache
from bizportal.engine.workflow.definitions import DefinitionRegistry, ProcessDefinition
from bizportal.engine.workflow.script_engine import ServiceCall, WorkflowScriptEngine
from bizportal.engine.workflow.serialization import WorkflowDocuments
from bizportal.storage.database import claim_due
from bizportal.storage.workflow_tables import (
    HumanTaskRow,
    HumanTaskState,
    TimerRow,
    TimerState,
    WorkflowInstanceRow,
    open_tasks,
)

if TYPE_CHECKING:
    from bizportal.engine.context import EngineContext


class Operator(Protocol):
    """A BPMN service operator (`serviceTaskOperator id=...`) as the use cases write it: the runtime calls it with
    the engine's context, the unit of work, the instance and the call's parameters; it returns the task's data."""

    def __call__(self, ctx: EngineContext, session: Session, instance: WorkflowInstanceRow, call: ServiceCall,
                 /) -> Mapping[str, Any]: ...


class TasksOpened(Protocol):
    """Told, in the same transaction, which human tasks a save has just opened (ids of flushed rows)."""

    def __call__(self, ctx: EngineContext, session: Session, task_ids: list[str], /) -> Any: ...


_OPEN_DUES = "bizportal.runtime.open_task_dues"  # session.info: instance id -> its open tasks' deadlines after a save

# The tables behind the rows the runtime writes with Core statements.
_INSTANCES: Table = WorkflowInstanceRow.__table__  # type: ignore[attr-defined]
_TABLES: dict[type[HumanTaskRow] | type[TimerRow], Table] = {
    HumanTaskRow: HumanTaskRow.__table__, TimerRow: TimerRow.__table__}  # type: ignore[attr-defined]


def _properties(task_spec: Any) -> dict[str, str]:
    return dict(getattr(task_spec, "extensions", {}).get("properties", {}))


def human_task(session: Session, task_id: str) -> HumanTaskRow:
    """The human task `task_id` from the projection.

    Raises:
        NotFound: no such task.
    """
    task = session.get(HumanTaskRow, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def ensure_open(task: HumanTaskRow) -> None:
    """Refuse a task that is no longer open (completed, or cancelled with its process).

    Raises:
        Conflict: the task is not open.
    """
    if task.state != HumanTaskState.OPEN:
        raise Conflict(f"task {task.id} is {task.state}, not open", hint="list open tasks again")


@dataclass(frozen=True)
class _Waits:
    """Where a workflow waits, found in one walk of its task tree (each `get_tasks` is a whole walk)."""

    ready: dict[str, Any]  # open human (manual) tasks by task id
    messages: list[Any]  # tasks waiting for a message
    timers: dict[str, Any]  # timer events waiting with their due date known, by task id

    @classmethod
    def none(cls) -> _Waits:
        return cls({}, [], {})

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> _Waits:
        ready: dict[str, Any] = {}
        messages: list[Any] = []
        timers: dict[str, Any] = {}
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            if task.state == TaskState.READY:
                if task.task_spec.manual:
                    ready[str(task.id)] = task
                continue
            event = getattr(task.task_spec, "event_definition", None)
            if isinstance(event, MessageEventDefinition):
                messages.append(task)
            elif isinstance(event, TimerEventDefinition) and task._get_internal_data("event_value") is not None:
                timers[str(task.id)] = task  # a timer enters the timer table once it knows its due date
        return cls(ready, messages, timers)


@dataclass(frozen=True)
class CompletedTask:
    """What the caller needs to record about a human task it completed."""

    task: HumanTaskRow
    instance: WorkflowInstanceRow


class ProcessRuntime:
    """The engine's only door to SpiffWorkflow."""

    # Functions BPMN expressions may call; definitions are validated against this list.
    FUNCTIONS = ("due_in_working_days",)

    def __init__(self, definitions: DefinitionRegistry, clock: Clock,
                 operators: Mapping[str, Operator], on_tasks_opened: TasksOpened | None = None) -> None:
        self.definitions = definitions
        self.clock = clock
        self.operators = dict(operators)
        self.on_tasks_opened = on_tasks_opened
        self.documents = WorkflowDocuments()
        self.cache = WorkflowCache()
        self._context: EngineContext | None = None

    def bind(self, ctx: EngineContext) -> None:
        """Give the runtime the context it calls the operators and `on_tasks_opened` with.

        The context holds the runtime, so one of the two is made first: `build_engine` binds the runtime
        once, right after making the context and before anything runs.
        """
        self._context = ctx

    def _ctx(self) -> EngineContext:
        if self._context is None:
            raise RuntimeError("the process runtime has no engine context: bind(ctx) it first (build_engine does)")
        return self._context

    # -- expressions the BPMN may call (the whitelist's function list) -------------------
    def functions(self) -> dict[str, Callable[..., Any]]:
        return {"due_in_working_days": lambda days: add_working_days(self.clock.now(), int(days)).isoformat()}

    def _attach(self, workflow: BpmnWorkflow, session: Session, row: WorkflowInstanceRow) -> None:
        # A deserialized workflow carries a default script engine; ours is re-attached every time.
        bound: dict[str, Callable[..., Any]] = {}
        if self.operators:  # a runtime without operators (tests, the benchmark's bare variant) needs no context
            ctx = self._ctx()
            bound = {name: partial(fn, ctx, session, row) for name, fn in self.operators.items()}
        workflow.script_engine = WorkflowScriptEngine(self.functions(), bound, self.clock.now)

    @staticmethod
    def _run(action: Callable[[], Any]) -> None:
        """Run a SpiffWorkflow step, surfacing our own errors unwrapped."""
        try:
            action()
        except WorkflowException as err:
            inner = getattr(err, "exception", None) or err.__cause__
            if isinstance(inner, BizPortalError):
                raise inner from err
            raise

    # -- commands ------------------------------------------------------------------------
    def start(self, session: Session, process_id: str, context: Mapping[str, Any],
              data: Mapping[str, Any] | None = None) -> WorkflowInstanceRow:
        """Create an instance on the current definition and run it to its first wait state."""
        definition = self.definitions.current(process_id)
        row = WorkflowInstanceRow(id=str(uuid.uuid4()), spec_hash=definition.spec_hash, process_id=process_id,
                                  document="", status="started", context=dict(context), version=0)
        workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs))
        workflow.data.update(dict(data or {}))
        self._attach(workflow, session, row)
        self._run(workflow.do_engine_steps)
        self._save(session, row, workflow, definition, new=True)
        return row

    def load(self, session: Session, instance_id: str) -> tuple[WorkflowInstanceRow, BpmnWorkflow, ProcessDefinition]:
        row, workflow, definition, _ = self._load(session, instance_id)
        return row, workflow, definition

    def _load(self, session: Session, instance_id: str) -> tuple[WorkflowInstanceRow, BpmnWorkflow,
                                                                  ProcessDefinition, _Waits]:
        """`load`, and where the workflow waited as loaded: what its projection rows say at this version."""
        row = session.get(WorkflowInstanceRow, instance_id)
        if row is None:
            raise NotFound(f"process instance {instance_id} does not exist")
        definition = self.definitions.by_hash(session, row.spec_hash)
        cached = self.cache.take(row.id, row.version, row.spec_hash)
        if cached is None:  # saved by another process, evicted, or never saved by this one since it started
            workflow = self.documents.loads(row.document, definition)
            waits = _Waits.of(workflow)
        else:
            workflow, waits = cached
        self._attach(workflow, session, row)
        return row, workflow, definition, waits

    def complete_task(self, session: Session, task_id: str, action: str, comment: str | None,
                      actor: str, data: Mapping[str, Any] | None = None) -> CompletedTask:
        """Complete an open human task with one of its allowed actions.

        Raises:
            NotFound: no such task.
            Conflict: the task is no longer open.
            InvalidInput: the action is not one the step allows.
        """
        task_row = human_task(session, task_id)
        ensure_open(task_row)
        allowed = task_row.actions.split(",")
        if action not in allowed:
            raise InvalidInput(f"action {action!r} is not allowed at step {task_row.step!r}",
                               hint=f"use one of: {', '.join(allowed)}", details={"allowed": allowed})
        row, workflow, definition, before = self._load(session, task_row.instance_id)
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY:
            raise Conflict(f"task {task_id} is not waiting for input")
        task.data.update(dict(data or {}))
        task.data.update({"decision": action, "comment": comment or ""})
        self._run(task.run)
        self._run(workflow.do_engine_steps)
        now = self.clock.now()
        task_row.state, task_row.completed_at, task_row.completed_by = HumanTaskState.COMPLETED, now, actor
        task_row.decision, task_row.comment = action, comment
        self._save(session, row, workflow, definition, before=before)
        return CompletedTask(task=task_row, instance=row)

    def send_message(self, session: Session, instance_id: str, name: str,
                     payload: Mapping[str, Any] | None = None) -> WorkflowInstanceRow:
        """Deliver a message the instance waits for (payment received, licence issued).

        Raises:
            Conflict: the instance is not waiting for this message.
        """
        row, workflow, definition, before = self._load(session, instance_id)
        # Event definitions match by exact class: send the spiff one the parser created.
        event = BpmnEvent(SpiffMessageEventDefinition(name), payload=dict(payload or {}))
        try:
            workflow.send_event(event)
        except WorkflowException as err:
            raise Conflict(f"the case is not waiting for {name!r}", hint="check the case's status first") from err
        self._run(workflow.do_engine_steps)
        self._save(session, row, workflow, definition, before=before)
        return row

    def cancel(self, session: Session, instance_id: str, status: str) -> WorkflowInstanceRow:
        """End an instance where it stands with `status`; its open tasks and waiting timers are cancelled.

        Raises:
            Conflict: the instance has already ended.
        """
        row, workflow, definition, before = self._load(session, instance_id)
        if row.completed:
            raise Conflict(f"the case has already ended as {row.status}", hint="an ended case cannot be cancelled")
        workflow.cancel()
        self._save(session, row, workflow, definition, status=status, before=before)
        return row

    def due_timers(self, session: Session, now: datetime, instance_id: str) -> list[TimerRow]:
        """Claim an instance's due timers without loading its workflow (SKIP LOCKED on PostgreSQL)."""
        query = select(TimerRow).where(TimerRow.instance_id == instance_id, TimerRow.state == TimerState.WAITING,
                                       TimerRow.due_at <= now)
        return claim_due(session, query)

    def fire_timers(self, session: Session, instance_id: str, timer_ids: list[str]) -> WorkflowInstanceRow:
        """Fire the given due timers of one instance and run it on."""
        row, workflow, definition, before = self._load(session, instance_id)
        for timer_id in timer_ids:
            task = workflow.get_task_from_id(UUID(timer_id))
            if task is not None and task.state == TaskState.WAITING:
                # The timer table is the only decider of when a timer is due: the engine's timer
                # events (timer_events.py) report "fired" only once marked here.
                task._set_internal_data(event_fired=True)
        workflow.refresh_timers()
        self._run(workflow.do_engine_steps)
        self._save(session, row, workflow, definition, before=before)
        now = self.clock.now()
        for timer_id in timer_ids:
            timer = session.get(TimerRow, timer_id)
            if timer is not None:
                timer.state, timer.fired_at = TimerState.FIRED, now
        return row

    # -- persistence and projection ----------------------------------------------------
    def _save(self, session: Session, row: WorkflowInstanceRow, workflow: BpmnWorkflow,
              definition: ProcessDefinition, new: bool = False, status: str | None = None,
              before: _Waits | None = None) -> None:
        """Write the workflow and its projection. `before` is where it waited as loaded (what its projection
        rows say); without it the rows are read."""
        now = self.clock.now()
        document = self.documents.dumps(workflow, definition)
        waits = _Waits.of(workflow)
        completed = workflow.is_completed()
        projected, step, waiting = self._status(workflow, row.status, waits, completed)
        status = status or projected
        values = {"document": document, "status": status, "current_step": step,
                  "waiting_messages": ",".join(waiting), "completed": completed, "updated_at": now}
        if new:
            for key, value in values.items():
                setattr(row, key, value)
            row.version = 1
            row.created_at = now
            session.add(row)
            session.flush()
        else:
            # A Core UPDATE of the table: the ORM's bulk-update path costs more than the statement, and the row is
            # set in memory below. The flush first is the ORM statement's autoflush (writes queued before it).
            session.flush()
            table = _INSTANCES
            result = session.execute(
                update(table).where(table.c.id == row.id, table.c.version == row.version)
                .values(version=table.c.version + 1, **values))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict("the case was changed by someone else at the same time",
                               hint="reload it and try again")
            # What was just written, set as the row's loaded state: setting it as a change would make the next
            # flush write the whole row (document included) a second time.
            for key, value in {**values, "version": row.version + 1}.items():
                set_committed_value(row, key, value)
        self._project_tasks(session, row, waits, now, _Waits.none() if new else before)
        self.cache.keep_after_commit(session, row.id, row.version, row.spec_hash, workflow, waits)

    @staticmethod
    def _status(workflow: BpmnWorkflow, previous: str, waits: _Waits | None = None,
                completed: bool | None = None) -> tuple[str, str | None, list[str]]:
        waits = waits or _Waits.of(workflow)
        completed = workflow.is_completed() if completed is None else completed
        ready, waiting = list(waits.ready.values()), waits.messages
        for task in ready + waiting:
            status = _properties(task.task_spec).get("status")
            if status:
                step_names = [t.task_spec.bpmn_id for t in ready + waiting]
                messages = [t.task_spec.event_definition.name for t in waiting]
                return status, ",".join(step_names), messages
        if completed:
            ended = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
                     if type(t.task_spec).__name__ == "EndEvent" and _properties(t.task_spec).get("status")]
            if ended:
                ended.sort(key=lambda t: t.last_state_change)
                return _properties(ended[-1].task_spec)["status"], None, []
        return previous, None, []

    def _project_tasks(self, session: Session, row: WorkflowInstanceRow, waits: _Waits, now: datetime,
                       before: _Waits | None) -> None:
        if before is None:
            before = self._projected(session, row.id)
        ready, timers = waits.ready, waits.timers
        due_by_task: dict[str, datetime] = {}
        for timer_id, timer in timers.items():
            if timer_id in before.timers:
                continue
            due_at = TimerEventDefinition.get_datetime(timer._get_internal_data("event_value"))
            attached = self._attached_task(timer, ready)
            if attached is not None:
                due_by_task[attached] = due_at
            session.add(TimerRow(id=timer_id, instance_id=row.id, due_at=due_at,
                                 attached_to=ready[attached].task_spec.bpmn_id if attached else None))
        self._close(session, TimerRow, TimerState.WAITING, TimerState.CANCELLED,
                    [timer_id for timer_id in before.timers if timer_id not in timers])
        agency = row.context.get("agency")
        offices = {**row.context.get("offices", {}), agency: row.context.get("office")}
        # The opened rows are held here until `on_tasks_opened` has run: the session's identity map only holds
        # clean rows weakly, and a collected one would be read back from the database by its `session.get`.
        opened_rows: list[HumanTaskRow] = []
        # The deadlines of the open tasks as this save leaves them, when known without a query (`open_task_dues`).
        dues: list[datetime | None] | None = []
        for task_id, task in ready.items():
            if task_id in before.ready:
                if task_id in due_by_task:  # a new timer watches a step that was already open
                    session.get_one(HumanTaskRow, task_id).due_at = due_by_task[task_id]
                held = cast(HumanTaskRow | None, session.identity_map.get(identity_key(HumanTaskRow, task_id)))
                if held is None:
                    dues = None  # not in this session: only the projection knows its deadline
                elif dues is not None:
                    dues.append(held.due_at)
                continue
            if dues is not None:
                dues.append(due_by_task.get(task_id))
            props = _properties(task.task_spec)
            lane = task.task_spec.lane or "agency"
            task_agency = props.get("agency", agency) if lane == "agency" else None
            opened_rows.append(HumanTaskRow(
                id=task_id, instance_id=row.id, step=task.task_spec.bpmn_id,
                title=task.task_spec.bpmn_name or task.task_spec.bpmn_id, title_th=props.get("title_th"),
                # A step may name another agency (an opinion asked of it); otherwise the case's agency,
                # each at its local office for the business's location where it has one.
                lane=lane, agency=task_agency, office=offices.get(task_agency) if task_agency else None,
                actions=props.get("actions", "complete"),
                due_at=due_by_task.get(task_id), opened_at=now))
        session.add_all(opened_rows)
        self._close(session, HumanTaskRow, HumanTaskState.OPEN, HumanTaskState.CANCELLED,
                    [task_id for task_id in before.ready if task_id not in ready])
        session.flush()
        known: dict[str, list[datetime]] = session.info.setdefault(_OPEN_DUES, {})
        if dues is None:
            known.pop(row.id, None)
        else:
            known[row.id] = [due for due in dues if due is not None]
        if opened_rows and self.on_tasks_opened is not None:
            self.on_tasks_opened(self._ctx(), session, [task_row.id for task_row in opened_rows])

    @staticmethod
    def open_task_dues(session: Session, instance_id: str) -> list[datetime]:
        """The deadlines of the instance's open tasks that have one. Right after a move the save says (each
        answer is given once: a later change of a task would not be in it); otherwise read from the projection."""
        known = session.info.get(_OPEN_DUES, {}).pop(instance_id, None)
        if known is not None:
            return list(known)
        return [task.due_at for task in open_tasks(session, instance_id) if task.due_at is not None]

    @staticmethod
    def _projected(session: Session, instance_id: str) -> _Waits:
        """Where the projection rows say the instance waits (open tasks, waiting timers), for a save whose
        caller did not load the workflow through `_load`. Only the ids matter."""
        tasks = session.exec(select(HumanTaskRow.id).where(HumanTaskRow.instance_id == instance_id,
                                                           HumanTaskRow.state == HumanTaskState.OPEN))
        timers = session.exec(select(TimerRow.id).where(TimerRow.instance_id == instance_id,
                                                        TimerRow.state == TimerState.WAITING))
        return _Waits(dict.fromkeys(tasks), [], dict.fromkeys(timers))

    @staticmethod
    def _close(session: Session, table: type[HumanTaskRow] | type[TimerRow], still: str, closed: str,
               ids: list[str]) -> None:
        """Mark the rows `ids` of `table` that are still `still` as `closed`, in one statement. A row the session
        holds is checked and updated in memory too: one no longer `still` there (the task just completed) is
        left out, and the statement is not sent when none is left."""
        held: list[tuple[str, HumanTaskRow | TimerRow | None]] = []
        for row_id in ids:
            row = cast(HumanTaskRow | TimerRow | None, session.identity_map.get(identity_key(table, row_id)))
            if row is None or row.state == still:
                held.append((row_id, row))
        if not held:
            return
        session.flush()  # the ORM statement's autoflush: a row queued for insert is updated too
        core = _TABLES[table]  # a Core UPDATE: the ORM's bulk-update path costs more than the statement
        session.execute(update(core).where(core.c.id.in_([row_id for row_id, _ in held]), core.c.state == still)
                        .values(state=closed))
        for _, row in held:
            if row is not None:
                set_committed_value(row, "state", closed)

    @staticmethod
    def _attached_task(timer: Any, ready: Mapping[str, Any]) -> str | None:
        """The human task a boundary timer watches: its sibling under the boundary split."""
        parent = timer.parent
        if parent is None:
            return None
        for sibling in parent.children:
            if str(sibling.id) in ready:
                return str(sibling.id)
        return None
