"""The licence finder: a questionnaire per business type whose answers decide which licences a business needs.

Each business type keeps its questionnaire in ``bpmn/finder/<business type code>.yaml``::

    code: restaurant
    name_th: ...
    name_en: ...
    questions:
      - id: sells_alcohol                 # snake_case, unique in the file
        text_th: ...
        text_en: ...
        type: single                      # single | multi | number
        choices:                          # single and multi only
          - {id: "yes", text_th: ใช่, text_en: "Yes"}
          - {id: none, text_th: ..., text_en: ..., exclusive: true}   # multi: forbids every other choice
          - {id: medicines, ..., forbids: [alcohol, tobacco]}          # multi: may not be ticked with these
        unit: kg                          # number only, optional
        hint_th: ...                      # optional information shown with the question
        hint_en: ...
        shown_if: {question: produces_food, equals: "yes"}            # optional: asked only when this holds
    rules:
      - licence: liquor_sale_licence      # a licence code of the catalogue
        sub_type: hh_food_meatballs       # optional: the trade of a licence family
        required: false                   # true: listed for every business of this type (no `when`)
        when: {all: [{question: sells_alcohol, equals: "yes"}]}
        reason_th: ...
        reason_en: ...
        inferred: true                    # optional: the link was inferred, not taken from the source quiz

A **condition** (``when``, ``shown_if``) is a leaf or a group:

* leaf ``{question: q, <operator>: value}`` with exactly one operator: ``equals: <choice>`` (single),
  ``includes: <choice>`` (multi), ``at_least`` (>=), ``above`` (>), ``below`` (<), ``at_most`` (<=) a number
  (number), or ``unanswered: true`` (any type: the question was not answered);
* group ``{all: [...], any: [...]}``: every ``all`` item holds and, when ``any`` is given, at least one
  ``any`` item holds. Groups nest.

Quote ``"yes"`` and ``"no"``: YAML reads them bare as booleans (the loader says so if you forget).

A question the applicant did not answer counts as not asked: every leaf on it is false except
``unanswered``. So a missing yes/no answer never brings in a licence (it reads as "No").
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationError,
    model_validator,
)

from bizportal.engine.catalogue.data_checks import reject_duplicates
from bizportal.engine.catalogue.yaml_files import load_yaml
from bizportal.engine.errors import DefinitionError, InvalidInput, NotFound

_SNAKE_CASE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
_NUMBER_OPERATORS = ("at_least", "above", "below", "at_most")
_OPERATORS = ("equals", "includes", *_NUMBER_OPERATORS, "unanswered")
# The source quiz points at records the catalogue replaced; name the replacement in the error.
_REPLACED = {"hh_services_generic_legacy": "hh_entertainment"}
_FOOD_FAMILY = "hh_food_beverage_family"

Number = StrictInt | StrictFloat
# A validated answer: the choice id (single), the set of ticked choice ids (multi) or the number.
Answer = str | frozenset[str] | float


class Leaf(BaseModel):
    """One test on one question's answer; exactly one operator is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(pattern=_SNAKE_CASE)
    equals: str | None = Field(default=None, pattern=_SNAKE_CASE)
    includes: str | None = Field(default=None, pattern=_SNAKE_CASE)
    at_least: Number | None = None
    above: Number | None = None
    below: Number | None = None
    at_most: Number | None = None
    unanswered: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Self:
        used = [name for name in _OPERATORS if getattr(self, name) is not None]
        if len(used) != 1:
            raise ValueError(f"a condition on {self.question!r} needs exactly one of {', '.join(_OPERATORS)}; "
                             f"got {', '.join(used) or 'none'}")
        return self

    @property
    def operator(self) -> str:
        return next(name for name in _OPERATORS if getattr(self, name) is not None)

    def holds(self, answers: Mapping[str, Answer]) -> bool:
        if self.unanswered:
            return self.question not in answers
        answer = answers.get(self.question)
        if answer is None:
            return False
        if self.equals is not None:
            return answer == self.equals
        if self.includes is not None:
            return isinstance(answer, frozenset) and self.includes in answer
        if not isinstance(answer, float):
            return False
        if self.at_least is not None:
            return answer >= self.at_least
        if self.above is not None:
            return answer > self.above
        if self.below is not None:
            return answer < self.below
        return self.at_most is not None and answer <= self.at_most

    def leaves(self) -> Iterable[Leaf]:
        yield self


class Group(BaseModel):
    """``all`` of its items hold and, when ``any`` is given, at least one of those."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.all and not self.any:
            raise ValueError("a condition group needs items under `all` or `any`")
        return self

    def holds(self, answers: Mapping[str, Answer]) -> bool:
        every = all(item.holds(answers) for item in self.all)
        return every and (not self.any or any(item.holds(answers) for item in self.any))

    def leaves(self) -> Iterable[Leaf]:
        for item in (*self.all, *self.any):
            yield from item.leaves()


def _condition_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "leaf" if "question" in value else "group"
    return "leaf" if isinstance(value, Leaf) else "group"


Condition = Annotated[Annotated[Leaf, Tag("leaf")] | Annotated[Group, Tag("group")], Discriminator(_condition_kind)]
Group.model_rebuild()


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_SNAKE_CASE)
    text_th: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    # "None of these": ticking it forbids every other choice of the question.
    exclusive: bool = False
    forbids: list[str] = Field(default_factory=list)


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_SNAKE_CASE)
    text_th: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    type: Literal["single", "multi", "number"]
    choices: list[Choice] = Field(default_factory=list)
    unit: str | None = Field(default=None, min_length=1)
    hint_th: str | None = Field(default=None, min_length=1)
    hint_en: str | None = Field(default=None, min_length=1)
    shown_if: Condition | None = None

    @model_validator(mode="after")
    def _choices_fit_the_type(self) -> Self:
        ids = [choice.id for choice in self.choices]
        reject_duplicates(ids, "choice id")
        if self.type == "number":
            if self.choices:
                raise ValueError("a number question has no choices")
            return self
        if self.unit is not None:
            raise ValueError("only a number question has a unit")
        if len(self.choices) < (2 if self.type == "single" else 1):
            raise ValueError(f"a {self.type} question needs {'two choices' if self.type == 'single' else 'a choice'}"
                             " or more")
        for choice in self.choices:
            if self.type == "single" and (choice.exclusive or choice.forbids):
                raise ValueError(f"choice {choice.id!r}: `exclusive` and `forbids` belong to multi questions")
            if choice.exclusive and choice.forbids:
                raise ValueError(f"choice {choice.id!r} is exclusive; it needs no `forbids` list")
            for other in choice.forbids:
                if other == choice.id or other not in ids:
                    raise ValueError(f"choice {choice.id!r} forbids {other!r}, which is not another choice")
        return self

    def choice_ids(self) -> list[str]:
        return [choice.id for choice in self.choices]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    licence: str = Field(pattern=_SNAKE_CASE)
    sub_type: str | None = Field(default=None, pattern=_SNAKE_CASE)
    required: bool
    when: Group | None = None
    reason_th: str = Field(min_length=1)
    reason_en: str = Field(min_length=1)
    inferred: bool = False

    @model_validator(mode="after")
    def _when_matches_required(self) -> Self:
        if self.required and self.when is not None:
            raise ValueError("a required licence is listed for every business of the type; it has no `when`")
        if not self.required and self.when is None:
            raise ValueError("a conditional licence (required: false) needs a `when` condition")
        return self

    def applies(self, answers: Mapping[str, Answer]) -> bool:
        return self.required or (self.when is not None and self.when.holds(answers))


class BusinessTypeFinder(BaseModel):
    """One business type's questionnaire and the rules from answers to licences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_SNAKE_CASE)
    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    questions: list[Question]
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        reject_duplicates([question.id for question in self.questions], "question id")
        by_id = {question.id: question for question in self.questions}
        used: set[str] = set()
        for index, question in enumerate(self.questions):
            if question.shown_if is None:
                continue
            earlier = {q.id: q for q in self.questions[:index]}
            for leaf in question.shown_if.leaves():
                if leaf.question not in earlier:
                    raise ValueError(f"questions[{index}] ({question.id}).shown_if: question {leaf.question!r} "
                                     "must be defined before its follow-up")
                _check_leaf(leaf, earlier[leaf.question], f"questions[{index}] ({question.id}).shown_if")
                used.add(leaf.question)
        for index, rule in enumerate(self.rules):
            for leaf in rule.when.leaves() if rule.when else ():
                where = f"rules[{index}] ({rule.licence}).when"
                if leaf.question not in by_id:
                    raise ValueError(f"{where}: question {leaf.question!r} is not defined")
                _check_leaf(leaf, by_id[leaf.question], where)
                used.add(leaf.question)
        unused = [question.id for question in self.questions if question.id not in used]
        if unused:
            raise ValueError(f"questions {', '.join(unused)} lead to no licence and open no follow-up")
        return self


class FinderResult(BaseModel):
    """A licence the business needs and why."""

    model_config = ConfigDict(frozen=True)

    code: str
    reason_th: str
    reason_en: str
    # True when listed for every business of the type, whatever the answers.
    required: bool
    # The trades of a licence family that apply (e.g. the food health-hazard sub-types), in rule order.
    sub_types: list[str] = Field(default_factory=list)
    # True when every rule that listed it was inferred rather than taken from the source quiz.
    inferred: bool = False


@dataclass(frozen=True)
class Finder:
    """Every business type's questionnaire, and the licence prerequisites used to order results."""

    types: dict[str, BusinessTypeFinder]
    prerequisites: dict[str, list[str]]

    def business_types(self) -> list[BusinessTypeFinder]:
        return [self.types[code] for code in sorted(self.types)]

    def business_type(self, code: str) -> BusinessTypeFinder:
        """Raises:
            NotFound: no questionnaire for ``code``.
        """
        try:
            return self.types[code]
        except KeyError as err:
            raise NotFound(f"business type {code!r} is unknown",
                           hint="GET /api/v1/business-types lists the codes") from err

    def find(self, code: str, answers: Mapping[str, object]) -> list[FinderResult]:
        """The licences a business of type ``code`` needs given its answers.

        Args:
            code: the business type.
            answers: question id -> choice id (single), list of choice ids (multi) or number; a missing
                question (or ``None``, or an empty list) counts as not asked.

        Returns:
            Required licences and the conditional ones whose condition holds, one entry per licence
            (reasons and sub-types merged), prerequisites before the licences that need them, then
            required first, then by code.

        Raises:
            NotFound: unknown business type.
            InvalidInput: an unknown question or choice, a value of the wrong shape, or contradictory
                answers (an exclusive choice with another, a forbidden pair, a follow-up whose parent
                answer does not open it).
        """
        business = self.business_type(code)
        clean = _validate_answers(business, answers)
        merged: dict[str, _Merged] = {}
        for rule in business.rules:
            if rule.applies(clean):
                merged.setdefault(rule.licence, _Merged()).add(rule)
        return [merged[licence].result(licence) for licence in self._order(merged)]

    def _order(self, merged: Mapping[str, _Merged]) -> list[str]:
        """Kahn's topological order over the prerequisites among the found licences; ties: required, code."""
        needs = {code: {p for p in self.prerequisites.get(code, []) if p in merged and p != code} for code in merged}
        ready = [(not merged[code].required, code) for code, prior in needs.items() if not prior]
        heapq.heapify(ready)
        ordered: list[str] = []
        while ready:
            _, code = heapq.heappop(ready)
            ordered.append(code)
            for other, prior in needs.items():
                if code in prior:
                    prior.discard(code)
                    if not prior:
                        heapq.heappush(ready, (not merged[other].required, other))
        return ordered  # complete: load_finder rejects cycles


class _Merged:
    """The rules that listed one licence, folded into one result."""

    def __init__(self) -> None:
        self.required = False
        self.inferred = True
        self.reasons_th: list[str] = []
        self.reasons_en: list[str] = []
        self.sub_types: list[str] = []

    def add(self, rule: Rule) -> None:
        self.required = self.required or rule.required
        self.inferred = self.inferred and rule.inferred
        for reasons, reason in ((self.reasons_th, rule.reason_th), (self.reasons_en, rule.reason_en)):
            if reason not in reasons:
                reasons.append(reason)
        if rule.sub_type is not None and rule.sub_type not in self.sub_types:
            self.sub_types.append(rule.sub_type)

    def result(self, code: str) -> FinderResult:
        return FinderResult(code=code, reason_th="; ".join(self.reasons_th), reason_en="; ".join(self.reasons_en),
                            required=self.required, sub_types=list(self.sub_types), inferred=self.inferred)


def load_finder(root: Path, licence_codes: set[str], prerequisites: Mapping[str, list[str]], *,
                sub_types: Mapping[str, Collection[str]] | None = None) -> Finder:
    """Load and validate every ``*.yaml`` in ``root`` (``bpmn/finder``); a bad file stops start-up.

    Args:
        root: the folder of finder files, one per business type, named ``<code>.yaml``.
        licence_codes: the catalogue's licence codes; a rule naming another code is an error.
        prerequisites: licence code -> codes that must be obtained first (``LicenceManual.prerequisites``).
        sub_types: optional licence code -> its sub-type codes (``LicenceManual.sub_types``); when given, a
            rule's ``sub_type`` must be one of its licence's.

    Returns:
        The finder for every business type.

    Raises:
        DefinitionError: naming the file and the field that is wrong, or a prerequisite cycle.
    """
    paths = sorted(root.glob("*.yaml"))
    if not paths:
        raise DefinitionError(f"{root}: no licence-finder files (<business type>.yaml)")
    types: dict[str, BusinessTypeFinder] = {}
    for path in paths:
        business = _load_file(path)
        if business.code != path.stem:
            raise DefinitionError(f"{path}: code: {business.code!r} must match the file name {path.stem!r}")
        for index, rule in enumerate(business.rules):
            _check_rule_licence(path, index, rule, licence_codes, sub_types)
        types[business.code] = business
    _reject_cycles(prerequisites)
    return Finder(types=types, prerequisites={code: list(prior) for code, prior in prerequisites.items()})


def _load_file(path: Path) -> BusinessTypeFinder:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DefinitionError(f"{path}: cannot be read as YAML: {err}") from err
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: must be a mapping with code, names, questions and rules")
    try:
        return BusinessTypeFinder.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(_problem(error, raw) for error in err.errors())
        raise DefinitionError(f"{path}: {problems}") from err


def _problem(error: Mapping[str, Any], raw: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error.get("input"), bool):
        message += ' (YAML reads a bare yes/no as true/false: write "yes" or "no" in quotes)'
    location = _location(error["loc"], raw)
    return f"{location}: {message}" if location else message


def _location(loc: tuple[int | str, ...], raw: Any) -> str:
    """``('rules', 3, 'when', 'all', 0, 'leaf', 'equals')`` -> ``rules[3] (liquor_sale_licence).when.all[0].equals``."""
    text, node = "", raw
    for part in loc:
        if part in ("leaf", "group") and not (isinstance(node, Mapping) and part in node):
            continue  # the tag of the condition union, not a field of the file
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            label = node.get("id") or node.get("licence") if isinstance(node, Mapping) else None
            if isinstance(label, str):
                text += f" ({label})"
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, Mapping) else None
    return text


def _check_rule_licence(path: Path, index: int, rule: Rule, licence_codes: set[str],
                        sub_types: Mapping[str, Collection[str]] | None) -> None:
    where = f"{path}: rules[{index}].licence"
    if rule.licence not in licence_codes:
        hint = None
        if rule.licence.startswith("hh_food_") and rule.licence != _FOOD_FAMILY:
            hint = f"use licence {_FOOD_FAMILY} with sub_type {rule.licence}"
        elif rule.licence in _REPLACED:
            hint = f"{rule.licence} was replaced by {_REPLACED[rule.licence]}"
        raise DefinitionError(f"{where}: unknown licence code {rule.licence!r}", hint=hint)
    if rule.sub_type is None or sub_types is None:
        return
    known = sub_types.get(rule.licence, ())
    if rule.sub_type not in known:
        raise DefinitionError(f"{path}: rules[{index}].sub_type: {rule.sub_type!r} is not a sub-type of "
                              f"{rule.licence}", hint=f"known: {', '.join(sorted(known)) or 'none'}")


def _reject_cycles(prerequisites: Mapping[str, list[str]]) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(code: str, path: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            cycle = path[path.index(code):] + [code]
            raise DefinitionError(f"prerequisites form a cycle: {' -> '.join(cycle)}")
        state[code] = 1
        for prior in prerequisites.get(code, []):
            visit(prior, [*path, code])
        state[code] = 2

    for code in sorted(prerequisites):
        visit(code, [])


def _check_leaf(leaf: Leaf, question: Question, where: str) -> None:
    operator = leaf.operator
    expected = {"equals": "single", "includes": "multi"}.get(operator, "number")
    if operator != "unanswered" and question.type != expected:
        raise ValueError(f"{where}: `{operator}` does not apply to {question.type} question {question.id!r}")
    choice = leaf.equals or leaf.includes
    if choice is not None and choice not in question.choice_ids():
        raise ValueError(f"{where}: question {question.id!r} has no choice {choice!r}")


def _validate_answers(business: BusinessTypeFinder, answers: Mapping[str, object]) -> dict[str, Answer]:
    """Check every answer against its question and return them in the shape the conditions read."""
    known = {question.id: question for question in business.questions}
    clean: dict[str, Answer] = {}
    for question_id, value in answers.items():
        question = known.get(question_id)
        if question is None:
            raise InvalidInput(f"unknown question {question_id!r} for business type {business.code!r}",
                               hint=f"GET /api/v1/business-types/{business.code} lists its questions",
                               details={"question": question_id})
        answer = _validate_answer(question, value)
        if answer is not None:
            clean[question_id] = answer
    for question_id in clean:
        question = known[question_id]
        if question.shown_if is not None and not question.shown_if.holds(clean):
            parents = ", ".join(sorted({leaf.question for leaf in question.shown_if.leaves()}))
            raise InvalidInput(f"contradictory answers: question {question_id!r} is a follow-up that is only asked "
                               f"after a matching answer to {parents}",
                               hint=f"answer {parents} so that {question_id!r} applies, or leave {question_id!r} out",
                               details={"question": question_id, "depends_on": parents})
    return clean


def _validate_answer(question: Question, value: object) -> Answer | None:
    if value is None:
        return None
    details: dict[str, Any] = {"question": question.id}
    if question.type == "number":
        number = _finite_number(value)
        if number is None:
            raise InvalidInput(f"question {question.id!r} takes a number, got {_shown(value)}",
                               hint=f"send a number{f' in {question.unit}' if question.unit else ''}", details=details)
        if number < 0:
            raise InvalidInput(f"question {question.id!r} takes a number of 0 or more, got {_shown(value)}",
                               hint="send 0 or a positive number", details=details)
        return number
    allowed = question.choice_ids()
    choices_hint = f"choices: {', '.join(allowed)}"
    if question.type == "single":
        if isinstance(value, list | tuple | set | frozenset):
            raise InvalidInput(f"question {question.id!r} takes one choice, got a list",
                               hint=f"send one of {', '.join(allowed)}", details=details)
        _known_choice(question, value, choices_hint)
        return str(value)
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"question {question.id!r} takes a list of choices, got {_shown(value)}",
                           hint=f"send a list; {choices_hint}", details=details)
    for item in value:
        _known_choice(question, item, choices_hint)
    ticked = frozenset(str(item) for item in value)
    for choice in question.choices:
        if choice.id not in ticked:
            continue
        clash = sorted(ticked - {choice.id}) if choice.exclusive else sorted(ticked & set(choice.forbids))
        if clash:
            raise InvalidInput(f"contradictory answers to {question.id!r}: choice {choice.id!r} cannot be ticked "
                               f"together with {', '.join(clash)}",
                               hint=f"untick {choice.id!r} or {', '.join(clash)}",
                               details={**details, "choice": choice.id, "conflicts_with": clash})
    return ticked or None


def _known_choice(question: Question, value: object, choices_hint: str) -> None:
    if not isinstance(value, str) or value not in question.choice_ids():
        raise InvalidInput(f"question {question.id!r} has no choice {_shown(value)}", hint=choices_hint,
                           details={"question": question.id, "choice": value if isinstance(value, str)
                                    else _shown(value)})


def _finite_number(value: object) -> float | None:
    """`value` as a float, or None unless it is a finite number (not a bool, NaN, an infinity or a huge int)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return number if math.isfinite(number) else None


def _shown(value: object) -> str:
    """A wrong answer as the error quotes it: its repr, cut short (the error body must stay valid JSON and
    small: NaN, infinities and huge numbers are not JSON values)."""
    shown = repr(value)
    return shown if len(shown) <= 80 else f"{shown[:77]}..."
