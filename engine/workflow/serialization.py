"""One JSON document per instance, with the spec stored by reference (its content hash).

Measured by benchmarks/engine_throughput.py for this project's licence process: at its
largest wait state the stock document with the spec embedded is ~29.6 KB, this one ~7.7 KB;
the spec is already parsed in memory, so writing and re-reading it each step is waste.
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

FORMAT = "bizportal-workflow/1"


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
        body = self._converter.to_dict(workflow)
        return json.dumps({"format": FORMAT, "spec_hash": definition.spec_hash, "workflow": body},
                          separators=(",", ":"), default=str)

    def loads(self, document: str, definition: ProcessDefinition) -> BpmnWorkflow:
        parsed = json.loads(document)
        if parsed.get("format") != FORMAT or parsed.get("spec_hash") != definition.spec_hash:
            raise ValueError("workflow document does not match its definition")
        return self._converter.restore(parsed["workflow"], definition)
