"""The citizen's manual of a licence (Licensing Facilitation Act B.E. 2558, s.7) as validated data.

Each licence keeps its manual next to its process: ``bpmn/<licence code>/manual.yaml``. The manual states
the steps and the working days each takes, the documents, the fee and the facts a service directory
needs (identity assurance level, e-licence, public display), and the application form the applicant fills in
(engine/catalogue/forms.py; shared fields come from ``bpmn/form_fields.yaml``). Values inferred rather than taken
from a source are listed by dotted path in ``unverified`` so they can be checked later.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError, PydanticKnownError

from bizportal.engine.assurance import Ial, LevelError, Requirement, parse_aal, parse_ial
from bizportal.engine.catalogue.data_checks import reject_duplicates
from bizportal.engine.catalogue.forms import (
    FormDefinition,
    FormDefinitionError,
    FormField,
    installed_shared_fields,
    load_shared_fields,
    resolve_fields,
    shared_fields_path,
)
from bizportal.engine.catalogue.yaml_files import load_yaml

_SNAKE_CASE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


class ManualError(Exception):
    """A manual file is missing, is not YAML, or does not match the schema."""


class Step(BaseModel):
    """One step of the procedure with the working days the manual promises for it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_SNAKE_CASE)
    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    working_days: int = Field(ge=0)
    lane: Literal["agency", "applicant", "system"]
    # What the step is, which decides how a process shape renders it: the document check (with its one
    # request for more documents, s.8), a decision step (review, inspection, committee, opinions of other
    # agencies, public hearing: approve or reject), or the issuing of the licence after the fee.
    kind: Literal["document_check", "review", "inspection", "committee", "opinion", "public_hearing", "issue"]


class Document(BaseModel):
    """A document the applicant must provide, or that the platform looks up instead."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_SNAKE_CASE)
    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    required: bool
    # True when the platform fetches it from a data exchange (DOPA linkage, GDX) instead of asking
    # for an upload: government may no longer ask citizens for copies of ID cards or house registration.
    obtained_by_exchange: bool = False


class FeeBand(BaseModel):
    """Amount due while the fee parameter is at most ``up_to`` (no upper bound when None)."""

    model_config = ConfigDict(extra="forbid")

    up_to: float | None = Field(default=None, ge=0)
    amount_satang: int = Field(ge=0)


class FeeRule(BaseModel):
    """How the fee is set, in integer satang.

    ``fixed``: always ``min_satang``. ``range``/``from``: between ``min_satang`` and ``max_satang``
    (``from`` may be open-ended); when ``parameter`` is set the amount follows ``bands``, otherwise the
    agency assesses it. ``none``: no fee.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["fixed", "range", "from", "none"]
    min_satang: int | None = Field(default=None, ge=0)
    # validate_default: the cross-field checks below must also run when the field is left out.
    max_satang: int | None = Field(default=None, ge=0, validate_default=True)
    # Fee parameters come only from validated fields (engine/payments/fees.py): `area_m2` is the business's
    # floor area (`business.area_m2`); any other name is a number field of the licence's form marked
    # `feeds_fee` (checked by LicenceManual).
    parameter: str | None = Field(default=None, pattern=_SNAKE_CASE)
    bands: list[FeeBand] = Field(default_factory=list, validate_default=True)
    currency: Literal["THB"] = "THB"
    # The portal's policy unless a manual says otherwise: an unpaid invoice expires after this many
    # calendar days (the last day moved to the next working day, when payment counters are open).
    payment_days: int = Field(default=30, ge=1, le=180)

    @field_validator("max_satang")
    @classmethod
    def _max_not_below_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        minimum = info.data.get("min_satang")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(f"max_satang ({value}) is below min_satang ({minimum})")
        fee_type = info.data.get("type")
        if fee_type == "fixed" and minimum is None:
            raise ValueError("a fixed fee needs min_satang")
        if fee_type == "fixed" and value is not None and value != minimum:
            raise ValueError("a fixed fee has max_satang equal to min_satang, or none")
        if fee_type == "range" and (minimum is None or value is None):
            raise ValueError("a range fee needs both min_satang and max_satang")
        if fee_type == "from" and minimum is None:
            raise ValueError("a 'from' fee needs min_satang")
        if fee_type == "none" and (minimum or value):
            raise ValueError("a fee of type 'none' has no amounts")
        return value

    @field_validator("bands")
    @classmethod
    def _bands_consistent(cls, bands: list[FeeBand], info: ValidationInfo) -> list[FeeBand]:
        parameter = info.data.get("parameter")
        if parameter is None:
            if bands:
                raise ValueError("bands need a parameter to compare with")
            return bands
        if not bands:
            raise ValueError(f"parameter {parameter!r} needs bands")
        if info.data.get("type") in ("fixed", "none"):
            raise ValueError(f"a fee of type {info.data.get('type')!r} has no bands")
        limits = [band.up_to for band in bands]
        if None in limits[:-1]:
            raise ValueError("only the last band may be open-ended (up_to: null)")
        bounded = [limit for limit in limits if limit is not None]
        if any(later <= earlier for earlier, later in zip(bounded, bounded[1:], strict=False)):
            raise ValueError("bands must be in ascending order of up_to")
        minimum, maximum = info.data.get("min_satang"), info.data.get("max_satang")
        for band in bands:
            if minimum is not None and band.amount_satang < minimum:
                raise ValueError(f"band amount {band.amount_satang} is below min_satang ({minimum})")
            if maximum is not None and band.amount_satang > maximum:
                raise ValueError(f"band amount {band.amount_satang} is above max_satang ({maximum})")
        return bands

    def amount_for(self, parameters: Mapping[str, float]) -> int:
        """Return the fee in satang for the given applicant parameters.

        Args:
            parameters: values such as ``{"area_m2": 80}``; only ``self.parameter`` is read.

        Returns:
            The amount in satang (an int; no float arithmetic on money).

        Raises:
            ValueError: the parameter is missing or out of the bands, or the agency sets the amount.
        """
        if self.type == "none":
            return 0
        if self.type == "fixed" and self.min_satang is not None:
            return self.min_satang
        if self.parameter is None:
            raise ValueError(f"the {self.type} fee has no rule: the agency assesses the amount")
        if self.parameter not in parameters:
            raise ValueError(f"fee parameter {self.parameter!r} is missing")
        value = parameters[self.parameter]
        if value < 0:
            raise ValueError(f"fee parameter {self.parameter!r} is negative: {value}")
        for band in self.bands:
            if band.up_to is None or value <= band.up_to:
                return band.amount_satang
        raise ValueError(f"fee parameter {self.parameter!r}={value} is above the last band ({self.bands[-1].up_to})")


class SubType(BaseModel):
    """One trade of a licence family chosen from a list (e.g. the 26 food health-hazard trades)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_SNAKE_CASE)
    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class LicenceManual(BaseModel):
    """The citizen's manual of one licence."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_SNAKE_CASE)
    name_th: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    agency: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    total_working_days: int = Field(ge=0)
    documents: list[Document]
    fee: FeeRule
    validity_years: int | None = Field(default=None, ge=1)
    # True when the law or the agency requires filing in person: an applicant cannot file it online, a counter
    # officer files it for them (engine/applications/applications.py).
    must_file_at_counter: bool = False
    elicence: bool
    public_display_required: bool
    # The identity assurance (IAL) and authenticator assurance (AAL) levels an applicant's sign-in needs to
    # submit, pay online and download the e-licence (DGA Digital ID, engine/assurance.py). `ial` is a whole
    # level 1..3 (any sub-level satisfies it: 2.3 satisfies 2) or a sub-level in DGA notation ("2.2");
    # `aal` is 1..3.
    ial: int | str
    aal: int = Field(ge=1, le=3)
    prerequisites: list[str] = Field(default_factory=list)
    channel_discount_percent: int = Field(default=0, ge=0, le=100)
    # Which process the licence runs: a generated shape (bpmn_generator) or `custom`, a hand-written
    # process.bpmn that the generator leaves alone.
    shape: Literal["notification", "registration", "permit", "permit_inspection", "permit_committee", "custom"]
    # `local_office`: the case goes to the local office of the business's location (local governments,
    # BMA districts); `central`: to the agency itself.
    routing: Literal["central", "local_office"]
    validity_note: str | None = None
    variants: list[Literal["renew", "amend", "cancel", "annual_fee"]] = Field(default_factory=list)
    sub_types: list[SubType] = Field(default_factory=list)
    business_types: list[str] = Field(default_factory=list)
    manual_url: str | None = None
    remarks: str | None = None
    # The application form: what the applicant fills in for this licence (engine/catalogue/forms.py). In the YAML
    # a list of fields, each `use: <shared field>` (bpmn/form_fields.yaml) or a field defined here.
    form: FormDefinition = Field(default_factory=FormDefinition)
    # Required on purpose: every manual states which of its values are inferred (possibly none).
    unverified: list[str]

    @field_validator("ial", mode="plain")
    @classmethod
    def _ial_in_dga_notation(cls, value: object) -> int | str:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise PydanticKnownError("greater_than_equal", {"ge": 1})
            if value > 3:
                raise PydanticKnownError("less_than_equal", {"le": 3})
            return value
        if isinstance(value, str):
            try:
                return str(parse_ial(value))
            except LevelError as err:
                raise PydanticCustomError("ial", str(err)) from err
        raise PydanticCustomError("ial", "Input should be a whole level 1..3 or an IAL in DGA notation ('2.2')")

    @field_validator("aal", mode="before")
    @classmethod
    def _aal_as_number(cls, value: object) -> object:
        if isinstance(value, str):  # "2" as DGA writes it
            try:
                return parse_aal(value)
            except LevelError as err:
                raise PydanticCustomError("aal", str(err)) from err
        return value

    @field_validator("steps")
    @classmethod
    def _unique_step_ids(cls, steps: list[Step]) -> list[Step]:
        reject_duplicates([step.id for step in steps], "step id")
        return steps

    @field_validator("total_working_days")
    @classmethod
    def _total_is_sum_of_steps(cls, total: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None:
            step_sum = sum(step.working_days for step in steps)
            if total != step_sum:
                raise ValueError(f"total_working_days is {total} but the steps add up to {step_sum}")
        return total

    @field_validator("documents")
    @classmethod
    def _unique_document_ids(cls, documents: list[Document]) -> list[Document]:
        reject_duplicates([document.id for document in documents], "document id")
        return documents

    @field_validator("unverified")
    @classmethod
    def _unverified_paths_exist(cls, paths: list[str], info: ValidationInfo) -> list[str]:
        reject_duplicates(paths, "unverified path")
        for path in paths:
            root, _, rest = path.partition(".")
            if root not in cls.model_fields or root == "unverified":
                raise ValueError(f"unverified path {path!r} names no field of the manual")
            if root not in info.data:
                continue  # that field failed validation itself and is reported there
            if rest and not _resolves(info.data[root], rest.split(".")):
                raise ValueError(f"unverified path {path!r} names no value in the manual")
        return paths

    @field_validator("form", mode="before")
    @classmethod
    def _resolve_shared_fields(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, list):
            return value
        shared = (info.context or {}).get("shared_fields")
        if shared is None:  # validated on its own (not by load_manual): the installed catalogue's shared fields
            try:
                shared = installed_shared_fields()
            except FormDefinitionError as err:
                raise ValueError(str(err)) from err
        fields = resolve_fields(value, shared)
        names = [f.get("name") for f in fields if isinstance(f, dict)]
        reject_duplicates([name for name in names if isinstance(name, str)], "form field")
        return {"fields": fields}

    @model_validator(mode="after")
    def _fee_parameter_is_a_validated_field(self) -> LicenceManual:
        parameter = self.fee.parameter
        feeding = [f.name for f in self.form.fields if f.feeds_fee]
        if parameter is None or parameter == "area_m2":
            if feeding:
                raise ValueError(f"form field(s) {', '.join(feeding)} feed the fee, but fee.parameter is "
                                 f"{parameter!r}: name the field in fee.parameter or drop feeds_fee")
            return self
        field = self.form.field(parameter)
        if field is None or field.type != "number" or not field.feeds_fee:
            raise ValueError(f"fee.parameter {parameter!r} must be `area_m2` (business.area_m2) or a number field "
                             "of the form marked `feeds_fee: true`: the fee is computed only from validated fields")
        if not field.required:
            raise ValueError(f"form field {parameter!r} feeds the fee, so it must be required")
        if feeding != [parameter]:
            raise ValueError(f"only the fee parameter {parameter!r} may feed the fee, not {', '.join(feeding)}")
        return self

    @property
    def ial_level(self) -> Ial:
        """`ial` as a level to compare with a sign-in's."""
        return parse_ial(self.ial)

    @property
    def assurance(self) -> Requirement:
        """The levels an applicant's sign-in needs for this licence (engine/assurance.py `require`)."""
        return Requirement(ial=self.ial_level, aal=self.aal, what=self.code)

    @property
    def fee_assessed_by_agency(self) -> bool:
        """True when no rule computes the fee: the officer sets it within the range when approving."""
        return self.fee.type in ("range", "from") and self.fee.parameter is None

    @property
    def final_decision_step(self) -> str:
        """The last step before issuing: where the licence is approved, and an assessed fee is set."""
        decisions = [step for step in self.steps if step.kind != "issue"]
        return decisions[-1].id

    def step(self, step_id: str) -> Step:
        """Return the step with this id.

        Raises:
            KeyError: no step has this id.
        """
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def _resolves(value: Any, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(value, list):
            if not part.isdigit() or int(part) >= len(value):
                return False
            value = value[int(part)]
        elif isinstance(value, BaseModel):
            if part not in type(value).model_fields:
                return False
            value = getattr(value, part)
        else:
            return False
    return True


def _format_loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_manual(path: Path, shared_fields: dict[str, FormField] | None = None) -> LicenceManual:
    """Read and validate a manual YAML file.

    Args:
        path: the ``manual.yaml`` file.
        shared_fields: the shared form fields its `form` may `use`; by default read from ``form_fields.yaml``
            beside the licence folders (or the installed catalogue's).

    Returns:
        The validated manual.

    Raises:
        ManualError: the file cannot be read, is not YAML, or breaks the schema; the message names the
            file and every bad field, e.g. ``bpmn/x/manual.yaml: fee.min_satang: Input should be ...``.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManualError(f"{path}: cannot read the manual: {exc}") from exc
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ManualError(f"{path}: not valid YAML: {exc}") from exc
    if shared_fields is None:
        try:
            shared_fields = load_shared_fields(shared_fields_path(Path(path).parent.parent))
        except FormDefinitionError as exc:
            raise ManualError(str(exc)) from exc
    try:
        return LicenceManual.model_validate(data, context={"shared_fields": shared_fields})
    except ValidationError as exc:
        lines = [f"{path}: {_format_loc(error['loc'])}: {error['msg']}" for error in exc.errors()]
        raise ManualError("\n".join(lines)) from exc
