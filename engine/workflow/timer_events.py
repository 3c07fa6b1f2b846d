"""Timer events that only the engine fires, and the BPMN parser that builds them.

SpiffWorkflow's own timer events decide for themselves when they are due: `has_fired`
compares the due date with `datetime.now()` on every engine step. The engine keeps its
own timer table, computed with its own `Clock`, and fires due rows from a scan. Two
deciders disagree as soon as the two clocks do (a test clock, a clock moved for a
replay), and a timer could fire the moment its step opens. Here the timer table is the
only decider: these definitions compute their due date (with the engine's clock for a
duration) and report "fired" only once the runtime has marked the task fired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

_FIRED = "event_fired"
_VALUE = "event_value"


def _fired(task: Any) -> bool:
    return bool(task._get_internal_data(_FIRED, False))


class EngineTimeDate(TimeDateEventDefinition):
    """A `timeDate` timer: due at the date its expression gives; fired only by the engine."""

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data(_VALUE) is None:
            my_task._set_internal_data(event_value=my_task.workflow.script_engine.evaluate(my_task, self.expression))
        return _fired(my_task)


class EngineDuration(DurationTimerEventDefinition):
    """A `timeDuration` timer: due that long after its step opened by the engine's clock; fired only by the
    engine."""

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data(_VALUE) is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            start: datetime = my_task.workflow.script_engine.now()
            duration = TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(expression), start)
            my_task._set_internal_data(event_value=(start + duration).isoformat())
        return _fired(my_task)


# A repeating (`timeCycle`) timer has no single due date for the timer table; the loader refuses it.
ENGINE_TIMERS: dict[type[TimerEventDefinition], type[TimerEventDefinition]] = {
    TimeDateEventDefinition: EngineTimeDate,
    DurationTimerEventDefinition: EngineDuration,
}


class _EngineTimerParsing:
    """Parser mixin: hands out the engine's timer definitions instead of SpiffWorkflow's."""

    def parse_timer_event(self, event: Any) -> TimerEventDefinition:
        definition: TimerEventDefinition = super().parse_timer_event(event)  # type: ignore[misc]
        engine_class = ENGINE_TIMERS.get(type(definition))
        if engine_class is None:
            return definition
        return engine_class(definition.name, definition.expression, description=definition.description)


class _StartEventParser(_EngineTimerParsing, SpiffStartEventParser):
    pass


class _BoundaryEventParser(_EngineTimerParsing, SpiffBoundaryEventParser):
    pass


class _IntermediateCatchEventParser(_EngineTimerParsing, SpiffIntermediateCatchEventParser):
    pass


def _with_engine_timers(tag: str, parser_class: type) -> tuple[type, type]:
    _, spec_class = SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)]
    return parser_class, spec_class


class EngineBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's parser, with every timer event one the engine's timer table fires."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): _with_engine_timers("startEvent", _StartEventParser),
        full_tag("boundaryEvent"): _with_engine_timers("boundaryEvent", _BoundaryEventParser),
        full_tag("intermediateCatchEvent"): _with_engine_timers("intermediateCatchEvent",
                                                                _IntermediateCatchEventParser),
    }


# SpiffWorkflow's serializer configuration, knowing the engine's timer definitions too (for a stock,
# spec-embedding serialization; the engine's own documents hold the spec by reference).
SERIALIZER_CONFIG = {**SPIFF_CONFIG, **{cls: TimerConditionalEventDefinitionConverter
                                        for cls in ENGINE_TIMERS.values()}}
