"""The script engine every workflow runs with: whitelisted expressions, typed service calls.

Design notes (SpiffWorkflow 3.2):
- scripts are refused outright: business logic lives in typed Python service operators;
- conditions, timer and correlation expressions go through `expressions.evaluate`, never `eval`;
- `PythonScriptEngine.call_service` references an undefined name when a service fails,
  hiding the real error, so it is overridden here;
- a deserialized workflow comes back with a default script engine: the runtime re-attaches
  this one after every restore.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from bizportal.engine.errors import DefinitionError
from bizportal.engine.workflow.expressions import evaluate


@dataclass(frozen=True)
class ServiceCall:
    """What a service operator receives: the step, its evaluated parameters and the task data."""

    operation: str
    step: str
    params: dict[str, Any]
    data: dict[str, Any]


ServiceOperator = Callable[[ServiceCall], Mapping[str, Any]]


class WhitelistEnvironment(TaskDataEnvironment):
    """Evaluates expressions with the whitelisting evaluator; refuses to execute scripts."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__({})
        self.functions = dict(functions)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        names = {**context, **(external_context or {})}
        return evaluate(expression, names, self.functions)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        raise DefinitionError("scripts are not allowed in BPMN definitions; use a service task")


class WorkflowScriptEngine(PythonScriptEngine):
    """Script engine bound to one unit of work: its functions, service operators and the engine's clock."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]], operators: Mapping[str, ServiceOperator],
                 now: Callable[[], datetime]) -> None:
        super().__init__(environment=WhitelistEnvironment(functions))
        self.operators = dict(operators)
        # Timer durations start from the engine's clock, never the wall clock (see timer_events).
        self.now = now

    def call_service(self, task: Any, operation_name: str, operation_params: dict[str, Any], **_: Any) -> str:
        operator_fn = self.operators.get(operation_name)
        if operator_fn is None:
            raise DefinitionError(f"no service operator {operation_name!r} is registered",
                                  hint=f"registered operators: {sorted(self.operators)}")
        params = {name: spec["value"] for name, spec in operation_params.items()}
        call = ServiceCall(operation=operation_name, step=task.task_spec.bpmn_id, params=params, data=task.data)
        # Errors propagate unchanged: the caller's transaction rolls back the whole step.
        return json.dumps(dict(operator_fn(call)), default=str)
