"""Every licence's process runs its three paths end to end on plain SpiffWorkflow (no database).

Approve all the way to `issued`, reject at the last decision step, and request documents once (Licensing
Facilitation Act s.8) before approving. Human tasks that are ready together (parallel branches of a
custom process) are completed in the manual's step order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BaseMessage
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from bizportal.engine.catalogue.manual import LicenceManual, load_manual

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
CODES = sorted(path.parent.name for path in BPMN_DIR.glob("*/manual.yaml"))
DECISION_KINDS = ("review", "inspection", "committee", "opinion", "public_hearing")
# Human tasks of hand-written processes that are no step of their manual (a manual's total adds sequential
# steps only): each runs in parallel with, and within the working days of, the step named here.
PARALLEL_TASKS = {"hotel_business_licence": {"lao_opinion": "site_inspection"}}
RESULTS = {"create_invoice": {"invoice_id": "inv-1", "amount_satang": 50000, "currency": "THB",
                               "due_at": "2099-12-31T16:59:59+00:00"},
           "issue_licence": {"request_id": "iss-1"}, "record_overdue": {"recorded": True},
           "expire_invoice": {"expired": True}}


class FakeServices(PythonScriptEngine):
    """`due_in_working_days` as calendar days from now, and recorded service calls."""

    def __init__(self) -> None:
        def due_in_working_days(n: int) -> str:
            return (datetime.now(UTC) + timedelta(days=n)).isoformat()

        super().__init__(environment=TaskDataEnvironment({"due_in_working_days": due_in_working_days}))
        self.calls: list[str] = []

    def call_service(self, task, operation_name, operation_params):
        self.calls.append(operation_name)
        return json.dumps(RESULTS[operation_name])


@cache
def licence(code: str) -> tuple[LicenceManual, Any]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN_DIR / code / "process.bpmn"))
    return load_manual(BPMN_DIR / code / "manual.yaml"), parser.get_spec(code)


def properties(task) -> dict[str, str]:
    return dict(task.task_spec.extensions.get("properties", {}))


@dataclass
class Run:
    """What happened along one path."""

    completed: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    parallel: list[set[str]] = field(default_factory=list)
    end: str | None = None
    end_status: str | None = None


def _status(workflow: BpmnWorkflow) -> str | None:
    # Like ProcessRuntime._status: the first ready human task or waiting message event with a status.
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    waiting = [t for t in workflow.get_tasks(state=TaskState.WAITING)
               if isinstance(getattr(t.task_spec, "event_definition", None), BaseMessage)]
    for task in ready + waiting:
        if properties(task).get("status"):
            return properties(task)["status"]
    return None


def drive(code: str, choose: Callable[[str, list[str]], str], pay: bool = True) -> Run:
    """Run `code` choosing each task's action; without `pay`, the payment deadline passes instead."""
    manual, spec = licence(code)
    order = {step.id: index for index, step in enumerate(manual.steps)}
    run = Run()
    workflow = BpmnWorkflow(spec, script_engine=FakeServices())
    workflow.do_engine_steps()
    for _ in range(100):
        status = _status(workflow)
        if status and (not run.statuses or run.statuses[-1] != status):
            run.statuses.append(status)
        ready = sorted(workflow.get_tasks(state=TaskState.READY, manual=True),
                       key=lambda t: (order.get(t.task_spec.name, len(order)), t.task_spec.name))
        waiting = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)}
        if ready:
            if len(ready) > 1:
                run.parallel.append({t.task_spec.name for t in ready})
            task = ready[0]
            actions = properties(task)["actions"].split(",")
            action = choose(task.task_spec.name, actions)
            assert action in actions, (task.task_spec.name, action, actions)
            task.data.update(decision=action, comment="")
            task.run()
            run.completed.append(task.task_spec.name)
            workflow.do_engine_steps()
        elif "await_payment" in waiting and not pay:
            # As ProcessRuntime.fire_timers does when the timer table says the deadline is due.
            (deadline,) = [t for t in workflow.get_tasks(state=TaskState.WAITING)
                           if t.task_spec.name == "payment_deadline"]
            deadline._set_internal_data(event_fired=True)
            workflow.refresh_timers()
            workflow.do_engine_steps()
        elif "await_payment" in waiting or "await_licence" in waiting:
            message = "payment_received" if "await_payment" in waiting else "licence_issued"
            run.messages.append(message)
            workflow.send_event(BpmnEvent(MessageEventDefinition(message), payload={}))
            workflow.do_engine_steps()
        elif workflow.is_completed():
            break
        else:
            raise AssertionError(f"{code}: stuck waiting on {sorted(waiting)} after {run.completed}")
    assert workflow.is_completed(), f"{code}: did not finish: {run.completed}"
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if type(t.task_spec).__name__ == "EndEvent" and properties(t).get("status")]
    assert len(ends) == 1, [t.task_spec.name for t in ends]
    run.end, run.end_status = ends[0].task_spec.name, properties(ends[0])["status"]
    return run


def decisions(manual: LicenceManual) -> list[str]:
    """The decision tasks in the order `drive` completes them: manual order, parallel tasks after their partner."""
    extra = PARALLEL_TASKS.get(manual.code, {})
    ordered = []
    for step in manual.steps:
        if step.kind in DECISION_KINDS:
            ordered += [step.id, *sorted(task for task, partner in extra.items() if partner == step.id)]
    return ordered


def check_step(manual: LicenceManual) -> str:
    return next(step.id for step in manual.steps if step.kind == "document_check")


def approve(task_id: str, actions: list[str]) -> str:
    return "submit" if actions == ["submit"] else "approve"


def issuing_tail(manual: LicenceManual) -> tuple[list[str], list[str]]:
    """The statuses after the decisions, and the messages sent, for a licence that gets issued."""
    if manual.fee.type == "none":
        return ["issuing"], ["licence_issued"]
    return ["awaiting_payment", "issuing"], ["payment_received", "licence_issued"]


@pytest.mark.parametrize("code", CODES)
def test_approved_all_the_way_is_issued(code: str) -> None:
    manual, _spec = licence(code)
    run = drive(code, approve)
    assert run.completed == [check_step(manual), *decisions(manual)]
    statuses, messages = issuing_tail(manual)
    assert run.statuses == ["document_check", *(["under_consideration"] if decisions(manual) else []), *statuses]
    assert run.messages == messages
    assert (run.end, run.end_status) == ("issued", "issued")


@pytest.mark.parametrize("code", CODES)
def test_rejected_at_the_last_decision_step(code: str) -> None:
    manual, _spec = licence(code)
    last = (decisions(manual) or [check_step(manual)])[-1]

    def choose(task_id: str, actions: list[str]) -> str:
        return "reject" if task_id == last else approve(task_id, actions)

    run = drive(code, choose)
    assert run.completed[-1] == last
    assert run.completed == [check_step(manual), *decisions(manual)]
    assert run.messages == [] and run.end_status == "rejected"
    assert run.statuses[-1] == ("under_consideration" if decisions(manual) else "document_check")


@pytest.mark.parametrize("code", CODES)
def test_documents_requested_once_then_approved(code: str) -> None:
    manual, _spec = licence(code)
    first = check_step(manual)
    seen: dict[str, list[str]] = {}

    def choose(task_id: str, actions: list[str]) -> str:
        seen[task_id] = actions
        return "request_documents" if task_id == first else approve(task_id, actions)

    run = drive(code, choose)
    assert run.completed == [first, "submit_documents", "document_recheck", *decisions(manual)]
    assert "request_documents" not in seen["document_recheck"]
    statuses, messages = issuing_tail(manual)
    assert run.statuses == ["document_check", "documents_requested", "document_check",
                            *(["under_consideration"] if decisions(manual) else []), *statuses]
    assert run.messages == messages and run.end_status == "issued"


FEE_CODES = [code for code in CODES if load_manual(BPMN_DIR / code / "manual.yaml").fee.type != "none"]


@pytest.mark.parametrize("code", FEE_CODES)
def test_an_invoice_unpaid_by_its_deadline_expires(code: str) -> None:
    run = drive(code, approve, pay=False)
    assert run.statuses[-1] == "awaiting_payment" and run.messages == []
    assert (run.end, run.end_status) == ("payment_expired", "payment_expired")


GENERATED = [code for code in CODES if load_manual(BPMN_DIR / code / "manual.yaml").shape != "custom"]


@pytest.mark.parametrize("code", CODES)
def test_only_the_declared_parallel_tasks_are_ever_ready_together(code: str) -> None:
    expected = [{task, partner} for task, partner in PARALLEL_TASKS.get(code, {}).items()]
    assert drive(code, approve).parallel == expected
    assert (code in PARALLEL_TASKS) == (code not in GENERATED)


def test_hotel_registrar_decides_after_the_inspection_and_the_local_government_opinion() -> None:
    manual, spec = licence("hotel_business_licence")
    assert manual.shape == "custom" and manual.agency == "DOPA"
    workflow = BpmnWorkflow(spec, script_engine=FakeServices())
    workflow.do_engine_steps()

    def ready() -> dict[str, Any]:
        return {t.task_spec.name: t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}

    def complete(task_id: str, action: str) -> None:
        task = ready()[task_id]
        task.data.update(decision=action, comment="")
        task.run()
        workflow.do_engine_steps()

    complete("document_check", "approve")
    both = ready()
    assert set(both) == {"site_inspection", "lao_opinion"}
    # The opinion is asked of the local government: the engine routes the task by this property.
    assert properties(both["lao_opinion"]) == {
        "status": "under_consideration", "actions": "approve,reject", "kind": "opinion", "agency": "LAO",
        "title_th": "ขอความเห็นองค์กรปกครองส่วนท้องถิ่นเรื่องผังเมืองและความปลอดภัยของอาคาร"}
    assert both["lao_opinion"].task_spec.lane == "agency" and "agency" not in properties(both["site_inspection"])
    timers = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)}
    assert {"site_inspection_sla", "lao_opinion_sla"} <= timers

    # An unfavourable opinion is a finding for the registrar, not the end of the case.
    complete("lao_opinion", "reject")
    assert set(ready()) == {"site_inspection"} and not workflow.is_completed()
    complete("site_inspection", "approve")
    assert set(ready()) == {"registrar_review"}
    assert "lao_opinion_sla" not in {t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)}
    complete("registrar_review", "approve")
    assert "await_payment" in {t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)}
