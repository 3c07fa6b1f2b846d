"""The licence finder one question per page, without JavaScript: the answers so far travel in the query string.

A finder URL holds the business type (`type`), the questions already asked in order (`asked`, comma-separated)
and each answer as `q_<question id>` (a multi question repeats it once per ticked choice); `at` names the question
whose form was just sent. The next question is the first one not yet asked whose `shown_if` holds for the answers
so far; when none is left the finder answers. The same `Finder` as the API decides (engine/catalogue/finder.py):
nothing here knows which licence a business needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from bizportal.engine.catalogue.finder import Answer, BusinessTypeFinder, Question

PREFIX = "q_"
MAX_NUMBER = 1_000_000_000.0
RawAnswer = str | list[str] | float


@dataclass
class FinderState:
    business: BusinessTypeFinder
    asked: list[str] = field(default_factory=list)
    answers: dict[str, RawAnswer] = field(default_factory=dict)

    def finder_answers(self) -> dict[str, object]:
        """The answers as `Finder.find` takes them (an empty multi answer is left out: not asked)."""
        return {key: value for key, value in self.answers.items() if value != []}

    def typed(self) -> dict[str, Answer]:
        typed: dict[str, Answer] = {}
        for key, value in self.answers.items():
            if isinstance(value, list):
                if value:
                    typed[key] = frozenset(value)
            else:
                typed[key] = value
        return typed

    def next_question(self) -> Question | None:
        typed = self.typed()
        for question in self.business.questions:
            if question.id in self.asked:
                continue
            if question.shown_if is None or question.shown_if.holds(typed):
                return question
        return None

    def params(self, upto: int | None = None) -> list[tuple[str, str]]:
        """The query of this state (the first `upto` questions asked only, when given)."""
        asked = self.asked if upto is None else self.asked[:upto]
        pairs: list[tuple[str, str]] = [("type", self.business.code)]
        if asked:
            pairs.append(("asked", ",".join(asked)))
        for question_id in asked:
            pairs.extend((PREFIX + question_id, value) for value in _values(self.answers.get(question_id)))
        return pairs

    def url(self, upto: int | None = None, prefill: str | None = None) -> str:
        """`/finder?...`; `prefill`: also carry that question's answer, so its page shows it ticked."""
        pairs = self.params(upto)
        if prefill is not None:
            pairs.extend((PREFIX + prefill, value) for value in _values(self.answers.get(prefill)))
        return "/finder?" + urlencode(pairs)


def _values(answer: RawAnswer | None) -> list[str]:
    if answer is None:
        return []
    if isinstance(answer, list):
        return answer
    if isinstance(answer, float):
        return [f"{answer:g}" if answer < 1e15 else str(answer)]
    return [answer]


@dataclass(frozen=True)
class AnswerError:
    """What is wrong with one answer: a key of the page labels, and the field to link to."""

    question: str
    label: str


def read_state(business: BusinessTypeFinder, params: QueryParams) -> FinderState:
    """The questions asked so far and their answers; anything that does not fit the questionnaire is dropped
    (an edited URL cannot make the finder answer for a question it did not ask)."""
    state = FinderState(business)
    by_id = {question.id: question for question in business.questions}
    for question_id in params.get("asked", "").split(","):
        question = by_id.get(question_id)
        if question is None or question_id in state.asked:
            continue
        if question.shown_if is not None and not question.shown_if.holds(state.typed()):
            continue
        answer, error = parse_answer(question, params)
        state.asked.append(question_id)
        if error is None and answer is not None:
            state.answers[question_id] = answer
    return state


def parse_answer(question: Question, params: Mapping[str, str] | QueryParams) -> tuple[RawAnswer | None,
                                                                                       AnswerError | None]:
    """One question's answer from the query, checked against the question."""
    name = PREFIX + question.id
    if question.type == "multi":
        ticked = params.getlist(name) if isinstance(params, QueryParams) else ([params[name]] if name in params else [])
        ids = question.choice_ids()
        if any(choice not in ids for choice in ticked):
            return None, AnswerError(question.id, "finder_error_choice")
        ticked = [choice for choice in ids if choice in ticked]
        for choice in question.choices:
            if choice.id not in ticked:
                continue
            if choice.exclusive and len(ticked) > 1:
                return None, AnswerError(question.id, "finder_error_exclusive")
            if any(other in ticked for other in choice.forbids):
                return None, AnswerError(question.id, "finder_error_forbids")
        return ticked, None
    value = (params.get(name) or "").strip()
    if question.type == "single":
        if not value:
            return None, AnswerError(question.id, "finder_error_missing_choice")
        if value not in question.choice_ids():
            return None, AnswerError(question.id, "finder_error_choice")
        return value, None
    if not value:
        return None, AnswerError(question.id, "finder_error_missing_number")
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        return None, AnswerError(question.id, "finder_error_number")
    if not math.isfinite(number) or not 0 <= number <= MAX_NUMBER:
        return None, AnswerError(question.id, "finder_error_number")
    return number, None
