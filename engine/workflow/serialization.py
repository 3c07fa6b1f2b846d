"""One JSON document per instance, with the spec stored by reference (its content hash).

Measured by benchmarks/engine_throughput.py for this project's licence process: at its
largest wait state the stock document with the spec embedded is ~35 KB, the spec by reference
~9.6 KB (format 1); the spec is already parsed in memory, so writing and re-reading it each step
is waste. Format 2 also leaves out of each task what SpiffWorkflow's own converter writes but
the reader can rebuild exactly (`_compact_task`): its id (the map's key), its parent where that
parent lists it as a child in the same map, the task type name, and empty or false defaults;
~6.3 KB at the same state. Both formats are read: a format-1 instance is rewritten as format 2
by its next save.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter

from bizportal.engine.workflow.definitions import ProcessDefinition
from bizportal.engine.workflow.timer_events import SERIALIZER_CONFIG

FORMAT = "bizportal-workflow/2"
FORMATS = ("bizportal-workflow/1", FORMAT)  # what `loads` reads

_TASK_TYPE = "Task"
_NO_DELTA: dict[str, Any] = {"updates": {}, "deletions": []}  # a child task whose data is its parent's


def _compact_task(task_id: str, task: dict[str, Any], parent_of: dict[str, str]) -> dict[str, Any]:
    """`task` as SpiffWorkflow's converter wrote it, less what `_full_task` rebuilds from the rest."""
    out = dict(task)
    if out.pop("id") != task_id:
        raise ValueError(f"task {task_id} is stored under another id")
    if out["parent"] is None or parent_of.get(task_id) == out["parent"]:
        del out["parent"]  # the root, or the one task of this map that lists it as a child
    if out.get("typename") == _TASK_TYPE:
        del out["typename"]
    for key, default in (("triggered", False), ("internal_data", {}), ("data", {})):
        if out.get(key) == default:
            del out[key]
    if out.get("delta") == (_NO_DELTA if task["parent"] is not None else {}):
        del out["delta"]
    return out


def _full_task(task_id: str, task: dict[str, Any], parent_of: dict[str, str]) -> dict[str, Any]:
    parent = task.get("parent", parent_of.get(task_id))
    return {"id": task_id, "parent": parent, "children": task["children"],
            "last_state_change": task["last_state_change"], "state": task["state"], "task_spec": task["task_spec"],
            "triggered": task.get("triggered", False), "internal_data": task.get("internal_data", {}),
            "data": task.get("data", {}),
            "delta": task.get("delta", {"updates": {}, "deletions": []} if parent is not None else {}),
            "typename": task.get("typename", _TASK_TYPE)}


def _parents(tasks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {child: parent_id for parent_id, task in tasks.items() for child in task["children"]}


def _map_tasks(body: dict[str, Any], convert: Any) -> dict[str, Any]:
    """`body` (a workflow or subprocess dict) with each of its task maps passed through `convert`."""
    tasks = body["tasks"]
    parent_of = _parents(tasks)
    out = {**body, "tasks": {task_id: convert(task_id, task, parent_of) for task_id, task in tasks.items()}}
    if "subprocesses" in body:
        out["subprocesses"] = {key: _map_tasks(sub, convert) for key, sub in body["subprocesses"].items()}
    return out


def compact(body: dict[str, Any]) -> dict[str, Any]:
    """A workflow dict in format 2."""
    return _map_tasks(body, _compact_task)


def expand(body: dict[str, Any]) -> dict[str, Any]:
    """A format-2 workflow dict back as SpiffWorkflow's converter wrote it."""
    return _map_tasks(body, _full_task)


class _ByReferenceConverter(BpmnWorkflowConverter):
    """Writes everything of a workflow except its spec and subprocess specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict[str, Any], definition: ProcessDefinition) -> BpmnWorkflow:
        workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class WorkflowDocuments:
    """Turns workflows into JSON text and back, given the definition they run on."""

    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG)
        self._converter = _ByReferenceConverter(BpmnWorkflow, registry)

    def dumps(self, workflow: BpmnWorkflow, definition: ProcessDefinition) -> str:
        body = compact(self._converter.to_dict(workflow))
        return json.dumps({"format": FORMAT, "spec_hash": definition.spec_hash, "workflow": body},
                          separators=(",", ":"), default=str)

    def loads(self, document: str, definition: ProcessDefinition) -> BpmnWorkflow:
        parsed = json.loads(document)
        if parsed.get("format") not in FORMATS or parsed.get("spec_hash") != definition.spec_hash:
            raise ValueError("workflow document does not match its definition")
        body = parsed["workflow"]
        return self._converter.restore(expand(body) if parsed["format"] == FORMAT else body, definition)
