"""The food premises notification (not over 200 m2) as data: its BPMN process and its citizen's manual.

The process is exercised with the plain SpiffWorkflow 3.2 API so these tests do not depend on the
engine's own loader.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from bizportal.engine.catalogue.manual import FeeRule, LicenceManual, ManualError, load_manual

CODE = "food_premises_notice_small"
LICENCE_DIR = Path(__file__).resolve().parents[3] / "bpmn" / CODE
BPMN_FILE = LICENCE_DIR / "process.bpmn"
MANUAL_FILE = LICENCE_DIR / "manual.yaml"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODE_TAGS = (
    "startEvent",
    "endEvent",
    "userTask",
    "serviceTask",
    "receiveTask",
    "exclusiveGateway",
    "intermediateCatchEvent",
    "boundaryEvent",
)
AGENCY_SLA_DAYS = {"document_check": 1, "document_recheck": 1, "consideration": 5}


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doc() -> etree._ElementTree:
    return etree.parse(str(BPMN_FILE))


@pytest.fixture(scope="module")
def spec():
    parser = SpiffBpmnParser(validator=VALIDATOR)  # also checks the BPMN and spiffworkflow XSDs
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec(CODE)


@pytest.fixture(scope="module")
def manual() -> LicenceManual:
    return load_manual(MANUAL_FILE)


def xpath(doc: etree._ElementTree, expr: str) -> list[Any]:
    return doc.xpath(expr, namespaces=NS)


def flow_nodes(doc: etree._ElementTree) -> list[etree._Element]:
    return xpath(doc, "|".join(f"//bpmn:process/bpmn:{tag}" for tag in FLOW_NODE_TAGS))


def properties(element: etree._Element) -> dict[str, str]:
    props = element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    return {prop.get("name"): prop.get("value") for prop in props}


def bounds(doc: etree._ElementTree, element_id: str) -> tuple[float, float, float, float]:
    (box,) = xpath(doc, f"//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds")
    return float(box.get("x")), float(box.get("y")), float(box.get("width")), float(box.get("height"))


class FakeServices(PythonScriptEngine):
    """Script engine with the engine's `due_in_working_days` and recorded service calls."""

    def __init__(self, due_offset_days: int = 0, invoice_due_at: str = "2099-12-31T16:59:59+00:00") -> None:
        self.invoice_due_at = invoice_due_at
        def due_in_working_days(n: int) -> str:
            # Calendar days stand in for working days; a negative offset makes every SLA overdue.
            return (datetime.now(UTC) + timedelta(days=n + due_offset_days)).isoformat()

        super().__init__(environment=TaskDataEnvironment({"due_in_working_days": due_in_working_days}))
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call_service(self, task, operation_name, operation_params):
        self.calls.append((operation_name, operation_params))
        results = {
            "create_invoice": {"invoice_id": "inv-1", "amount_satang": 50000, "currency": "THB",
                               "due_at": self.invoice_due_at},
            "issue_licence": {"request_id": "iss-1"},
            "record_overdue": {"recorded": True},
            "expire_invoice": {"expired": True},
        }
        return json.dumps(results[operation_name])


def start(spec, engine: FakeServices | None = None) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, script_engine=engine or FakeServices())
    workflow.do_engine_steps()
    return workflow


def ready_user_task(workflow: BpmnWorkflow):
    tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert len(tasks) == 1, [t.task_spec.name for t in tasks]
    return tasks[0]


def complete(workflow: BpmnWorkflow, expected: str, decision: str, comment: str = "") -> None:
    task = ready_user_task(workflow)
    assert task.task_spec.name == expected
    assert decision in task.task_spec.extensions["properties"]["actions"].split(",")
    task.data["decision"] = decision
    task.data["comment"] = comment
    task.run()
    workflow.do_engine_steps()


def waiting_on(workflow: BpmnWorkflow) -> set[str]:
    return {t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)}


def send_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    # The event definition must be the *spiff* MessageEventDefinition: definitions compare by class.
    workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload))
    workflow.do_engine_steps()


def end_event(workflow: BpmnWorkflow) -> str:
    assert workflow.is_completed()
    ends = [
        t.task_spec.name
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.__class__.__name__ == "EndEvent"
    ]
    assert len(ends) == 1, ends
    return ends[0]


# --- the BPMN file --------------------------------------------------------------------------------


def test_process_parses_with_the_spiff_parser(spec) -> None:
    assert spec.name == CODE
    assert "document_check" in spec.task_specs


def test_process_is_executable_in_a_collaboration(doc) -> None:
    (process,) = xpath(doc, "//bpmn:process")
    assert process.get("id") == CODE
    assert process.get("isExecutable") == "true"
    (participant,) = xpath(doc, "//bpmn:collaboration/bpmn:participant")
    assert participant.get("processRef") == CODE


def test_no_element_id_is_shadowed_by_an_extension_id(doc) -> None:
    # SpiffWorkflow indexes every element carrying an id (spiffworkflow:* included) in one dict, so a
    # service task named like its operator (id="create_invoice") silently resolves to the operator element.
    bpmn_ids = [e.get("id") for e in xpath(doc, "//*[@id]") if etree.QName(e).namespace != NS["spiffworkflow"]]
    spiff_ids = {e.get("id") for e in xpath(doc, "//spiffworkflow:*[@id]")}
    assert len(bpmn_ids) == len(set(bpmn_ids))
    assert not spiff_ids & set(bpmn_ids)


def test_no_scripts_and_no_multi_instance(doc) -> None:
    assert not xpath(doc, "//bpmn:scriptTask | //bpmn:script | //bpmn:multiInstanceLoopCharacteristics")
    assert not xpath(doc, "//spiffworkflow:preScript | //spiffworkflow:postScript")
    assert not xpath(doc, "//bpmn:standardLoopCharacteristics")


def test_conditions_are_simple_decision_comparisons(doc) -> None:
    conditions = [c.text for c in xpath(doc, "//bpmn:sequenceFlow/bpmn:conditionExpression")]
    assert conditions
    for condition in conditions:
        assert condition.startswith('decision == "') and condition.endswith('"'), condition


def test_every_flow_node_has_a_shape_and_every_flow_an_edge(doc) -> None:
    shaped = {s.get("bpmnElement") for s in xpath(doc, "//bpmndi:BPMNShape")}
    for node in flow_nodes(doc):
        assert node.get("id") in shaped, node.get("id")
    for lane in xpath(doc, "//bpmn:lane"):
        assert lane.get("id") in shaped
    assert xpath(doc, "//bpmn:participant/@id")[0] in shaped
    edges = {e.get("bpmnElement"): e for e in xpath(doc, "//bpmndi:BPMNEdge")}
    flows = xpath(doc, "//bpmn:sequenceFlow")
    assert flows
    for flow in flows:
        edge = edges.get(flow.get("id"))
        assert edge is not None, flow.get("id")
        assert len(edge.xpath("./di:waypoint", namespaces=NS)) >= 2
    (plane,) = xpath(doc, "//bpmndi:BPMNPlane")
    assert plane.get("bpmnElement") == xpath(doc, "//bpmn:collaboration/@id")[0]


# The layout of every process (lanes, overlaps, boundary events on borders) is checked for all
# licences in test_bpmn_generator.py.


def test_lanes_are_named_and_cover_every_node(doc, spec) -> None:
    assert sorted(xpath(doc, "//bpmn:lane/@name")) == ["agency", "applicant", "system"]
    refs = xpath(doc, "//bpmn:lane/bpmn:flowNodeRef/text()")
    assert len(refs) == len(set(refs))
    assert set(refs) == {node.get("id") for node in flow_nodes(doc)}
    expected = {
        "start": "system",
        "document_check": "agency",
        "submit_documents": "applicant",
        "document_recheck": "agency",
        "consideration": "agency",
        "create_invoice_task": "system",
        "await_payment": "system",
        "issue_licence_task": "system",
        "await_licence": "system",
        "issued": "system",
    }
    for name, lane in expected.items():
        assert spec.task_specs[name].lane == lane, name


def test_user_tasks_carry_status_actions_and_thai_title(doc, spec) -> None:
    expected = {
        "document_check": ("document_check", "approve,request_documents,reject"),
        "submit_documents": ("documents_requested", "submit"),
        "document_recheck": ("document_check", "approve,reject"),
        "consideration": ("under_consideration", "approve,reject"),
    }
    user_tasks = xpath(doc, "//bpmn:userTask")
    assert {t.get("id") for t in user_tasks} == set(expected)
    for task in user_tasks:
        props = properties(task)
        assert (props["status"], props["actions"]) == expected[task.get("id")]
        assert props["title_th"] and all(ord(ch) < 0x80 or "\u0e00" <= ch <= "\u0e7f" for ch in props["title_th"])
        parsed = spec.task_specs[task.get("id")].extensions["properties"]
        assert parsed == props


def test_documents_are_requested_only_once(spec) -> None:
    # Licensing Facilitation Act s.8: the officer may ask for more documents only once.
    actions = spec.task_specs["document_recheck"].extensions["properties"]["actions"].split(",")
    assert "request_documents" not in actions


def test_events_carry_statuses(doc) -> None:
    statuses = {e.get("id"): properties(e).get("status") for e in xpath(doc, "//bpmn:endEvent")}
    assert statuses["issued"] == "issued"
    assert statuses["rejected"] == "rejected"
    for end_id, status in statuses.items():
        if end_id.endswith("_overdue_end"):
            assert status is None, end_id
        elif end_id == "payment_expired":
            assert status == "payment_expired"
        elif end_id != "issued":
            assert status == "rejected", end_id
    assert properties(xpath(doc, "//bpmn:receiveTask[@id='await_payment']")[0]) == {
        "status": "awaiting_payment"
    }
    assert properties(xpath(doc, "//bpmn:intermediateCatchEvent[@id='await_licence']")[0]) == {"status": "issuing"}


def test_message_events_and_service_operators(spec) -> None:
    for event_id, message, variable in [
        ("await_payment", "payment_received", "payment"),
        ("await_licence", "licence_issued", "licence"),
    ]:
        definition = spec.task_specs[event_id].event_definition
        assert isinstance(definition, MessageEventDefinition)
        assert definition.name == message
        assert definition.message_var == variable
    for task_id, operation, result in [
        ("create_invoice_task", "create_invoice", "invoice"),
        ("issue_licence_task", "issue_licence", "issue_request"),
    ]:
        task_spec = spec.task_specs[task_id]
        assert (task_spec.operation_name, task_spec.operation_params, task_spec.result_variable) == (
            operation,
            {},
            result,
        )


def test_agency_steps_have_non_interrupting_sla_timers(doc, spec, manual) -> None:
    for step, days in AGENCY_SLA_DAYS.items():
        (boundary,) = xpath(doc, f"//bpmn:boundaryEvent[@attachedToRef='{step}']")
        assert boundary.get("cancelActivity") == "false"
        (time_date,) = boundary.xpath("./bpmn:timerEventDefinition/bpmn:timeDate", namespaces=NS)
        assert time_date.text == f"due_in_working_days({days})"
        event_spec = spec.task_specs[boundary.get("id")]
        assert isinstance(event_spec, BoundaryEvent) and not event_spec.cancel_activity
        overdue = spec.task_specs[f"{step}_overdue"]
        assert overdue.operation_name == "record_overdue"
        assert overdue.operation_params == {"step": {"value": f"'{step}'", "type": "str"}}
    # The timers are the manual's working days (the re-check reuses the document-check allowance).
    assert AGENCY_SLA_DAYS["document_check"] == manual.step("document_check").working_days
    assert AGENCY_SLA_DAYS["document_recheck"] == manual.step("document_check").working_days
    assert AGENCY_SLA_DAYS["consideration"] == manual.step("consideration").working_days


# --- running the process --------------------------------------------------------------------------


def test_happy_path_reaches_issued(spec) -> None:
    engine = FakeServices()
    workflow = start(spec, engine)
    assert waiting_on(workflow) >= {"document_check_sla"}

    complete(workflow, "document_check", "approve", "documents complete")
    complete(workflow, "consideration", "approve", "premises inspected")
    assert waiting_on(workflow) >= {"await_payment"}
    assert [e.name for e in workflow.waiting_events()] == ["payment_received", "Payment deadline"]

    send_message(workflow, "payment_received", {"provider": "promptpay", "reference": "pay-1"})
    assert waiting_on(workflow) >= {"await_licence"}
    send_message(workflow, "licence_issued", {"licence_number": "FP-2568-0001"})

    assert end_event(workflow) == "issued"
    assert [name for name, _ in engine.calls] == ["create_invoice", "issue_licence"]
    assert workflow.data["invoice"] == {"invoice_id": "inv-1", "amount_satang": 50000, "currency": "THB",
                               "due_at": "2099-12-31T16:59:59+00:00"}
    assert workflow.data["issue_request"] == {"request_id": "iss-1"}
    assert workflow.data["payment"] == {"provider": "promptpay", "reference": "pay-1"}
    assert workflow.data["licence"] == {"licence_number": "FP-2568-0001"}
    assert workflow.data["decision"] == "approve"
    assert workflow.data["comment"] == "premises inspected"


def test_an_unpaid_invoice_expires_at_its_due_date(spec) -> None:
    engine = FakeServices(invoice_due_at="2020-01-31T16:59:59+00:00")
    workflow = start(spec, engine)
    complete(workflow, "document_check", "approve")
    complete(workflow, "consideration", "approve")
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert end_event(workflow) == "payment_expired"
    assert [name for name, _ in engine.calls] == ["create_invoice", "expire_invoice"]
    assert not workflow.waiting_events()  # a payment arriving now finds nothing waiting: it is refunded


def test_reject_at_document_check(spec) -> None:
    workflow = start(spec)
    complete(workflow, "document_check", "reject", "not a food premises")
    assert end_event(workflow) == "rejected"


def test_reject_at_consideration(spec) -> None:
    workflow = start(spec)
    complete(workflow, "document_check", "approve")
    complete(workflow, "consideration", "reject", "fails hygiene rules")
    assert end_event(workflow) == "rejected_after_consideration"


def test_request_documents_then_approve(spec) -> None:
    workflow = start(spec)
    complete(workflow, "document_check", "request_documents", "floor plan missing")
    task = ready_user_task(workflow)
    assert task.task_spec.lane == "applicant"
    complete(workflow, "submit_documents", "submit")
    complete(workflow, "document_recheck", "approve")
    complete(workflow, "consideration", "approve")
    send_message(workflow, "payment_received", {})
    send_message(workflow, "licence_issued", {})
    assert end_event(workflow) == "issued"


def test_request_documents_then_reject(spec) -> None:
    workflow = start(spec)
    complete(workflow, "document_check", "request_documents")
    complete(workflow, "submit_documents", "submit")
    complete(workflow, "document_recheck", "reject", "still incomplete")
    assert end_event(workflow) == "rejected_after_recheck"


def test_overdue_sla_is_recorded_and_the_task_stays_open(spec) -> None:
    engine = FakeServices(due_offset_days=-10)
    workflow = start(spec, engine)
    # The timer fires in refresh_timers at the end of do_engine_steps; the next call runs its path.
    workflow.do_engine_steps()
    assert engine.calls == [("record_overdue", {"step": {"value": "document_check", "type": "str"}})]
    assert ready_user_task(workflow).task_spec.name == "document_check"
    complete(workflow, "document_check", "reject")
    assert workflow.is_completed()


def test_timer_due_date_is_visible_while_waiting(spec) -> None:
    workflow = start(spec)
    (pending,) = workflow.waiting_events()
    assert pending.event_type == "TimeDateEventDefinition"
    due = datetime.fromisoformat(pending.value)
    assert timedelta(hours=23) < due - datetime.now(UTC) <= timedelta(days=1)


def test_a_message_nobody_waits_for_is_refused(spec) -> None:
    workflow = start(spec)
    with pytest.raises(WorkflowException, match="not waiting for payment_received"):
        workflow.send_event(BpmnEvent(MessageEventDefinition("payment_received"), payload={}))


def test_message_must_use_the_spiff_event_definition_class(spec) -> None:
    workflow = start(spec)
    complete(workflow, "document_check", "approve")
    complete(workflow, "consideration", "approve")
    with pytest.raises(WorkflowException):
        workflow.send_event(BpmnEvent(BaseMessageEventDefinition("payment_received"), payload={}))
    send_message(workflow, "payment_received", {})
    assert "await_licence" in waiting_on(workflow)


# --- the manual -----------------------------------------------------------------------------------


def test_manual_loads(manual) -> None:
    assert manual.code == CODE
    assert manual.agency == "LAO"
    assert manual.name_th == "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่ จำหน่ายหรือสะสมอาหาร (ไม่เกิน 200 ตร.ม.)"
    assert [step.id for step in manual.steps] == ["document_check", "consideration", "issue_licence"]
    assert manual.total_working_days == 7
    assert (manual.fee.type, manual.fee.min_satang, manual.fee.max_satang) == ("range", 10000, 100000)
    assert manual.ial == 2 and manual.validity_years == 1
    assert not manual.must_file_at_counter
    assert "fee.bands" in manual.unverified


def test_identity_and_house_registration_are_looked_up_not_uploaded(manual) -> None:
    by_id = {document.id: document for document in manual.documents}
    assert by_id["applicant_id_card"].obtained_by_exchange
    assert by_id["premises_house_registration"].obtained_by_exchange
    assert by_id["juristic_person_certificate"].obtained_by_exchange
    assert not by_id["premises_map_and_floor_plan"].obtained_by_exchange
    assert not by_id["power_of_attorney"].required


@pytest.mark.parametrize(
    ("area", "satang"), [(0, 10000), (25, 10000), (25.5, 20000), (80, 50000), (100, 50000), (200, 100000)]
)
def test_fee_by_area(manual, area: float, satang: int) -> None:
    assert manual.fee.amount_for({"area_m2": area}) == satang


def test_fee_needs_its_parameter_and_stays_in_the_bands(manual) -> None:
    with pytest.raises(ValueError, match="area_m2"):
        manual.fee.amount_for({})
    with pytest.raises(ValueError, match="above the last band"):
        manual.fee.amount_for({"area_m2": 201})


def test_fee_kinds() -> None:
    assert FeeRule(type="fixed", min_satang=50000).amount_for({}) == 50000
    assert FeeRule(type="none").amount_for({}) == 0
    with pytest.raises(ValueError, match="agency assesses"):
        FeeRule(type="range", min_satang=100, max_satang=200).amount_for({})
    open_ended = FeeRule(
        type="from",
        min_satang=100,
        parameter="area_m2",
        bands=[{"up_to": 10, "amount_satang": 100}, {"amount_satang": 500}],
    )
    assert open_ended.amount_for({"area_m2": 1000}) == 500


def test_a_fee_parameter_is_a_validated_field(tmp_path: Path) -> None:
    # Security review H1: a fee read from anything else (the applicant's free input) is set unseen. A parameter
    # other than business.area_m2 must be a required number field of the form marked `feeds_fee`
    # (tests/engine/catalogue/test_forms.py).
    path = write_manual(tmp_path, lambda d: d["fee"].update(parameter="rooms"))
    with pytest.raises(ManualError, match="must be `area_m2`"):
        load_manual(path)


@pytest.mark.parametrize(
    ("fee", "message"),
    [
        ({"type": "range", "min_satang": 200, "max_satang": 100}, "below min_satang"),
        ({"type": "range", "min_satang": 100}, "needs both"),
        ({"type": "fixed"}, "needs min_satang"),
        ({"type": "range", "min_satang": 1, "max_satang": 9, "parameter": "area_m2"}, "needs bands"),
        (
            {
                "type": "range",
                "min_satang": 1,
                "max_satang": 9,
                "parameter": "area_m2",
                "bands": [{"up_to": 50, "amount_satang": 2}, {"up_to": 25, "amount_satang": 3}],
            },
            "ascending",
        ),
        (
            {
                "type": "range",
                "min_satang": 1,
                "max_satang": 9,
                "parameter": "area_m2",
                "bands": [{"up_to": 50, "amount_satang": 10}],
            },
            "above max_satang",
        ),
    ],
)
def test_bad_fee_rules_are_refused(fee: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeeRule.model_validate(fee)


def write_manual(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(MANUAL_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "manual.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_total_that_does_not_add_up_names_file_and_field(tmp_path: Path) -> None:
    path = write_manual(tmp_path, lambda d: d.update(total_working_days=8))
    with pytest.raises(ManualError) as error:
        load_manual(path)
    assert str(error.value).startswith(f"{path}: total_working_days: ")
    assert "add up to 7" in str(error.value)


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    path = write_manual(tmp_path, lambda d: d["fee"].update(min_satnag=1))
    with pytest.raises(ManualError, match=r"manual\.yaml: fee\.min_satnag: Extra inputs are not permitted"):
        load_manual(path)


def test_every_bad_field_is_reported(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["fee"]["min_satang"] = "cheap"
        data["steps"][1]["lane"] = "officer"
        data["ial"] = 4

    path = write_manual(tmp_path, change)
    with pytest.raises(ManualError) as error:
        load_manual(path)
    lines = str(error.value).splitlines()
    assert any(line.startswith(f"{path}: fee.min_satang: Input should be a valid integer") for line in lines)
    assert any(line.startswith(f"{path}: steps.1.lane: Input should be ") for line in lines)
    assert any(line.startswith(f"{path}: ial: Input should be less than or equal to 3") for line in lines)


def test_unverified_paths_must_exist(tmp_path: Path) -> None:
    path = write_manual(tmp_path, lambda d: d["unverified"].append("fee.bandz"))
    with pytest.raises(ManualError, match="unverified: .*'fee.bandz'"):
        load_manual(path)


def test_unreadable_or_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ManualError, match="cannot read"):
        load_manual(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [\n", encoding="utf-8")
    with pytest.raises(ManualError, match="not valid YAML"):
        load_manual(broken)
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ManualError, match=r"list\.yaml: \(top level\): Input should be a valid dictionary"):
        load_manual(not_a_mapping)


def test_manual_states_ial_and_aal(manual) -> None:
    assert (manual.ial, manual.aal) == (2, 2) and "aal" in manual.unverified


@pytest.mark.parametrize(("ial", "aal", "stored"), [(2, 2, 2), ("2.2", "2", "2.2"), ("3", 3, "3"), (1, "1", 1)])
def test_ial_is_a_whole_level_or_a_dga_sub_level(tmp_path: Path, ial: object, aal: object, stored: object) -> None:
    manual = load_manual(write_manual(tmp_path, lambda d: d.update(ial=ial, aal=aal)))
    assert (manual.ial, manual.aal) == (stored, int(str(aal)))


@pytest.mark.parametrize(("ial", "aal", "message"), [
    ("2.4", 2, "ial: '2.4' is not an IAL: use one of 1.1, 1.2, 1.3, 2.1, 2.2, 2.3, 3"),
    (0, 2, "ial: Input should be greater than or equal to 1"),
    (2.5, 2, "ial: Input should be a whole level 1..3 or an IAL in DGA notation"),
    (2, 4, "aal: Input should be less than or equal to 3"),
    (2, "2.1", "aal: '2.1' is not an AAL: use one of 1, 2, 3"),
])
def test_bad_levels_name_the_field(tmp_path: Path, ial: object, aal: object, message: str) -> None:
    path = write_manual(tmp_path, lambda d: d.update(ial=ial, aal=aal))
    with pytest.raises(ManualError) as error:
        load_manual(path)
    assert any(line.startswith(f"{path}: {message}") for line in str(error.value).splitlines())


def test_a_manual_without_aal_is_refused(tmp_path: Path) -> None:
    path = write_manual(tmp_path, lambda d: d.pop("aal"))
    with pytest.raises(ManualError, match="aal: Field required"):
        load_manual(path)
