"""The renewal, amendment and cancellation processes (bpmn/lifecycle/) load through the engine's validator,
follow the licence processes' conventions, open in a modeler, and run their paths; the reminder and renewal
windows agree with each other."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from bizportal.engine.cases.kinds import LIFECYCLE_PROCESSES, RENEWAL_REVIEW_STEP, Kind, fee_setting_step, process_id
from bizportal.engine.catalogue.manual import load_manual
from bizportal.engine.errors import Conflict, DefinitionError
from bizportal.engine.licences.renewal import GRACE_DAYS, WINDOW_DAYS, check_renewable, window
from bizportal.engine.licences.renewal_reminders import REMINDER_DAYS, due_threshold, first_reminder_on
from bizportal.engine.workflow.definitions import DefinitionRegistry
from bizportal.engine.workflow.runtime import ProcessRuntime
from bizportal.storage.issued_licences import IssuedLicenceRow

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
LIFECYCLE = BPMN_DIR / "lifecycle"
OPERATORS = ("create_invoice", "expire_invoice", "issue_licence", "record_overdue", "cancel_licence")
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
# Per process: its agency step, that step's SLA in working days, and the messages an approval waits for.
SHAPES = {
    "licence_renewal": ("renewal_review", 5, ["payment_received", "licence_issued"], "issued"),
    "licence_amendment": ("amendment_review", 5, ["licence_issued"], "issued"),
    "licence_cancellation": ("cancellation_acknowledgement", 3, [], "cancelled"),
}


def xpath(node: Any, expr: str) -> list[Any]:
    return node.xpath(expr, namespaces=NS)


def properties(element: Any) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in xpath(element, "./bpmn:extensionElements//spiffworkflow:property")}


def bounds(doc: Any, element_id: str) -> tuple[float, float, float, float]:
    (shape,) = xpath(doc, f"//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds")
    return tuple(float(shape.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def test_every_lifecycle_kind_has_its_file_and_the_engine_loads_them() -> None:
    assert sorted(p.stem for p in LIFECYCLE.glob("*.bpmn")) == sorted(LIFECYCLE_PROCESSES.values())
    registry = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS, operators=OPERATORS)
    loaded = registry.load_directory(LIFECYCLE)
    assert {d.process_id: d.source_name for d in loaded} == {
        code: f"lifecycle/{code}.bpmn" for code in LIFECYCLE_PROCESSES.values()}
    assert all(not d.agencies_named() for d in loaded)  # every agency step is the licence's own agency's
    # The whitelist applies to them as to every process: an operator nobody registered stops start-up.
    strict = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS, operators=OPERATORS[:-1])
    with pytest.raises(DefinitionError, match="cancel_licence"):
        strict.load_directory(LIFECYCLE)


def test_a_kind_picks_its_process_and_where_an_assessed_fee_is_set() -> None:
    assert process_id("new", "food_premises_notice_small") == "food_premises_notice_small"
    assert process_id("renewal", "food_premises_notice_small") == "licence_renewal"
    assessed = load_manual(BPMN_DIR / "spa_licence" / "manual.yaml")
    computed = load_manual(BPMN_DIR / "food_premises_notice_small" / "manual.yaml")
    assert assessed.fee_assessed_by_agency
    assert fee_setting_step(assessed, Kind.RENEWAL) == RENEWAL_REVIEW_STEP
    assert fee_setting_step(assessed, Kind.NEW) == assessed.final_decision_step
    assert fee_setting_step(assessed, Kind.AMENDMENT) is None
    assert fee_setting_step(computed, Kind.RENEWAL) is None


@pytest.fixture(params=sorted(SHAPES))
def process(request: pytest.FixtureRequest) -> tuple[str, Any]:
    return request.param, etree.parse(str(LIFECYCLE / f"{request.param}.bpmn"))


def test_passes_the_bpmn_and_spiff_schemas_and_is_laid_out(process: tuple[str, Any]) -> None:
    code, doc = process
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(LIFECYCLE / f"{code}.bpmn"))
    assert parser.get_process_ids() == [code]
    nodes = xpath(doc, "//bpmn:process/*[not(self::bpmn:laneSet) and not(self::bpmn:sequenceFlow)]")
    shaped = {s.get("bpmnElement") for s in xpath(doc, "//bpmndi:BPMNShape")}
    assert {n.get("id") for n in nodes} <= shaped
    edges = {e.get("bpmnElement") for e in xpath(doc, "//bpmndi:BPMNEdge")}
    assert {f.get("id") for f in xpath(doc, "//bpmn:sequenceFlow")} == edges
    lane_of = {ref.text: ref.getparent().get("name") for ref in xpath(doc, "//bpmn:lane/bpmn:flowNodeRef")}
    assert sorted(lane_of) == sorted(n.get("id") for n in nodes)
    for node_id, lane in lane_of.items():  # each shape inside its lane's band
        _, y, _, h = bounds(doc, node_id)
        (lane_id,) = xpath(doc, f"//bpmn:lane[@name='{lane}']/@id")
        _, ly, _, lh = bounds(doc, lane_id)
        assert ly <= y and y + h <= ly + lh, node_id


def test_follows_the_licence_processes_conventions(process: tuple[str, Any]) -> None:
    code, doc = process
    step, days, _messages, end_status = SHAPES[code]
    (task,) = xpath(doc, "//bpmn:userTask")
    assert task.get("id") == step
    assert xpath(doc, f"//bpmn:lane[@name='agency']/bpmn:flowNodeRef[text()='{step}']")
    props = properties(task)
    assert (props["status"], props["actions"], props["kind"]) == ("under_consideration", "approve,reject", "review")
    assert props["title_th"]
    (timer,) = xpath(doc, f"//bpmn:boundaryEvent[@attachedToRef='{step}']")
    assert timer.get("cancelActivity") == "false"
    assert xpath(timer, "string(.//bpmn:timeDate)") == f"due_in_working_days({days})"
    ends = {e.get("id"): properties(e).get("status") for e in xpath(doc, "//bpmn:endEvent")}
    if code == "licence_renewal":  # an unpaid renewal fee expires as in the licence processes
        assert ends.pop("payment_expired") == "payment_expired"
    assert ends == {"rejected": "rejected", f"{step}_overdue_end": None,
                    "issued" if end_status == "issued" else "cancelled": end_status}
    conditions = sorted(xpath(doc, "//bpmn:conditionExpression/text()"))
    assert conditions == ['decision == "approve"', 'decision == "reject"']
    if code == "licence_renewal":  # the fee step exactly as the generated licence processes name it
        (invoice,) = xpath(doc, "//bpmn:serviceTask[@id='create_invoice_task']")
        assert xpath(invoice, ".//spiffworkflow:serviceTaskOperator/@id") == ["create_invoice"]
        (paid,) = xpath(doc, "//*[@id='await_payment']")
        assert properties(paid)["status"] == "awaiting_payment"
        assert paid.tag.endswith("receiveTask") and paid.get("messageRef") == "payment_received"
        (deadline,) = xpath(doc, "//bpmn:boundaryEvent[@attachedToRef='await_payment']")
        assert deadline.get("cancelActivity") == "true"
        assert xpath(deadline, "string(.//bpmn:timeDate)") == 'invoice["due_at"]'


class FakeServices(PythonScriptEngine):
    def __init__(self) -> None:
        def due_in_working_days(n: int) -> str:
            return (datetime.now(UTC) + timedelta(days=n)).isoformat()

        super().__init__(environment=TaskDataEnvironment({"due_in_working_days": due_in_working_days}))
        self.calls: list[str] = []

    def call_service(self, task: Any, operation_name: str, operation_params: Any) -> str:
        self.calls.append(operation_name)
        if operation_name == "create_invoice":  # the payment deadline's timer reads the invoice's due date
            return json.dumps({"invoice_id": "inv-1", "amount_satang": 50000, "due_at": "2099-12-31T16:59:59+00:00"})
        return json.dumps({"ok": True})


def _run(code: str, action: str, overdue_first: bool = False) -> tuple[list[str], list[str], str]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(LIFECYCLE / f"{code}.bpmn"))
    services = FakeServices()
    workflow = BpmnWorkflow(parser.get_spec(code), script_engine=services)
    workflow.do_engine_steps()
    if overdue_first:  # the SLA runs out: recorded, nothing decided
        (sla,) = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.name.endswith("_sla")]
        sla._set_internal_data(event_fired=True)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        assert services.calls == ["record_overdue"]
        assert len(workflow.get_tasks(state=TaskState.READY, manual=True)) == 1
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.data.update(decision=action, comment="")
    task.run()
    workflow.do_engine_steps()
    messages = []
    for message in SHAPES[code][2] if action == "approve" else []:
        messages.append(message)
        workflow.send_event(BpmnEvent(MessageEventDefinition(message), payload={}))
        workflow.do_engine_steps()
    assert workflow.is_completed()
    (end,) = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
              if type(t.task_spec).__name__ == "EndEvent" and t.task_spec.name != f"{SHAPES[code][0]}_overdue_end"]
    status = dict(end.task_spec.extensions.get("properties", {}))["status"]
    return [c for c in services.calls if c != "record_overdue"], messages, status


@pytest.mark.parametrize("code", sorted(SHAPES))
def test_approved_and_rejected_paths(code: str) -> None:
    calls, messages, status = _run(code, "approve", overdue_first=True)
    assert status == SHAPES[code][3] and messages == SHAPES[code][2]
    assert calls == {"licence_renewal": ["create_invoice", "issue_licence"], "licence_amendment": ["issue_licence"],
                     "licence_cancellation": ["cancel_licence"]}[code]
    assert _run(code, "reject") == ([], [], "rejected")


# --- windows and thresholds -------------------------------------------------------------------------------


def _licence(valid_until: date | None, status: str = "valid") -> IssuedLicenceRow:
    return IssuedLicenceRow(number="LAO-2569-000001", licence_case_id="c", application_id="a", licence_code="x",
                            agency="LAO", holder_name="h", holder_id_number="1101700203395",
                            business_name="b", issued_on=date(2026, 12, 1), valid_until=valid_until, status=status,
                            pdf_key="k", pdf_sha256="0" * 64, pdf_size=1)


def test_reminders_start_when_renewal_opens_and_end_before_expiry() -> None:
    assert REMINDER_DAYS == tuple(sorted(REMINDER_DAYS, reverse=True)) and REMINDER_DAYS[-1] > 0
    assert REMINDER_DAYS[0] == WINDOW_DAYS  # the first reminder says: you can renew now
    expiry = date(2027, 11, 30)
    assert window(expiry) == (date(2027, 9, 1), expiry + timedelta(days=GRACE_DAYS))
    assert first_reminder_on(expiry, date(2026, 12, 1)) == date(2027, 9, 1)
    assert first_reminder_on(expiry, date(2027, 10, 1)) == date(2027, 10, 31)  # issued late: 90 days passed
    assert first_reminder_on(None, date(2026, 12, 1)) is None
    assert due_threshold(expiry, date(2027, 8, 31), None) is None
    assert due_threshold(expiry, date(2027, 9, 1), None) == 90
    assert due_threshold(expiry, date(2027, 11, 20), None) == 30  # a late scan: the nearest threshold, no burst
    assert due_threshold(expiry, date(2027, 11, 25), 30) == 7
    assert due_threshold(expiry, date(2027, 11, 25), 7) is None  # once
    assert due_threshold(expiry, date(2027, 12, 1), None) is None  # expired: no reminder


@pytest.mark.parametrize(("valid_until", "status", "today", "message"), [
    (None, "valid", date(2027, 1, 1), "does not expire"),
    (date(2027, 11, 30), "revoked", date(2027, 10, 1), "revoked"),
    (date(2027, 11, 30), "suspended", date(2027, 10, 1), "suspended"),
    (date(2027, 11, 30), "valid", date(2027, 8, 31), "opens on 2027-09-01"),
    (date(2027, 11, 30), "valid", date(2027, 12, 31), "grace period"),
])
def test_renewal_refusals_say_why(valid_until: date | None, status: str, today: date, message: str) -> None:
    with pytest.raises(Conflict, match=message) as refused:
        check_renewable(_licence(valid_until, status), today)
    assert refused.value.hint


@pytest.mark.parametrize("today", [date(2027, 9, 1), date(2027, 11, 30), date(2027, 12, 30)])
def test_renewal_is_allowed_inside_the_window(today: date) -> None:
    check_renewable(_licence(date(2027, 11, 30)), today)


def test_a_deploy_without_the_lifecycle_processes_does_not_start(tmp_path: Path) -> None:
    import shutil

    from bizportal.adapters.notifications.log import LogNotificationChannel
    from bizportal.api.links import PublicLinks
    from bizportal.engine.assembly import build_engine
    from bizportal.engine.clock import SystemClock
    from bizportal.storage.database import make_engine
    from bizportal.storage.local_object_store import LocalObjectStore

    copy = tmp_path / "bpmn"
    shutil.copytree(BPMN_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "lifecycle" / "licence_cancellation.bpmn").unlink()
    with pytest.raises(DefinitionError, match="licence_cancellation"):
        build_engine(make_engine("sqlite://"), copy, LocalObjectStore(tmp_path / "objects"), SystemClock(),
                     PublicLinks("https://bizportal.test"), LogNotificationChannel())
