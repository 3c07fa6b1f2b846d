"""Process definitions: parsed once at start-up, validated, cached by content hash.

An instance records the hash of the spec it started on. The BPMN source of every hash is
kept in the database, so after a deploy changes a file, cases already running restore and
finish on the version they began with instead of being rewritten silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlmodel import Session, col, select

from bizportal.engine.errors import DefinitionError
from bizportal.engine.workflow.expressions import ExpressionRejected, validate_expression
from bizportal.engine.workflow.timer_events import ENGINE_TIMERS, EngineBpmnParser
from bizportal.storage.workflow_tables import ProcessDefinitionRow

# Task-spec classes that would run code or loop in ways the whitelist cannot check.
_FORBIDDEN_SPECS = {"ScriptTask", "StandardLoopTask", "ParallelMultiInstanceTask", "SequentialMultiInstanceTask"}


@dataclass(frozen=True)
class ProcessDefinition:
    """One parsed, validated BPMN process, identified by the sha256 of its file."""

    spec_hash: str
    process_id: str
    source_name: str
    bpmn_xml: str
    spec: Any
    subprocess_specs: Mapping[str, Any] = field(default_factory=dict)

    def element(self, bpmn_id: str) -> Any:
        return self.spec.task_specs[bpmn_id]

    def agencies_named(self) -> set[str]:
        """Agencies other steps belong to (an opinion asked of another agency), by their `agency` property."""
        return {props["agency"] for spec in self.spec.task_specs.values()
                if "agency" in (props := getattr(spec, "extensions", {}).get("properties", {}))}


def content_hash(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


# Parsed specs by content hash, shared by every registry in the process: parsing the catalogue's
# BPMN is the bulk of start-up, and a spec is never mutated once parsed.
_PARSED: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {}


def _parse(xml: bytes, source_name: str) -> list[tuple[str, Any, dict[str, Any]]]:
    key = f"{content_hash(xml)}:{source_name}"
    if key not in _PARSED:
        _PARSED[key] = _parse_uncached(xml, source_name)
    return _PARSED[key]


# BPMN needs no DTD. Entities are never resolved, nothing is fetched, and a document type is refused
# outright below, so an entity cannot smuggle text into a task name or blow up on expansion.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _read_xml(xml: bytes, source_name: str) -> Any:
    """The BPMN file's XML tree; a file with a document type declaration (DTD) is refused."""
    try:
        root = etree.fromstring(xml, parser=_XML_PARSER)
    except etree.XMLSyntaxError as err:
        raise DefinitionError(f"{source_name}: cannot parse BPMN: {err}") from err
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DefinitionError(f"{source_name}: a BPMN file may not declare a DTD (<!DOCTYPE ...>)",
                              hint="remove the <!DOCTYPE> declaration and any entities; BPMN needs neither")
    return root


def _parse_uncached(xml: bytes, source_name: str) -> list[tuple[str, Any, dict[str, Any]]]:
    root = _read_xml(xml, source_name)
    parser = EngineBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=source_name)
        process_ids = parser.get_process_ids()
        return [(pid, parser.get_spec(pid), parser.get_subprocess_specs(pid)) for pid in process_ids]
    except DefinitionError:
        raise
    except Exception as err:  # the parser raises many kinds; all mean "this file is unusable"
        raise DefinitionError(f"{source_name}: cannot parse BPMN: {err}") from err


def validate_spec(spec: Any, source_name: str, functions: Iterable[str], operators: Iterable[str]) -> None:
    """Reject anything outside what the engine can run safely, naming file and element.

    Raises:
        DefinitionError: a script task, a script, a loop, an expression outside the
            whitelist, or a service operator nobody registered.
    """
    allowed_functions = set(functions)
    allowed_operators = set(operators)

    def check(expression: str | None, element: str, what: str) -> None:
        if not expression:
            return
        try:
            validate_expression(expression, allowed_functions)
        except ExpressionRejected as err:
            shown = expression if len(expression) <= 120 else expression[:120] + "…"
            reason = str(err) if len(str(err)) <= 200 else str(err)[:200] + "…"
            raise DefinitionError(f"{source_name}: element {element!r}: {what} {shown!r} rejected: {reason}",
                                  hint="BPMN expressions may use names, literals, comparisons, and/or/not "
                                       f"and the functions {sorted(allowed_functions)}") from err

    for name, task_spec in spec.task_specs.items():
        kind = type(task_spec).__name__
        if kind in _FORBIDDEN_SPECS:
            raise DefinitionError(f"{source_name}: element {name!r} is a {kind}, which the engine refuses",
                                  hint="put business logic in a service task with a registered operator")
        for attr in ("prescript", "postscript", "script"):
            if getattr(task_spec, attr, None):
                raise DefinitionError(f"{source_name}: element {name!r} has a {attr}, which the engine refuses",
                                      hint="put business logic in a service task with a registered operator")
        for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
            # SpiffWorkflow wraps a flow's condition in an operator holding the expression text.
            check(condition.args[0] if hasattr(condition, "args") else condition, name, "condition")
        event_definition = getattr(task_spec, "event_definition", None)
        if isinstance(event_definition, TimerEventDefinition):
            if type(event_definition) not in ENGINE_TIMERS.values():
                # Only the engine's timer table may fire a timer, and it holds one due date per timer.
                raise DefinitionError(f"{source_name}: element {name!r} has a repeating timer (timeCycle), "
                                      "which the engine refuses",
                                      hint="use a timeDate (e.g. due_in_working_days(n)) or a timeDuration")
            check(event_definition.expression, name, "timer expression")
        for prop in getattr(event_definition, "correlation_properties", None) or []:
            check(prop.retrieval_expression, name, "correlation expression")
        if hasattr(task_spec, "operation_name"):
            if task_spec.operation_name not in allowed_operators:
                raise DefinitionError(
                    f"{source_name}: element {name!r} calls service operator {task_spec.operation_name!r}, "
                    "which is not registered", hint=f"registered operators: {sorted(allowed_operators)}")
            for param in task_spec.operation_params.values():
                check(param.get("value"), name, "service parameter")


class DefinitionRegistry:
    """The parsed processes: current ones by process id, every known one by hash."""

    def __init__(self, functions: Iterable[str], operators: Iterable[str]) -> None:
        self._functions = frozenset(functions)
        self._operators = frozenset(operators)
        self._by_hash: dict[str, ProcessDefinition] = {}
        self._current: dict[str, ProcessDefinition] = {}

    def _build(self, xml: bytes, source_name: str) -> list[ProcessDefinition]:
        spec_hash = content_hash(xml)
        found = []
        for process_id, spec, subprocess_specs in _parse(xml, source_name):
            validate_spec(spec, source_name, self._functions, self._operators)
            found.append(ProcessDefinition(spec_hash=spec_hash, process_id=process_id, source_name=source_name,
                                           bpmn_xml=xml.decode("utf-8"), spec=spec,
                                           subprocess_specs=subprocess_specs))
        if not found:
            raise DefinitionError(f"{source_name}: no executable process in the file")
        if len(found) > 1:
            # The hash identifies a file; one process per file keeps hash -> spec unambiguous.
            raise DefinitionError(f"{source_name}: holds {len(found)} executable processes; keep one per file")
        return found

    def load_directory(self, root: Path) -> list[ProcessDefinition]:
        """Parse and validate every `*.bpmn` below `root`; the first bad file stops start-up."""
        loaded = []
        for path in sorted(root.rglob("*.bpmn")):
            for definition in self._build(path.read_bytes(), str(path.relative_to(root.parent))):
                if definition.process_id in self._current:
                    raise DefinitionError(f"{definition.source_name}: process id {definition.process_id!r} "
                                          f"is also defined in {self._current[definition.process_id].source_name}")
                self._by_hash[definition.spec_hash] = definition
                self._current[definition.process_id] = definition
                loaded.append(definition)
        return loaded

    def current(self, process_id: str) -> ProcessDefinition:
        try:
            return self._current[process_id]
        except KeyError as err:
            raise DefinitionError(f"no process {process_id!r} is deployed") from err

    def processes(self) -> list[ProcessDefinition]:
        return list(self._current.values())

    def by_hash(self, session: Session, spec_hash: str) -> ProcessDefinition:
        """The definition an instance started on, re-parsed from the database if it is an old one."""
        definition = self._by_hash.get(spec_hash)
        if definition is None:
            row = session.get(ProcessDefinitionRow, spec_hash)
            if row is None:
                raise DefinitionError(f"process definition {spec_hash} is unknown")
            (definition,) = self._build(row.bpmn_xml.encode("utf-8"), row.source_name)
            self._by_hash[spec_hash] = definition
        return definition

    def record(self, session: Session) -> None:
        """Store the source of every current definition (once per hash)."""
        hashes = [definition.spec_hash for definition in self._current.values()]
        # One query for all (a deploy starts with ~80 definitions), not one per definition.
        known = set(session.exec(select(ProcessDefinitionRow.spec_hash)
                                 .where(col(ProcessDefinitionRow.spec_hash).in_(hashes))))
        for definition in self._current.values():
            if definition.spec_hash not in known:
                known.add(definition.spec_hash)
                session.add(ProcessDefinitionRow(spec_hash=definition.spec_hash, process_id=definition.process_id,
                                                 source_name=definition.source_name, bpmn_xml=definition.bpmn_xml))
