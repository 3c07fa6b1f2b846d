"""What an applicant (or a counter officer for them) sends to open an application."""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bizportal.engine.applications.consents import ConsentInput
from bizportal.engine.applications.thai_id import ThaiIdNumber, check_holder_kind
from bizportal.engine.input_text import line, text

LicenceCode = Annotated[str, line(100, min_length=1)]


class ApplicantInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["individual", "juristic"]
    id_number: ThaiIdNumber = Field(description="13-digit citizen ID (starts with 1-8) or juristic-person "
                                    "registration number (starts with 0); ASCII digits, dashes and spaces allowed")
    name: Annotated[str, line(300, min_length=1)]
    email: Annotated[str, line(320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = Field(
        default=None, description="where notifications go (documents travel as links, never attachments)")
    language: Literal["th", "en"] = "th"

    @field_validator("id_number")
    @classmethod
    def _number_fits_kind(cls, value: str, info: ValidationInfo) -> str:
        if "kind" in info.data:  # otherwise `kind` itself is reported
            check_holder_kind(value, info.data["kind"])
        return value


class BusinessInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, line(300, min_length=1)]
    address: Annotated[str, text(1000, min_length=1)]
    province: Annotated[str, line(100, min_length=1)]
    district: Annotated[str, line(100)] | None = Field(
        default=None, description="district (เขต/อำเภอ): routes local-government licences to their office")
    area_m2: float = Field(gt=0, le=1_000_000, description="usable floor area in square metres: the fee is "
                           "computed from it")


# --- `form`: each licence's own fields ---------------------------------------------------------------
# Each licence declares its typed form in its manual (engine/catalogue/forms.py); the engine checks the values
# against it (engine/applications/forms.py), since only the catalogue knows the fields. Here, on the request
# body, is the outer limit every form keeps whatever its licence: a flat mapping of bounded keys to JSON scalars,
# within a bounded size, so no value can poison a later step before the typed check runs.

MAX_FORM_FIELDS = 50
MAX_FORM_TEXT = 2000
MAX_FORM_BYTES = 32 * 1024
MAX_SAFE_INTEGER = 2**53 - 1  # read exactly by every JSON reader


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _scalar_kind(value: object) -> str | None:
    """Which kind of scalar `value` is, so a wrong value gets one error, not one per kind tried."""
    kinds: tuple[tuple[type, str], ...] = ((type(None), "null"), (bool, "boolean"), (int, "integer"),
                                           (float, "number"), (str, "string"))  # bool before int: True is an int
    return next((kind for cls, kind in kinds if isinstance(value, cls)), None)


FormValue = Annotated[
    Annotated[None, Tag("null")]
    | Annotated[StrictBool, Tag("boolean")]
    | Annotated[StrictInt, Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER), Tag("integer")]
    | Annotated[float, Field(strict=True), AfterValidator(_finite), Tag("number")]
    | Annotated[str, text(MAX_FORM_TEXT), Tag("string")],
    Discriminator(_scalar_kind, custom_error_type="form_value",
                  custom_error_message="must be a string, a finite number, true/false or null (one value, "
                                       "not a list or an object)"),
]
LicenceFields = Annotated[dict[Annotated[str, line(64, min_length=1, pattern=r"^[a-z][a-z0-9_]*$")], FormValue],
                          Field(max_length=MAX_FORM_FIELDS)]
# Business fields are given once, in `business`, where they are validated (the fee reads `business.area_m2`).
RESERVED_FORM_KEYS = frozenset(BusinessInput.model_fields)


FORM_DESCRIPTION = (
    "per licence code, that licence's form: a JSON object of its fields (`form` of GET /api/v1/licences/{code} "
    "lists them: name, type text|number|choice|date|yes_no, unit, bounds, choices, required, Thai and English "
    "labels). Values are strings, numbers, true/false, dates as \"YYYY-MM-DD\", or null (= not given). Each is "
    "checked against its field when the draft is created or changed; an unknown or invalid field is a 422 naming "
    "`form.<licence>.<field>` and what it allows. Required fields may be missing from a draft, not at submit. "
    f"Outer limits: at most {MAX_FORM_FIELDS} fields, texts of at most {MAX_FORM_TEXT} characters, "
    f"{MAX_FORM_BYTES // 1024} KiB in all. A fee is set only from validated fields (`business.area_m2`, or the form "
    f"field a licence's `fee.parameter` names); the business's own fields "
    f"({', '.join(sorted(RESERVED_FORM_KEYS))}) belong in `business`")


def _unique_licences(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("each licence may be listed once")
    return value


def _bounded_form(form: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    for licence, fields in form.items():
        shadowed = sorted(RESERVED_FORM_KEYS & set(fields))
        if shadowed:
            raise ValueError(f"{licence}: business fields go in `business`, not in `form` "
                             f"({', '.join(shadowed)}): there they are validated and the officer sees them "
                             "(the fee is computed from business.area_m2)")
    size = len(json.dumps(form, ensure_ascii=False).encode())
    if size > MAX_FORM_BYTES:
        raise ValueError(f"form is {size} bytes; at most {MAX_FORM_BYTES} are accepted")
    return form


class ApplicationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    licences: list[LicenceCode] = Field(min_length=1, max_length=80, description="licence codes from the catalogue")
    applicant: ApplicantInput
    business: BusinessInput
    form: dict[LicenceCode, LicenceFields] = Field(default_factory=dict, max_length=80, description=FORM_DESCRIPTION)
    consent: ConsentInput | None = Field(
        default=None, description="required when a counter officer files for an entrepreneur (and only then): the "
        "consent they took; the application is the entrepreneur's, and the counter acts for them while it holds")

    @field_validator("licences")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _unique_licences(value)

    @field_validator("form")
    @classmethod
    def _form_bounded(cls, form: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        return _bounded_form(form)


# --- changing a draft (PATCH) --------------------------------------------------------------------------------


class ApplicantChange(BaseModel):
    """The applicant's details a draft may change; the ID number and kind decide whose application it is, and
    stay."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, line(300, min_length=1)] | None = None
    email: Annotated[str, line(320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    language: Literal["th", "en"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _owner_stays(cls, value: object) -> object:
        if isinstance(value, dict):
            fixed = sorted({"id_number", "kind"} & set(value))
            if fixed:
                raise ValueError(f"{' and '.join(fixed)} cannot change: they decide whose application it is "
                                 "(create a new application in the other name)")
        return value


class BusinessChange(BaseModel):
    """The business's details to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, line(300, min_length=1)] | None = None
    address: Annotated[str, text(1000, min_length=1)] | None = None
    province: Annotated[str, line(100, min_length=1)] | None = None
    district: Annotated[str, line(100)] | None = None
    area_m2: float | None = Field(default=None, gt=0, le=1_000_000)


class ApplicationChange(BaseModel):
    """A change of a draft: every part optional, and a part left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    licences: list[LicenceCode] | None = Field(
        default=None, min_length=1, max_length=80, description="the licences applied for, replacing the list: the "
        "draft is routed again and its forms checked again; a dropped licence's form is dropped")
    applicant: ApplicantChange | None = None
    business: BusinessChange | None = Field(default=None, description="fields to change; a new province or "
                                            "district routes local-government licences to that office")
    form: dict[LicenceCode, LicenceFields] | None = Field(
        default=None, max_length=80, description="per licence code given, that licence's whole form, replacing "
        "the one stored (send {} to empty it); licences not given keep theirs. " + FORM_DESCRIPTION)

    @field_validator("licences")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique_licences(value)

    @field_validator("form")
    @classmethod
    def _form_bounded(cls, form: dict[str, dict[str, object]] | None) -> dict[str, dict[str, object]] | None:
        return None if form is None else _bounded_form(form)
