"""A licence's application form as data: its typed fields, the shared field definitions, and a validator.

Each manual lists its form fields (`form:` in ``bpmn/<code>/manual.yaml``); a field either refers to one of the
shared definitions in ``bpmn/form_fields.yaml`` (``use: seats``, optionally overriding ``required`` or
``feeds_fee``) or is defined in the manual itself. A field has a type (text, number with unit and bounds,
choice, date, yes/no), Thai and English labels and help, and may feed the licence's fee (`fee.parameter`).

From the fields a pydantic model is built once per manual (`FormDefinition.validator`): every field optional
(a draft may be incomplete), unknown fields refused; `missing_required` says what a submit still needs.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    create_model,
    model_validator,
)

from bizportal.engine.catalogue.data_checks import reject_duplicates
from bizportal.engine.catalogue.yaml_files import load_yaml
from bizportal.engine.errors import InvalidInput
from bizportal.engine.input_text import line, text

_SNAKE_CASE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
SHARED_FIELDS_FILE = "form_fields.yaml"
MAX_TEXT_LENGTH = 2000  # the generic outer limit of a form's text value (engine/applications/input.py)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

FieldType = Literal["text", "number", "choice", "date", "yes_no"]


class FormDefinitionError(ValueError):
    """The shared field file is missing, is not YAML, or breaks the schema (the message names the file)."""


class Choice(BaseModel):
    """One allowed value of a choice field, with its labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(pattern=_SNAKE_CASE)
    label_th: str = Field(min_length=1)
    label_en: str = Field(min_length=1)


class FormField(BaseModel):
    """One field of a licence's form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_SNAKE_CASE, max_length=64)
    type: FieldType
    required: bool = True
    label_th: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    help_th: str | None = None
    help_en: str | None = None
    # number: the unit shown beside the value (m2, seats, hp, kW, persons, ...) and inclusive bounds
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    # text: the longest value accepted
    max_length: int | None = Field(default=None, ge=1, le=MAX_TEXT_LENGTH)
    multiline: bool = False
    # choice: the allowed values
    choices: list[Choice] = Field(default_factory=list)
    # number: the licence's `fee.parameter` may name this field (the fee is set from its validated value)
    feeds_fee: bool = False

    @model_validator(mode="after")
    def _fits_its_type(self) -> FormField:
        number_only = {"unit": self.unit, "minimum": self.minimum, "maximum": self.maximum,
                       "integer": self.integer or None, "feeds_fee": self.feeds_fee or None}
        if self.type != "number":
            stray = [key for key, value in number_only.items() if value is not None]
            if stray:
                raise ValueError(f"field {self.name!r} of type {self.type} cannot have {', '.join(stray)} "
                                 "(number fields only)")
        else:
            if self.minimum is None or self.maximum is None:
                raise ValueError(f"number field {self.name!r} needs both minimum and maximum")
            if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)) or self.minimum > self.maximum:
                raise ValueError(f"number field {self.name!r} has bad bounds: minimum {self.minimum} is above "
                                 f"maximum {self.maximum}")
            if abs(self.maximum) > 2**53 or abs(self.minimum) > 2**53:
                raise ValueError(f"number field {self.name!r} has bounds beyond what JSON numbers hold exactly")
        if self.type == "choice":
            if len(self.choices) < 2:
                raise ValueError(f"choice field {self.name!r} needs at least two choices")
            reject_duplicates([choice.value for choice in self.choices], f"choice of {self.name!r}")
        elif self.choices:
            raise ValueError(f"field {self.name!r} of type {self.type} cannot have choices (choice fields only)")
        if self.type != "text" and (self.max_length is not None or self.multiline):
            raise ValueError(f"field {self.name!r} of type {self.type} cannot have max_length or multiline "
                             "(text fields only)")
        return self

    def allowed(self) -> dict[str, Any]:
        """What the field accepts, for an error's details and for clients building the input."""
        allowed: dict[str, Any] = {"type": self.type}
        if self.type == "number":
            allowed |= {"minimum": self.minimum, "maximum": self.maximum, "unit": self.unit,
                        "integer": self.integer}
        elif self.type == "choice":
            allowed["choices"] = [choice.value for choice in self.choices]
        elif self.type == "date":
            allowed["format"] = "YYYY-MM-DD"
        elif self.type == "text":
            allowed["max_length"] = self.text_limit
        return allowed

    def describe(self) -> str:
        """`allowed()` in words, for an error message."""
        if self.type == "number":
            kind = "a whole number" if self.integer else "a number"
            unit = f" {self.unit}" if self.unit else ""
            return f"{kind} from {_number(self.minimum)} to {_number(self.maximum)}{unit}"
        if self.type == "choice":
            return "one of " + ", ".join(repr(choice.value) for choice in self.choices)
        if self.type == "date":
            return "a date written YYYY-MM-DD"
        if self.type == "yes_no":
            return "true or false"
        return f"text of at most {self.text_limit} characters"

    @property
    def text_limit(self) -> int:
        return self.max_length or 300

    def example(self) -> Any:
        """A valid value, for documentation and test data."""
        if self.type == "number":
            low = self.minimum if self.minimum is not None else 0
            value = max(low, min(1, self.maximum if self.maximum is not None else 1))
            return int(math.ceil(value)) if self.integer else value
        if self.type == "choice":
            return self.choices[0].value
        if self.type == "date":
            return "2027-01-15"
        if self.type == "yes_no":
            return False
        return "ตัวอย่าง"

    def annotation(self) -> Any:
        """The pydantic type of the field's value (strict: a number is never read from a string)."""
        if self.type == "number":
            base: Any = StrictInt if self.integer else StrictInt | StrictFloat
            return Annotated[base, Field(ge=self.minimum, le=self.maximum), AfterValidator(_finite)]
        if self.type == "choice":
            return Literal[tuple(choice.value for choice in self.choices)]
        if self.type == "date":
            return Annotated[str, Field(pattern=DATE_PATTERN), AfterValidator(_calendar_date)]
        if self.type == "yes_no":
            return StrictBool
        guard = text(self.text_limit, min_length=1) if self.multiline else line(self.text_limit, min_length=1)
        return Annotated[str, guard]


def _number(value: float | None) -> str:
    return "" if value is None else (str(int(value)) if float(value).is_integer() else str(value))


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _calendar_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError as err:
        raise ValueError(f"{value!r} is no calendar date (YYYY-MM-DD)") from err
    return value


class FieldRef(BaseModel):
    """A manual's use of a shared field, optionally overriding whether it is required or feeds the fee."""

    model_config = ConfigDict(extra="forbid")

    use: str = Field(pattern=_SNAKE_CASE)
    required: bool | None = None
    feeds_fee: bool | None = None


class FormDefinition(BaseModel):
    """A licence's form: its fields in order, and the validator built from them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[FormField] = Field(default_factory=list)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @cached_property
    def validator(self) -> type[BaseModel]:
        """A model with every field optional (a draft may be incomplete) and no other field allowed."""
        definitions: dict[str, Any] = {f.name: (f.annotation() | None, None) for f in self.fields}
        return create_model("LicenceForm", __config__=ConfigDict(extra="forbid"), **definitions)

    def validate_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values, checked; a null is the same as leaving the field out.

        Raises:
            ValidationError: naming each field that is unknown or invalid.
        """
        checked = self.validator.model_validate(dict(values))
        return {name: value for name, value in checked.model_dump().items() if value is not None}

    def missing_required(self, values: Mapping[str, Any]) -> list[str]:
        """The required fields without a value, in the form's order."""
        return [f.name for f in self.fields if f.required and values.get(f.name) is None]


def resolve_fields(entries: list[Any], shared: Mapping[str, FormField]) -> list[dict[str, Any]]:
    """A manual's `form` entries with each `use:` replaced by the shared field it names (plain data out).

    Raises:
        ValueError: a reference to no shared field.
    """
    resolved: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, dict) and "use" in entry:
            ref = FieldRef.model_validate(entry)
            if ref.use not in shared:
                raise ValueError(f"form field `use: {ref.use}` names no shared field "
                                 f"(those are defined in bpmn/{SHARED_FIELDS_FILE})")
            data = shared[ref.use].model_dump()
            data |= {key: value for key, value in (("required", ref.required), ("feeds_fee", ref.feeds_fee))
                     if value is not None}
            resolved.append(data)
        else:
            resolved.append(entry)
    return resolved


class _SharedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FormField]


def load_shared_fields(path: Path) -> dict[str, FormField]:
    """Read `form_fields.yaml`: the field definitions manuals share.

    Raises:
        FormDefinitionError: the file cannot be read, is not YAML, breaks the schema or repeats a name, naming
            the file and the field.
    """
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise FormDefinitionError(f"{path}: cannot read the shared form fields: {err}") from err
    try:
        fields = _SharedFile.model_validate(data).fields
        reject_duplicates([f.name for f in fields], "form field")
    except ValidationError as err:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
        raise FormDefinitionError("\n".join(lines)) from err
    except ValueError as err:
        raise FormDefinitionError(f"{path}: fields: {err}") from err
    return {f.name: f for f in fields}


def shared_fields_path(root: Path) -> Path:
    """Where the shared fields of the licence folders under `root` are: in `root`, else the installed
    catalogue's file (a test's folder that copies a few manuals)."""
    beside = root / SHARED_FIELDS_FILE
    if beside.exists():
        return beside
    return Path(__file__).resolve().parents[2] / "bpmn" / SHARED_FIELDS_FILE


@functools.cache
def installed_shared_fields() -> dict[str, FormField]:
    """The installed catalogue's shared fields: what a manual validated without others given resolves against.

    Raises:
        FormDefinitionError: the installed file is broken.
    """
    return load_shared_fields(shared_fields_path(Path(__file__).resolve().parents[2] / "bpmn"))


class FilledField(BaseModel):
    """One field of a licence's form with the applicant's value, labelled for an officer."""

    name: str
    type: str
    label_th: str
    label_en: str
    unit: str | None = None
    required: bool
    value: Any = Field(description="the value as sent (null when not given)")
    value_th: str | None = Field(default=None, description="a choice's or yes/no's label in Thai")
    value_en: str | None = Field(default=None, description="a choice's or yes/no's label in English")


def filled(definition: FormDefinition, values: Mapping[str, Any]) -> list[FilledField]:
    """Each field of the form with its value and labels; a stored value no field names is shown last, unlabelled
    (a form sent before its licence declared fields)."""
    shown: list[FilledField] = []
    for f in definition.fields:
        value = values.get(f.name)
        value_th = value_en = None
        if f.type == "choice":
            choice = next((c for c in f.choices if c.value == value), None)
            value_th, value_en = (choice.label_th, choice.label_en) if choice else (None, None)
        elif f.type == "yes_no" and isinstance(value, bool):
            value_th, value_en = ("ใช่", "yes") if value else ("ไม่ใช่", "no")
        shown.append(FilledField(name=f.name, type=f.type, label_th=f.label_th, label_en=f.label_en, unit=f.unit,
                                 required=f.required, value=value, value_th=value_th, value_en=value_en))
    for name, value in values.items():
        if definition.field(name) is None:
            shown.append(FilledField(name=name, type="unknown", label_th=name, label_en=name, required=False,
                                     value=value))
    return shown


def checked_values(licence: str, definition: FormDefinition, values: Mapping[str, Any]) -> dict[str, Any]:
    """A licence's form values validated against its definition (nulls dropped).

    Raises:
        InvalidInput: naming `form.<licence>.<field>` of the first bad field and what it allows; `details.errors`
            lists every bad field.
    """
    try:
        return definition.validate_values(values)
    except ValidationError as err:
        errors = [_form_error(licence, definition, error) for error in err.errors()]
        first = errors[0]
        raise InvalidInput(f"{first['field']}: {first['message']}",
                           hint=f"GET /api/v1/licences/{licence} lists the form's fields and what each allows",
                           details={"field": first["field"], "allowed": first["allowed"], "errors": errors}) from err


def _form_error(licence: str, definition: FormDefinition, error: Any) -> dict[str, Any]:
    name = str(error["loc"][0]) if error["loc"] else ""
    field = definition.field(name)
    path = f"form.{licence}.{name}"
    if field is None:
        names = [f.name for f in definition.fields]
        return {"field": path, "message": f"{licence} has no form field {name!r}; its fields are "
                f"{', '.join(names) or '(none)'}", "allowed": {"fields": names}}
    got = error.get("input")
    shown = repr(got) if isinstance(got, str | int | float | bool) and len(repr(got)) <= 60 else type(got).__name__
    return {"field": path, "message": f"must be {field.describe()} (got {shown}: {error['msg']})",
            "allowed": field.allowed()}


def missing_values(licence: str, definition: FormDefinition, values: Mapping[str, Any]) -> list[str]:
    """The paths (`form.<licence>.<field>`) of required fields without a value."""
    return [f"form.{licence}.{name}" for name in definition.missing_required(values)]
