"""Every licence's process is derived from its manual (or hand-written for shape `custom`) and stays so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from typer.testing import CliRunner

from bizportal.api.cli import app
from bizportal.engine.catalogue.bpmn_generator import HEADER, generate_all, render_process
from bizportal.engine.catalogue.manual import LicenceManual, load_manual
from bizportal.engine.workflow.definitions import DefinitionRegistry
from bizportal.engine.workflow.runtime import ProcessRuntime

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
FOOD = "food_premises_notice_small"
CODES = sorted(path.parent.name for path in BPMN_DIR.glob("*/manual.yaml"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODE_TAGS = ("startEvent", "endEvent", "userTask", "serviceTask", "receiveTask", "exclusiveGateway",
                  "parallelGateway", "intermediateCatchEvent", "boundaryEvent")
DECISION_KINDS = {"review", "inspection", "committee", "opinion", "public_hearing"}
# Human tasks of hand-written processes that are no step of their manual (a manual's total adds sequential
# steps only): each runs in parallel with, and within the working days of, the step named here.
PARALLEL_TASKS = {"hotel_business_licence": {"lao_opinion": "site_inspection"}}


def food_data() -> dict[str, Any]:
    return yaml.safe_load((BPMN_DIR / FOOD / "manual.yaml").read_text(encoding="utf-8"))


def step(step_id: str, kind: str, days: int, lane: str = "agency") -> dict[str, Any]:
    return {"id": step_id, "name_th": f"ขั้นตอน {step_id}", "name_en": f"Step {step_id}", "unit": "กอง",
            "working_days": days, "lane": lane, "kind": kind}


def manual_with(code: str = "sample_licence", steps: list[dict[str, Any]] | None = None,
                fee: dict[str, Any] | None = None, shape: str = "permit") -> LicenceManual:
    data = food_data()
    data.update(code=code, shape=shape, unverified=[])
    if steps is not None:
        data["steps"] = steps
        data["total_working_days"] = sum(s["working_days"] for s in steps)
    if fee is not None:
        data["fee"] = fee
    return LicenceManual.model_validate(data)


def write_licence(root: Path, manual: LicenceManual) -> Path:
    folder = root / manual.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manual.yaml"
    path.write_text(yaml.safe_dump(manual.model_dump(mode="json", exclude_none=True), allow_unicode=True),
                    encoding="utf-8")
    return path


def xpath(doc: etree._ElementTree | etree._Element, expr: str) -> list[Any]:
    return doc.xpath(expr, namespaces=NS)


def flow_nodes(doc: etree._ElementTree) -> list[Any]:
    return xpath(doc, "|".join(f"//bpmn:process/bpmn:{tag}" for tag in FLOW_NODE_TAGS))


def bounds(doc: etree._ElementTree, element_id: str) -> tuple[float, float, float, float]:
    (box,) = xpath(doc, f"//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds")
    return float(box.get("x")), float(box.get("y")), float(box.get("width")), float(box.get("height"))


def properties(element: etree._Element) -> dict[str, str]:
    props = xpath(element, "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property")
    return {prop.get("name"): prop.get("value") for prop in props}


def on_border(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    px, py = point
    x, y, w, h = box
    return (x <= px <= x + w and py in (y, y + h)) or (y <= py <= y + h and px in (x, x + w))


# --- the repository's processes ---------------------------------------------------------------------


def test_no_process_has_drifted_from_its_manual() -> None:
    stale = generate_all(BPMN_DIR, check=True)
    assert stale == [], f"run `bizportal bpmn generate`; out of date: {[str(p) for p in stale]}"


def test_every_licence_has_a_process_and_every_process_loads_in_the_engine() -> None:
    registry = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS,
                                  operators=("create_invoice", "expire_invoice", "issue_licence", "record_overdue",
                                             "cancel_licence"))
    # Renewal, amendment and cancellation (bpmn/lifecycle/) are tested in
    # tests/engine/licences/test_lifecycle_processes.py.
    loaded = [d for d in registry.load_directory(BPMN_DIR) if not d.source_name.startswith("bpmn/lifecycle/")]
    assert sorted(definition.process_id for definition in loaded) == CODES
    for definition in loaded:
        assert definition.source_name == f"bpmn/{definition.process_id}/process.bpmn"


@pytest.fixture(scope="module", params=CODES)
def licence(request: pytest.FixtureRequest) -> tuple[LicenceManual, etree._ElementTree]:
    folder = BPMN_DIR / request.param
    return load_manual(folder / "manual.yaml"), etree.parse(str(folder / "process.bpmn"))


def test_generated_files_say_so_and_custom_ones_do_not(licence) -> None:
    manual, doc = licence
    head = (BPMN_DIR / manual.code / "process.bpmn").read_text(encoding="utf-8")[:400]
    assert (HEADER in head) == (manual.shape != "custom")


def test_process_passes_the_bpmn_and_spiff_schemas(licence) -> None:
    manual, _doc = licence
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_DIR / manual.code / "process.bpmn"))
    assert parser.get_process_ids() == [manual.code]


def test_every_flow_node_has_a_shape_and_every_flow_an_edge(licence) -> None:
    _manual, doc = licence
    shaped = {s.get("bpmnElement") for s in xpath(doc, "//bpmndi:BPMNShape")}
    assert {node.get("id") for node in flow_nodes(doc)} <= shaped
    assert {lane.get("id") for lane in xpath(doc, "//bpmn:lane")} <= shaped
    assert xpath(doc, "//bpmn:participant/@id")[0] in shaped
    (plane,) = xpath(doc, "//bpmndi:BPMNPlane")
    assert plane.get("bpmnElement") == xpath(doc, "//bpmn:collaboration/@id")[0]
    edges = {e.get("bpmnElement"): e for e in xpath(doc, "//bpmndi:BPMNEdge")}
    for flow in xpath(doc, "//bpmn:sequenceFlow"):
        edge = edges[flow.get("id")]
        points = [(float(p.get("x")), float(p.get("y"))) for p in xpath(edge, "./di:waypoint")]
        assert len(points) >= 2, flow.get("id")
        # Edges leave and enter on their shapes' borders, in horizontal and vertical segments.
        assert on_border(points[0], bounds(doc, flow.get("sourceRef"))), flow.get("id")
        assert on_border(points[-1], bounds(doc, flow.get("targetRef"))), flow.get("id")
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            assert x1 == x2 or y1 == y2, flow.get("id")


def test_shapes_sit_in_their_lanes_without_overlapping(licence) -> None:
    _manual, doc = licence
    lane_of = {ref.text: ref.getparent().get("id") for ref in xpath(doc, "//bpmn:lane/bpmn:flowNodeRef")}
    assert sorted(lane_of) == sorted(node.get("id") for node in flow_nodes(doc))
    assert sorted(xpath(doc, "//bpmn:lane/@name")) == ["agency", "applicant", "system"]
    attached = {b.get("id"): b.get("attachedToRef") for b in xpath(doc, "//bpmn:boundaryEvent")}
    boxes = {node.get("id"): bounds(doc, node.get("id")) for node in flow_nodes(doc)}
    px, py, pw, ph = bounds(doc, xpath(doc, "//bpmn:participant/@id")[0])
    lanes = sorted(bounds(doc, lane.get("id")) for lane in xpath(doc, "//bpmn:lane"))
    for (_x1, y1, _w1, h1), (_x2, y2, _w2, _h2) in zip(lanes, lanes[1:], strict=False):
        assert y1 + h1 == y2  # stacked, no gap, no overlap
    for lx, ly, lw, lh in lanes:
        assert px <= lx and lx + lw == px + pw and py <= ly and ly + lh <= py + ph
    for node_id, (x, y, w, h) in boxes.items():
        lx, ly, lw, lh = bounds(doc, lane_of[node_id])
        assert lx <= x and ly <= y and x + w <= lx + lw and y + h <= ly + lh, node_id
    for event_id, host_id in attached.items():
        ex, ey, ew, eh = boxes[event_id]
        assert on_border((ex + ew / 2, ey + eh / 2), boxes[host_id]), f"{event_id} is not on {host_id}'s border"
    ids = sorted(boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if attached.get(a) == b or attached.get(b) == a:
                continue
            ax, ay, aw, ah = boxes[a]
            bx, by, bw, bh = boxes[b]
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (a, b)


def test_ids_are_unique_and_never_shadowed_by_extension_ids(licence) -> None:
    _manual, doc = licence
    bpmn_ids = [e.get("id") for e in xpath(doc, "//*[@id]") if etree.QName(e).namespace != NS["spiffworkflow"]]
    spiff_ids = {e.get("id") for e in xpath(doc, "//spiffworkflow:*[@id]")}
    assert len(bpmn_ids) == len(set(bpmn_ids))
    assert not spiff_ids & set(bpmn_ids)


def test_user_tasks_follow_the_engine_conventions(licence) -> None:
    manual, doc = licence
    tasks = {task.get("id"): task for task in xpath(doc, "//bpmn:userTask")}
    steps = {s.id: s for s in manual.steps}
    check = next(s for s in manual.steps if s.kind == "document_check")
    assert properties(tasks.pop(check.id))["actions"] == "approve,request_documents,reject"
    assert properties(tasks.pop("submit_documents")) == {
        "status": "documents_requested", "actions": "submit", "title_th": "ส่งเอกสารหลักฐานเพิ่มเติม"}
    # Section 8: documents are requested once; the re-check can only approve or reject.
    assert properties(tasks.pop("document_recheck"))["actions"] == "approve,reject"
    extra = PARALLEL_TASKS.get(manual.code, {})
    for task_id, task in tasks.items():
        props = properties(task)
        assert props["status"] == "under_consideration" and props["actions"] == "approve,reject", task_id
        assert props["kind"] in DECISION_KINDS and props["title_th"], task_id
        if task_id in extra:
            continue
        assert props["kind"] == steps[task_id].kind and "agency" not in props
        assert task.get("name") == steps[task_id].name_en and props["title_th"] == steps[task_id].name_th
    expected = [s.id for s in manual.steps if s.kind in DECISION_KINDS]
    assert sorted(tasks) == sorted([*expected, *extra])


def test_sla_timers_are_the_manuals_working_days(licence) -> None:
    manual, doc = licence
    check = next(s for s in manual.steps if s.kind == "document_check")
    agency_tasks = [ref.text for ref in xpath(doc, "//bpmn:lane[@name='agency']/bpmn:flowNodeRef")
                    if xpath(doc, f"//bpmn:userTask[@id='{ref.text}']")]
    assert agency_tasks
    for task_id in agency_tasks:
        (boundary,) = xpath(doc, f"//bpmn:boundaryEvent[@attachedToRef='{task_id}']")
        assert boundary.get("id") == f"{task_id}_sla" and boundary.get("cancelActivity") == "false"
        step_id = PARALLEL_TASKS.get(manual.code, {}).get(task_id, task_id)
        days = check.working_days if task_id == "document_recheck" else manual.step(step_id).working_days
        (time_date,) = xpath(boundary, "./bpmn:timerEventDefinition/bpmn:timeDate")
        assert time_date.text == f"due_in_working_days({days})", task_id
        (overdue,) = xpath(doc, f"//bpmn:serviceTask[@id='{task_id}_overdue']")
        (parameter,) = xpath(overdue, ".//spiffworkflow:serviceTaskOperator[@id='record_overdue']"
                                      "/spiffworkflow:parameters/spiffworkflow:parameter")
        assert (parameter.get("id"), parameter.get("value")) == ("step", f"'{task_id}'")
    assert not xpath(doc, "//bpmn:boundaryEvent[@attachedToRef='submit_documents']")  # the applicant has no SLA


def test_fee_and_issuing(licence) -> None:
    manual, doc = licence
    ids = {node.get("id") for node in flow_nodes(doc)}
    has_fee = manual.fee.type != "none"
    assert ("create_invoice_task" in ids) == has_fee and ("await_payment" in ids) == has_fee
    assert {"issue_licence_task", "await_licence", "issued"} <= ids
    statuses = {e.get("id"): properties(e).get("status") for e in xpath(doc, "//bpmn:endEvent")}
    assert statuses.pop("issued") == "issued"
    assert statuses.pop("rejected") == "rejected"
    if has_fee:  # an unpaid invoice expires at its own due date, cancelling the wait for payment
        assert statuses.pop("payment_expired") == "payment_expired"
        (deadline,) = xpath(doc, "//bpmn:boundaryEvent[@attachedToRef='await_payment']")
        assert deadline.get("cancelActivity") == "true"
        assert xpath(deadline, "string(.//bpmn:timeDate)") == 'invoice["due_at"]'
    for end_id, status in statuses.items():
        assert status == (None if end_id.endswith("_overdue_end") else "rejected"), end_id


# --- the generator ----------------------------------------------------------------------------------


def test_output_is_deterministic_and_follows_the_manual() -> None:
    manual = load_manual(BPMN_DIR / FOOD / "manual.yaml")
    first = render_process(manual)
    assert render_process(load_manual(BPMN_DIR / FOOD / "manual.yaml")) == first
    assert first.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!-- ' + HEADER)
    assert first == (BPMN_DIR / FOOD / "process.bpmn").read_text(encoding="utf-8")
    longer = manual.model_copy(update={"steps": [s.model_copy(update={"working_days": 9})
                                                 if s.id == "consideration" else s for s in manual.steps]})
    changed = render_process(longer)
    assert changed != first and "due_in_working_days(9)" in changed and "due_in_working_days(5)" not in changed


def parse(xml: str, code: str):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml.encode("utf-8"), filename=f"{code}.bpmn")
    return parser.get_spec(code)


def test_several_decision_steps_in_manual_order_with_zero_day_sla() -> None:
    manual = manual_with(steps=[step("intake", "document_check", 2), step("site_visit", "inspection", 0),
                                step("opinions", "opinion", 3), step("board", "committee", 10),
                                step("issue_it", "issue", 1)])
    spec = parse(render_process(manual), manual.code)
    doc = etree.fromstring(render_process(manual).encode("utf-8"))
    flows = {(f.get("sourceRef"), f.get("targetRef")) for f in xpath(doc, "//bpmn:sequenceFlow")}
    assert {("intake_gateway", "site_visit"), ("document_recheck_gateway", "site_visit"),
            ("site_visit_gateway", "opinions"), ("opinions_gateway", "board"),
            ("board_gateway", "create_invoice_task"), ("board_gateway", "rejected_after_board")} <= flows
    assert "issue_it" not in spec.task_specs  # the issue step is the system's issuing, not a human task
    for task_id, days in [("intake", 2), ("document_recheck", 2), ("site_visit", 0), ("opinions", 3), ("board", 10)]:
        assert spec.task_specs[f"{task_id}_sla"].event_definition.expression == f"due_in_working_days({days})"
        assert spec.task_specs[task_id].lane == "agency"
    assert spec.task_specs["opinions"].extensions["properties"]["kind"] == "opinion"


def test_without_a_fee_the_last_decision_leads_to_issuing() -> None:
    manual = manual_with(steps=[step("document_check", "document_check", 1), step("review", "review", 3)],
                         fee={"type": "none"})
    xml = render_process(manual)
    doc = etree.fromstring(xml.encode("utf-8"))
    assert not xpath(doc, "//bpmn:serviceTask[@id='create_invoice_task'] | //bpmn:message[@id='payment_received']")
    (approve,) = xpath(doc, "//bpmn:sequenceFlow[@id='flow_review_approve']")
    assert approve.get("targetRef") == "issue_licence_task"
    parse(xml, manual.code)


def test_a_document_check_alone_goes_straight_to_the_fee() -> None:
    manual = manual_with(steps=[step("document_check", "document_check", 1), step("issue", "issue", 1)])
    doc = etree.fromstring(render_process(manual).encode("utf-8"))
    targets = {f.get("sourceRef"): f.get("targetRef") for f in xpath(doc, "//bpmn:sequenceFlow[@name='approve']")}
    assert targets == {"document_check_gateway": "create_invoice_task",
                       "document_recheck_gateway": "create_invoice_task"}


@pytest.mark.parametrize(("steps", "message"), [
    ([step("review", "review", 1)], "exactly one document_check step"),
    ([step("a", "document_check", 1), step("b", "document_check", 1)], "exactly one document_check step"),
    ([step("document_check", "document_check", 1), step("issued", "review", 1)], "issued"),
    ([step("document_check", "document_check", 1), step("submit_documents", "review", 1)], "submit_documents"),
    ([step("document_check", "document_check", 1), step("create_invoice", "review", 1)], "create_invoice"),
])
def test_manuals_the_shape_cannot_render_are_refused(steps: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_process(manual_with(steps=steps))


def test_custom_shape_is_not_rendered() -> None:
    with pytest.raises(ValueError, match="custom"):
        render_process(manual_with(shape="custom"))


def test_generate_all_writes_checks_and_leaves_custom_files_alone(tmp_path: Path) -> None:
    generated = manual_with(code="generated_one")
    manual_path = write_licence(tmp_path, generated)
    custom = manual_with(code="custom_one", shape="custom")
    write_licence(tmp_path, custom)
    target = tmp_path / "generated_one" / "process.bpmn"

    assert generate_all(tmp_path, check=True) == [tmp_path / "custom_one" / "process.bpmn", target]
    assert not target.exists()
    (tmp_path / "custom_one" / "process.bpmn").write_text("<hand-written/>", encoding="utf-8")
    assert generate_all(tmp_path) == [target]
    assert target.read_text(encoding="utf-8") == render_process(generated)
    assert (tmp_path / "custom_one" / "process.bpmn").read_text(encoding="utf-8") == "<hand-written/>"
    assert generate_all(tmp_path, check=True) == [] and generate_all(tmp_path) == []

    # A manual edited without regenerating is drift, and check mode does not repair it.
    manual_path.write_text(manual_path.read_text(encoding="utf-8").replace("working_days: 5", "working_days: 6")
                           .replace("total_working_days: 7", "total_working_days: 8"), encoding="utf-8")
    before = target.read_bytes()
    assert generate_all(tmp_path, check=True) == [target]
    assert target.read_bytes() == before


def test_generate_all_refuses_a_manual_in_the_wrong_folder(tmp_path: Path) -> None:
    path = write_licence(tmp_path, manual_with(code="right_code"))
    path.parent.rename(tmp_path / "wrong_folder")
    with pytest.raises(ValueError, match="folder"):
        generate_all(tmp_path)


def test_cli_generates_and_checks(tmp_path: Path) -> None:
    write_licence(tmp_path, manual_with(code="cli_licence"))
    runner = CliRunner()
    stale = runner.invoke(app, ["bpmn", "generate", "--check", "--dir", str(tmp_path)])
    assert stale.exit_code == 1 and "cli_licence/process.bpmn" in stale.output
    written = runner.invoke(app, ["bpmn", "generate", "--dir", str(tmp_path)])
    assert written.exit_code == 0 and "1 process file(s) regenerated" in written.output
    current = runner.invoke(app, ["bpmn", "generate", "--check", "--dir", str(tmp_path)])
    assert current.exit_code == 0, current.output
    missing = runner.invoke(app, ["bpmn", "generate", "--dir", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2


def test_cli_defaults_to_the_configured_bpmn_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIZPORTAL_BPMN_DIR", str(BPMN_DIR))
    result = CliRunner().invoke(app, ["bpmn", "generate", "--check"])
    assert result.exit_code == 0 and str(BPMN_DIR) in result.output
