"""Derives a licence's BPMN process from its citizen's manual.

Most licences share one procedure (DESIGN.md, "BPMN per licence"): document check with its one
request for more documents (Licensing Facilitation Act s.8), the decision steps of the manual in
order (review, inspection, committee, opinions, public hearing), the fee, and the issuing. The
generator renders that shape over a manual's steps with the conventions the engine reads:

- user tasks carry ``spiffworkflow:property`` ``status``, ``actions`` and ``title_th`` (and ``kind``,
  the manual's step kind); their lane (``applicant``/``agency``/``system``) says who works on them;
- decisions are ``decision == "<action>"`` conditions on the flows out of an exclusive gateway;
- every agency task has a non-interrupting boundary timer ``<task>_sla`` of
  ``due_in_working_days(N)``, N being the manual's working days, leading to the service task
  ``<task>_overdue`` (operator ``record_overdue``);
- the fee and the issuing are service tasks (``create_invoice_task``, ``issue_licence_task``)
  followed by message catch events (``payment_received``, ``licence_issued``); the payment races its
  deadline: ``await_payment`` is a receive task whose interrupting boundary timer on the invoice's
  ``due_at`` leads to ``expire_invoice_task`` (operator ``expire_invoice``) and the end status
  ``payment_expired``.

SpiffWorkflow 3.2 indexes every element with an id in one dictionary, ``spiffworkflow:*`` extension
elements included, so no element may share an id with an operator (hence ``create_invoice_task``);
the renderer refuses a manual whose step ids would collide with any generated id.

The output is deterministic (same manual, same bytes) and carries BPMN DI laid out left to right in
three stacked lanes, so the file opens in any BPMN modeler and ``generate_all(check=True)`` can tell
when a committed file has drifted from its manual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bizportal.engine.catalogue.manual import LicenceManual, Step, load_manual

HEADER = ("Generated from manual.yaml by bizportal.engine.catalogue.bpmn_generator — do not edit; "
          "run `bizportal bpmn generate`")
DECISION_KINDS = ("review", "inspection", "committee", "opinion", "public_hearing")
LANES = ("applicant", "agency", "system")

_NAMESPACES = (
    ("xmlns:bpmn", "http://www.omg.org/spec/BPMN/20100524/MODEL"),
    ("xmlns:bpmndi", "http://www.omg.org/spec/BPMN/20100524/DI"),
    ("xmlns:dc", "http://www.omg.org/spec/DD/20100524/DC"),
    ("xmlns:di", "http://www.omg.org/spec/DD/20100524/DI"),
    ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    ("xmlns:spiffworkflow", "http://spiffworkflow.org/bpmn/schema/1.0/core"),
)

# --- layout ---------------------------------------------------------------------------------------
# Lanes are stacked applicant / agency / system inside one pool; every row below is a centre line.
POOL_X, LANE_X, TOP = 150, 180, 80
LANE_HEIGHT = {"applicant": 140, "agency": 280, "system": 220}
APPLICANT_ROW = 150  # submit_documents
AGENCY_ROW = 310  # agency tasks and their gateways
REJECT_ROW = 420  # rejection ends, under their gateway
BYPASS_Y = 470  # the document-check approval runs below the re-check to the first decision
SYSTEM_ROW = 570  # start, fee and issuing
OVERDUE_ROW = 670  # overdue service tasks, under the task whose timer starts them
TASK_W, TASK_H, GATEWAY, EVENT = 100, 80, 50, 36
GATEWAY_AFTER_TASK = 155  # task.x -> its gateway.x
NEXT_AFTER_GATEWAY = 125  # gateway.x -> next agency task.x, and -> centre of a system task entered from above
RIGHT_MARGIN = 52


# --- the model ------------------------------------------------------------------------------------


@dataclass
class Node:
    """One flow node with its lane, its DI bounds and what its XML element carries."""

    id: str
    tag: str
    lane: str
    x: int
    y: int
    w: int
    h: int
    name: str | None = None
    properties: list[tuple[str, str]] = field(default_factory=list)
    operator: tuple[str, str | None, list[tuple[str, str, str]]] | None = None  # id, result variable, params
    message: tuple[str, str] | None = None  # message ref, message variable
    timer: str | None = None  # the timeDate expression of a timer event
    attached_to: str | None = None
    interrupting: bool = False  # a boundary event that cancels the activity it is attached to
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass
class Flow:
    id: str
    source: str
    target: str
    waypoints: list[tuple[int, int]]
    name: str | None = None
    condition: str | None = None


@dataclass
class ProcessModel:
    """A process being laid out: nodes and flows in the order they are written."""

    code: str
    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)

    def add(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"{self.code}: element id {node.id!r} is used twice")
        self.nodes[node.id] = node
        return node

    def connect(self, flow_id: str, source: str, target: str, waypoints: Sequence[tuple[int, int]],
                name: str | None = None, condition: str | None = None) -> Flow:
        if flow_id in self.flows:
            raise ValueError(f"{self.code}: flow id {flow_id!r} is used twice")
        flow = Flow(flow_id, source, target, list(waypoints), name, condition)
        self.flows[flow_id] = flow
        self.nodes[source].outgoing.append(flow_id)
        self.nodes[target].incoming.append(flow_id)
        return flow


# Builders place a node by its row (centre line); hand-laid custom processes use them too.
def task(node_id: str, tag: str, lane: str, x: int, row: int, name: str, **extra: Any) -> Node:
    return Node(node_id, tag, lane, x, row - TASK_H // 2, TASK_W, TASK_H, name=name, **extra)


def event(node_id: str, tag: str, lane: str, cx: int, row: int, name: str | None = None, **extra: Any) -> Node:
    return Node(node_id, tag, lane, cx - EVENT // 2, row - EVENT // 2, EVENT, EVENT, name=name, **extra)


def gateway(node_id: str, lane: str, x: int, row: int, tag: str = "exclusiveGateway") -> Node:
    return Node(node_id, tag, lane, x, row - GATEWAY // 2, GATEWAY, GATEWAY)


def user_task(node_id: str, lane: str, x: int, row: int, name: str, status: str, actions: str, title_th: str,
              kind: str | None = None, agency: str | None = None) -> Node:
    properties = [("status", status), ("actions", actions), ("title_th", title_th)]
    if kind is not None:
        properties.append(("kind", kind))
    if agency is not None:
        properties.append(("agency", agency))
    return task(node_id, "userTask", lane, x, row, name, properties=properties)


def status_end(node_id: str, lane: str, cx: int, row: int, name: str, status: str) -> Node:
    return event(node_id, "endEvent", lane, cx, row, name, properties=[("status", status)])


def sla_timer(model: ProcessModel, host: Node, days: int, overdue_row: int = OVERDUE_ROW) -> Node:
    """Attach the SLA timer of an agency task; its overdue path sits under the host, in the system lane."""
    unit = "working day" if days == 1 else "working days"
    timer = model.add(Node(f"{host.id}_sla", "boundaryEvent", host.lane, host.x + 62, host.bottom - EVENT // 2,
                           EVENT, EVENT, name=f"SLA {days} {unit}", timer=f"due_in_working_days({days})",
                           attached_to=host.id))
    overdue = model.add(task(f"{host.id}_overdue", "serviceTask", "system", host.x + 30, overdue_row,
                             f"Record overdue: {host.name}",
                             operator=("record_overdue", None, [("step", "str", f"'{host.id}'")])))
    end = model.add(event(f"{host.id}_overdue_end", "endEvent", "system", overdue.right + 60, overdue_row,
                          "Overdue recorded"))
    model.connect(f"flow_{host.id}_sla", timer.id, overdue.id,
                  [(timer.cx, timer.bottom), (overdue.cx, overdue.y)])
    model.connect(f"flow_{host.id}_overdue_recorded", overdue.id, end.id,
                  [(overdue.right, overdue.cy), (end.x, end.cy)])
    return timer


def payment_step(model: ProcessModel, invoice: Node, deadline_row: int = OVERDUE_ROW) -> Node:
    """After the invoice: the fee is paid, or its deadline passes first and the unpaid invoice expires.

    The payment is a receive task for ``payment_received`` with an interrupting boundary timer set to the
    invoice's own ``due_at`` (what ``create_invoice`` returns), so the deadline shown to the applicant and
    the one the process keeps are the same value. Returns the receive task; the caller wires what follows.
    """
    paid = model.add(task("await_payment", "receiveTask", "system", invoice.right + 50, SYSTEM_ROW, "Fee paid",
                          properties=[("status", "awaiting_payment")], message=("payment_received", "payment")))
    model.connect("flow_invoice_created", invoice.id, paid.id, [(invoice.right, invoice.cy), (paid.x, paid.cy)])
    deadline = model.add(Node("payment_deadline", "boundaryEvent", "system", paid.x + 62, paid.bottom - EVENT // 2,
                              EVENT, EVENT, name="Payment deadline", timer='invoice["due_at"]',
                              attached_to=paid.id, interrupting=True))
    expire = model.add(task("expire_invoice_task", "serviceTask", "system", paid.x + 30, deadline_row,
                            "Expire unpaid invoice", operator=("expire_invoice", "expiry", [])))
    model.connect("flow_deadline_passed", deadline.id, expire.id,
                  [(deadline.cx, deadline.bottom), (expire.cx, expire.y)])
    expired = model.add(status_end("payment_expired", "system", expire.right + 60, deadline_row,
                                   "Fee not paid in time", "payment_expired"))
    model.connect("flow_invoice_expired", expire.id, expired.id, [(expire.right, expire.cy), (expired.x, expired.cy)])
    return paid


def decide(model: ProcessModel, gateway_id: str, flow_prefix: str, action: str, target: str,
           waypoints: Sequence[tuple[int, int]], name: str | None = None) -> Flow:
    return model.connect(f"flow_{flow_prefix}_{action}", gateway_id, target, waypoints,
                         name or action.replace("_", " "), f'decision == "{action}"')


def enter(source: tuple[int, int], target: Node) -> list[tuple[int, int]]:
    """Waypoints from a point on the agency row into ``target``: straight on, or down into its top."""
    if target.lane == "agency":
        return [source, (target.x, target.cy)]
    return [source, (target.cx, source[1]), (target.cx, target.y)]


# --- the generic shape ----------------------------------------------------------------------------


def _decision_steps(manual: LicenceManual) -> list[Step]:
    return [step for step in manual.steps if step.kind in DECISION_KINDS]


def _document_check_step(manual: LicenceManual) -> Step:
    checks = [step for step in manual.steps if step.kind == "document_check"]
    if len(checks) != 1:
        raise ValueError(f"{manual.code}: a generated process needs exactly one document_check step, "
                         f"the manual has {len(checks)}; fix the manual or give it shape: custom")
    return checks[0]


def build_model(manual: LicenceManual) -> ProcessModel:
    """Lay out the generic licence process for ``manual`` (see the module docstring)."""
    if manual.shape == "custom":
        raise ValueError(f"{manual.code}: shape custom has a hand-written process.bpmn; nothing to generate")
    check = _document_check_step(manual)
    model = ProcessModel(manual.code, manual.name_en)
    start = model.add(event("start", "startEvent", "system", 232, SYSTEM_ROW, "Application submitted"))

    # Document check, with the one request for more documents (s.8).
    doc = model.add(user_task(check.id, "agency", 280, AGENCY_ROW, check.name_en, "document_check",
                              "approve,request_documents,reject", check.name_th, kind=check.kind))
    model.connect("flow_start", start.id, doc.id, [(start.cx, start.y), (start.cx, doc.cy), (doc.x, doc.cy)])
    doc_gateway = model.add(gateway(f"{doc.id}_gateway", "agency", doc.x + GATEWAY_AFTER_TASK, AGENCY_ROW))
    model.connect(f"flow_{doc.id}_done", doc.id, doc_gateway.id, [(doc.right, doc.cy), (doc_gateway.x, doc.cy)])
    rejected = model.add(status_end("rejected", "agency", doc_gateway.cx, REJECT_ROW, "Rejected", "rejected"))
    decide(model, doc_gateway.id, doc.id, "reject", rejected.id,
           [(doc_gateway.cx, doc_gateway.bottom), (rejected.cx, rejected.y)])
    submit = model.add(user_task("submit_documents", "applicant", doc_gateway.x + 95, APPLICANT_ROW,
                                 "Submit additional documents", "documents_requested", "submit",
                                 "ส่งเอกสารหลักฐานเพิ่มเติม"))
    model.connect(f"flow_{doc.id}_request", doc_gateway.id, submit.id,
                  [(doc_gateway.cx, doc_gateway.y), (doc_gateway.cx, submit.cy), (submit.x, submit.cy)],
                  name="request documents", condition='decision == "request_documents"')
    recheck = model.add(user_task("document_recheck", "agency", submit.x + 130, AGENCY_ROW, "Re-check documents",
                                  "document_check", "approve,reject", "ตรวจสอบเอกสารหลักฐานที่ส่งเพิ่มเติม"))
    model.connect("flow_documents_submitted", submit.id, recheck.id,
                  [(submit.right, submit.cy), (recheck.cx, submit.cy), (recheck.cx, recheck.y)])
    recheck_gateway = model.add(gateway("document_recheck_gateway", "agency", recheck.x + GATEWAY_AFTER_TASK,
                                        AGENCY_ROW))
    model.connect("flow_document_recheck_done", recheck.id, recheck_gateway.id,
                  [(recheck.right, recheck.cy), (recheck_gateway.x, recheck.cy)])
    rejected_recheck = model.add(status_end("rejected_after_recheck", "agency", recheck_gateway.cx, REJECT_ROW,
                                            "Rejected", "rejected"))
    decide(model, recheck_gateway.id, "document_recheck", "reject", rejected_recheck.id,
           [(recheck_gateway.cx, recheck_gateway.bottom), (rejected_recheck.cx, rejected_recheck.y)])
    timed = [(doc, check.working_days), (recheck, check.working_days)]

    # Approvals still to be wired to whatever comes next: (gateway, flow prefix, bypass the re-check?).
    pending: list[tuple[Node, str, bool]] = [(doc_gateway, doc.id, True), (recheck_gateway, "document_recheck", False)]
    last_gateway = recheck_gateway

    def wire(target: Node) -> None:
        for source_gateway, prefix, bypass in pending:
            if bypass:
                # Below the re-check and its rejection end, then up (or down) into the target.
                turn = source_gateway.right + 25
                column = target.x + 20
                points = [(source_gateway.right, source_gateway.cy), (turn, source_gateway.cy), (turn, BYPASS_Y),
                          (column, BYPASS_Y), (column, target.bottom if target.lane == "agency" else target.y)]
            else:
                points = enter((source_gateway.right, source_gateway.cy), target)
            decide(model, source_gateway.id, prefix, "approve", target.id, points)
        pending.clear()

    for step in _decision_steps(manual):
        node = model.add(user_task(step.id, "agency", last_gateway.x + NEXT_AFTER_GATEWAY, AGENCY_ROW, step.name_en,
                                   "under_consideration", "approve,reject", step.name_th, kind=step.kind))
        wire(node)
        node_gateway = model.add(gateway(f"{step.id}_gateway", "agency", node.x + GATEWAY_AFTER_TASK, AGENCY_ROW))
        model.connect(f"flow_{step.id}_done", node.id, node_gateway.id,
                      [(node.right, node.cy), (node_gateway.x, node.cy)])
        rejected_here = model.add(status_end(f"rejected_after_{step.id}", "agency", node_gateway.cx, REJECT_ROW,
                                             "Rejected", "rejected"))
        decide(model, node_gateway.id, step.id, "reject", rejected_here.id,
               [(node_gateway.cx, node_gateway.bottom), (rejected_here.cx, rejected_here.y)])
        pending.append((node_gateway, step.id, False))
        last_gateway = node_gateway
        timed.append((node, step.working_days))

    # Fee, then issuing, in the system lane: the first one sits right of the last gateway, entered from above.
    x = last_gateway.x + NEXT_AFTER_GATEWAY - TASK_W // 2
    previous: Node | None = None
    previous_flow = ""
    if manual.fee.type != "none":
        invoice = model.add(task("create_invoice_task", "serviceTask", "system", x, SYSTEM_ROW, "Create fee invoice",
                                 operator=("create_invoice", "invoice", [])))
        wire(invoice)
        paid = payment_step(model, invoice)
        previous, previous_flow, x = paid, "flow_paid", paid.right + 52
    issue = model.add(task("issue_licence_task", "serviceTask", "system", x, SYSTEM_ROW, "Issue licence",
                           operator=("issue_licence", "issue_request", [])))
    if previous is None:
        wire(issue)
    else:
        model.connect(previous_flow, previous.id, issue.id, [(previous.right, previous.cy), (issue.x, issue.cy)])
    awaited = model.add(event("await_licence", "intermediateCatchEvent", "system", issue.right + 70, SYSTEM_ROW,
                              "Licence issued", properties=[("status", "issuing")],
                              message=("licence_issued", "licence")))
    model.connect("flow_issue_requested", issue.id, awaited.id, [(issue.right, issue.cy), (awaited.x, awaited.cy)])
    issued = model.add(status_end("issued", "system", awaited.right + 82, SYSTEM_ROW, "Licence issued", "issued"))
    model.connect("flow_licence_issued", awaited.id, issued.id, [(awaited.right, awaited.cy), (issued.x, issued.cy)])

    for host, days in timed:
        sla_timer(model, host, days)
    return model


# --- XML ------------------------------------------------------------------------------------------


def _attr(value: str) -> str:
    return '"' + escape(value, {'"': "&quot;", "\n": "&#10;"}) + '"'


class _Element:
    """A tiny XML writer: attributes in the given order, two-space indent, ``<x />`` when empty."""

    def __init__(self, tag: str, attrs: Iterable[tuple[str, str | None]] = (), children: Iterable[_Element] = (),
                 text: str | None = None) -> None:
        self.tag, self.text = tag, text
        self.attrs = [(key, value) for key, value in attrs if value is not None]
        self.children = list(children)

    def lines(self, depth: int) -> list[str]:
        pad = "  " * depth
        head = f"<{self.tag}" + "".join(f" {key}={_attr(value)}" for key, value in self.attrs)
        if self.text is not None:
            return [f"{pad}{head}>{escape(self.text)}</{self.tag}>"]
        if not self.children:
            return [f"{pad}{head} />"]
        inner = [line for child in self.children for line in child.lines(depth + 1)]
        return [f"{pad}{head}>", *inner, f"{pad}</{self.tag}>"]


E = _Element


def _properties_element(properties: list[tuple[str, str]]) -> _Element:
    return E("spiffworkflow:properties", children=[
        E("spiffworkflow:property", [("name", name), ("value", value)]) for name, value in properties])


def _node_element(node: Node) -> _Element:
    attrs: list[tuple[str, str | None]] = [("id", node.id), ("name", node.name)]
    if node.tag == "boundaryEvent":
        attrs += [("cancelActivity", "true" if node.interrupting else "false"), ("attachedToRef", node.attached_to)]
    # A receive task names its message itself (BPMN's messageRef); a catch event through its definition.
    receives = node.message if node.tag == "receiveTask" else None
    if receives is not None:
        attrs.append(("messageRef", receives[0]))
    extensions: list[_Element] = []
    if node.properties:
        extensions.append(_properties_element(node.properties))
    if receives is not None:
        extensions.append(E("spiffworkflow:messageVariable", text=receives[1]))
    if node.operator is not None:
        operator_id, result, params = node.operator
        extensions.append(E("spiffworkflow:serviceTaskOperator", [("id", operator_id), ("resultVariable", result)], [
            E("spiffworkflow:parameters", children=[
                E("spiffworkflow:parameter", [("id", name), ("type", kind), ("value", value)])
                for name, kind, value in params])]))
    children: list[_Element] = []
    if extensions:
        children.append(E("bpmn:extensionElements", children=extensions))
    children += [E("bpmn:incoming", text=flow) for flow in node.incoming]
    children += [E("bpmn:outgoing", text=flow) for flow in node.outgoing]
    if node.message is not None and receives is None:
        message_ref, variable = node.message
        children.append(E("bpmn:messageEventDefinition", [("id", f"{node.id}_message"), ("messageRef", message_ref)], [
            E("bpmn:extensionElements", children=[E("spiffworkflow:messageVariable", text=variable)])]))
    if node.timer is not None:
        children.append(E("bpmn:timerEventDefinition", [("id", f"{node.id}_timer")], [
            E("bpmn:timeDate", [("xsi:type", "bpmn:tFormalExpression")], text=node.timer)]))
    return E(f"bpmn:{node.tag}", attrs, children)


def _flow_element(flow: Flow) -> _Element:
    children = []
    if flow.condition is not None:
        children.append(E("bpmn:conditionExpression", [("xsi:type", "bpmn:tFormalExpression")], text=flow.condition))
    return E("bpmn:sequenceFlow", [("id", flow.id), ("name", flow.name), ("sourceRef", flow.source),
                                   ("targetRef", flow.target)], children)


def _bounds(x: int, y: int, w: int, h: int) -> _Element:
    return E("dc:Bounds", [("x", str(x)), ("y", str(y)), ("width", str(w)), ("height", str(h))])


def _lane_bounds(model: ProcessModel, heights: Mapping[str, int]) -> tuple[int, dict[str, tuple[int, int]]]:
    width = max(node.right for node in model.nodes.values()) + RIGHT_MARGIN - LANE_X
    lanes, y = {}, TOP
    for lane in LANES:
        lanes[lane] = (y, heights[lane])
        y += heights[lane]
    return width, lanes


def render_model(model: ProcessModel, comment: str, lane_heights: Mapping[str, int] = LANE_HEIGHT) -> str:
    """The BPMN 2.0 document of a laid-out model, with its DI; ``comment`` heads the file.

    ``lane_heights`` stacks the lanes from ``TOP``; a hand-laid model with more rows passes taller lanes.
    """
    code = model.code
    _check_ids(model)
    lane_width, lanes = _lane_bounds(model, lane_heights)
    lane_set = E("bpmn:laneSet", [("id", f"{code}_lanes")], [
        E("bpmn:lane", [("id", f"lane_{lane}"), ("name", lane)], [
            E("bpmn:flowNodeRef", text=node.id) for node in model.nodes.values() if node.lane == lane])
        for lane in LANES])
    process = E("bpmn:process", [("id", code), ("name", model.name), ("isExecutable", "true")], [
        lane_set, *(_node_element(node) for node in model.nodes.values()),
        *(_flow_element(flow) for flow in model.flows.values())])
    pool_height = sum(lane_heights[lane] for lane in LANES)
    shapes = [E("bpmndi:BPMNShape", [("id", f"{code}_participant_di"), ("bpmnElement", f"{code}_participant"),
                                     ("isHorizontal", "true")],
                [_bounds(POOL_X, TOP, lane_width + LANE_X - POOL_X, pool_height)])]
    shapes += [E("bpmndi:BPMNShape", [("id", f"lane_{lane}_di"), ("bpmnElement", f"lane_{lane}"),
                                      ("isHorizontal", "true")], [_bounds(LANE_X, y, lane_width, h)])
               for lane, (y, h) in lanes.items()]
    shapes += [E("bpmndi:BPMNShape", [("id", f"{node.id}_di"), ("bpmnElement", node.id),
                                      ("isMarkerVisible", "true" if node.tag == "exclusiveGateway" else None)],
                 [_bounds(node.x, node.y, node.w, node.h)]) for node in model.nodes.values()]
    edges = [E("bpmndi:BPMNEdge", [("id", f"{flow.id}_di"), ("bpmnElement", flow.id)], [
        E("di:waypoint", [("x", str(x)), ("y", str(y))]) for x, y in flow.waypoints]) for flow in model.flows.values()]
    diagram = E("bpmndi:BPMNDiagram", [("id", f"{code}_diagram")], [
        E("bpmndi:BPMNPlane", [("id", f"{code}_plane"), ("bpmnElement", f"{code}_collaboration")],
          [*shapes, *edges])])
    messages = sorted({node.message[0] for node in model.nodes.values() if node.message is not None},
                      key=["payment_received", "licence_issued"].index)
    definitions = E("bpmn:definitions", [*_NAMESPACES, ("id", f"{code}_definitions"),
                                         ("targetNamespace", f"http://bizportal/bpmn/{code}")], [
        E("bpmn:collaboration", [("id", f"{code}_collaboration")], [
            E("bpmn:participant", [("id", f"{code}_participant"), ("name", model.name), ("processRef", code)])]),
        *(E("bpmn:message", [("id", message), ("name", message)]) for message in messages),
        process, diagram])
    head = ['<?xml version="1.0" encoding="UTF-8"?>', f"<!-- {_comment_safe(comment)} -->"]
    return "\n".join([*head, *definitions.lines(0)]) + "\n"


def _comment_safe(text: str) -> str:
    while "--" in text:
        text = text.replace("--", "- -")
    return text.rstrip("-")


def _check_ids(model: ProcessModel) -> None:
    """Every BPMN id is distinct and none is an extension id: SpiffWorkflow 3.2 indexes them all together."""
    code = model.code
    ids = [f"{code}_definitions", f"{code}_collaboration", f"{code}_participant", f"{code}_lanes",
           f"{code}_diagram", f"{code}_plane", f"{code}_participant_di", "payment_received", "licence_issued"]
    extension_ids = set()
    for lane in LANES:
        ids += [f"lane_{lane}", f"lane_{lane}_di"]
    for node in model.nodes.values():
        ids += [node.id, f"{node.id}_di"]
        if node.message is not None and node.tag != "receiveTask":
            ids.append(f"{node.id}_message")
        if node.timer is not None:
            ids.append(f"{node.id}_timer")
        if node.operator is not None:
            extension_ids.add(node.operator[0])
            extension_ids.update(name for name, _kind, _value in node.operator[2])
    for flow in model.flows.values():
        ids += [flow.id, f"{flow.id}_di"]
    seen: set[str] = set()
    clashes = {item for item in ids if item in seen or seen.add(item)}  # type: ignore[func-returns-value]
    clashes |= extension_ids & seen
    if clashes:
        raise ValueError(f"{code}: these ids would be used twice: {', '.join(sorted(clashes))}; "
                         "rename the manual's steps")


def render_process(manual: LicenceManual) -> str:
    """The complete BPMN 2.0 document (with DI) of a licence whose manual names a generated shape.

    Raises:
        ValueError: the manual is ``custom``, lacks its one document_check step, or has step ids that
            would collide with the ids the shape generates.
    """
    comment = (f"{HEADER}.\n     {manual.code} ({manual.agency}), shape {manual.shape}: {manual.legal_basis}.\n"
               "     SLA timers are the manual's working days; documents are requested only once (Licensing "
               "Facilitation Act s.8).\n     Every id is unique, spiffworkflow:* elements included (SpiffWorkflow "
               "3.2 indexes all ids together),\n     hence the _task suffix on the service tasks.")
    return render_model(build_model(manual), comment)


def generate_all(bpmn_dir: Path, check: bool = False) -> list[Path]:
    """Render ``process.bpmn`` beside every ``*/manual.yaml`` under ``bpmn_dir`` whose shape is generated.

    Args:
        bpmn_dir: the folder holding one sub-folder per licence.
        check: write nothing; only report what is out of date.

    Returns:
        The process files whose content differed from their manual (rewritten unless ``check``), plus in
        check mode the ``custom`` licences that have no process file at all. Empty when all is current.

    Raises:
        ManualError: a manual does not load. ValueError: a manual cannot be rendered, or its code is not
            its folder's name.
    """
    changed: list[Path] = []
    for manual_path in sorted(Path(bpmn_dir).glob("*/manual.yaml")):
        manual = load_manual(manual_path)
        target = manual_path.parent / "process.bpmn"
        if manual.code != manual_path.parent.name:
            raise ValueError(f"{manual_path}: code {manual.code!r} must match its folder name")
        if manual.shape == "custom":
            if check and not target.exists():
                changed.append(target)
            continue
        content = render_process(manual).encode("utf-8")
        if target.exists() and target.read_bytes() == content:
            continue
        changed.append(target)
        if not check:
            target.write_bytes(content)
    return changed
