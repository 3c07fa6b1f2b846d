"""Each licence's typed form: every manual's form loads, bad definitions stop loading naming the file, and the
validator built from a form refuses each kind of bad value naming `form.<licence>.<field>`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bizportal.engine.catalogue.catalogue import load_catalogue
from bizportal.engine.catalogue.forms import (
    SHARED_FIELDS_FILE,
    FormDefinition,
    FormField,
    checked_values,
    filled,
    load_shared_fields,
)
from bizportal.engine.catalogue.manual import LicenceManual, ManualError, load_manual
from bizportal.engine.errors import DefinitionError, InvalidInput
from bizportal.engine.payments.fees import fee_by_rule

BPMN = Path(__file__).resolve().parents[3] / "bpmn"
MANUAL_FILES = sorted(BPMN.glob("*/manual.yaml"))
LICENCE = "food_premises_notice_small"


@pytest.fixture(scope="module")
def manuals() -> dict[str, LicenceManual]:
    return load_catalogue(BPMN).licences


def test_every_manual_has_a_short_form_that_builds_a_validator(manuals: dict[str, LicenceManual]) -> None:
    assert len(manuals) == 78
    for code, manual in manuals.items():
        fields = manual.form.fields
        assert 2 <= len(fields) <= 8, code
        assert any(f.required for f in fields), code
        assert "form" in manual.unverified, f"{code}: inferred fields are marked unverified"
        # The examples of every field validate: the definitions are consistent with their own bounds.
        example = {f.name: f.example() for f in fields}
        assert manual.form.validate_values(example) == example, code
        assert manual.form.missing_required(example) == []


def test_shared_fields_are_defined_once_and_used(manuals: dict[str, LicenceManual]) -> None:
    shared = load_shared_fields(BPMN / SHARED_FIELDS_FILE)
    used = {f.name for manual in manuals.values() for f in manual.form.fields}
    assert {"seats", "rooms", "machine_power_hp", "workers", "opening_date"} <= set(shared)
    assert set(shared) <= used, f"shared fields no manual uses: {sorted(set(shared) - used)}"
    # `use:` copies the definition: labels and units come from the shared file.
    assert manuals["hotel_business_licence"].form.field("rooms") == shared["rooms"]
    # An override changes only what it names.
    seats = manuals[LICENCE].form.field("seats")
    assert seats is not None and not seats.required and seats.unit == shared["seats"].unit


def test_the_catalogue_answer_holds_the_form(manuals: dict[str, LicenceManual]) -> None:
    dumped = manuals[LICENCE].model_dump(mode="json")["form"]["fields"]
    assert dumped[0]["name"] == "premises_kind" and dumped[0]["choices"][0]["value"] == "restaurant"


# --- loading checks ------------------------------------------------------------------------------------------


def write_manual(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load((BPMN / LICENCE / "manual.yaml").read_text(encoding="utf-8"))
    change(data)
    folder = tmp_path / LICENCE
    folder.mkdir(exist_ok=True)
    path = folder / "manual.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def own(**extra: Any) -> dict[str, Any]:
    return {"name": "tables", "type": "number", "label_th": "จำนวนโต๊ะ", "label_en": "Tables", "minimum": 0,
            "maximum": 100, **extra}


@pytest.mark.parametrize(("entry", "message"), [
    (own(type="colour"), "Input should be 'text', 'number', 'choice', 'date' or 'yes_no'"),
    (own(minimum=10, maximum=1), "bad bounds"),
    (own(maximum=None), "needs both minimum and maximum"),
    (own(type="choice", minimum=None, maximum=None), "needs at least two choices"),
    (own(type="text", minimum=None, maximum=None, choices=[{"value": "a", "label_th": "a", "label_en": "a"}]),
     "cannot have choices"),
    (own(type="date"), "cannot have minimum, maximum"),
    ({"use": "no_such_field"}, "names no shared field"),
    ({"use": "seats"}, "duplicate form field 'seats'"),
    (own(colour="red"), "Extra inputs are not permitted"),
])
def test_a_bad_form_field_names_the_file(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    path = write_manual(tmp_path, lambda d: d["form"].append(entry))
    with pytest.raises(ManualError, match=message) as error:
        load_manual(path)
    assert str(error.value).startswith(f"{path}: ")


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["fee"].update(parameter="seats"), "must be `area_m2` .* or a number field of the form marked"),
    (lambda d: d["fee"].update(parameter="premises_kind"), "or a number field"),
    (lambda d: d["form"].append({"use": "rooms", "feeds_fee": True}), "feed the fee, but fee.parameter is"),
])
def test_a_fee_parameter_must_be_a_validated_number_field(tmp_path: Path, change: Callable[[dict[str, Any]], None],
                                                          message: str) -> None:
    with pytest.raises(ManualError, match=message):
        load_manual(write_manual(tmp_path, change))


def test_a_form_field_may_feed_the_fee(tmp_path: Path) -> None:
    def seats_set_the_fee(data: dict[str, Any]) -> None:
        data["fee"]["parameter"] = "seats"
        data["form"] = [entry for entry in data["form"] if entry.get("use") != "seats"]
        data["form"].append({"use": "seats", "feeds_fee": True})

    manual = load_manual(write_manual(tmp_path, seats_set_the_fee))
    seats = manual.form.field("seats")
    assert seats is not None and seats.feeds_fee and seats.required  # the shared field is required by default

    def optional(data: dict[str, Any]) -> None:
        seats_set_the_fee(data)
        data["form"][-1]["required"] = False

    with pytest.raises(ManualError, match="feeds the fee, so it must be required"):
        load_manual(write_manual(tmp_path, optional))


def test_the_catalogue_stops_on_a_bad_shared_file(tmp_path: Path) -> None:
    root = tmp_path / "bpmn"
    shutil.copytree(BPMN, root, ignore=shutil.ignore_patterns("finder", "lifecycle"))
    shared = yaml.safe_load((root / SHARED_FIELDS_FILE).read_text(encoding="utf-8"))
    shared["fields"].append(dict(shared["fields"][0]))
    (root / SHARED_FIELDS_FILE).write_text(yaml.safe_dump(shared, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match=f"{SHARED_FIELDS_FILE}: fields: duplicate form field 'seats'"):
        load_catalogue(root)
    shared["fields"][-1] = {**shared["fields"][0], "name": "tables", "type": "choice"}
    (root / SHARED_FIELDS_FILE).write_text(yaml.safe_dump(shared, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match=f"{SHARED_FIELDS_FILE}: fields.*cannot have unit"):
        load_catalogue(root)


# --- the validator ---------------------------------------------------------------------------------------------


def test_a_valid_draft_form_keeps_its_values_and_drops_nulls(manuals: dict[str, LicenceManual]) -> None:
    form = manuals[LICENCE].form
    assert checked_values(LICENCE, form, {"premises_kind": "shop", "seats": 12, "workers": None}) == {
        "premises_kind": "shop", "seats": 12}
    assert form.missing_required({"seats": 12}) == ["premises_kind"]


@pytest.mark.parametrize(("licence", "values", "field", "allowed", "words"), [
    (LICENCE, {"colour": "red"}, "colour", {"fields": ["premises_kind", "seats", "workers", "opening_hours"]},
     "has no form field 'colour'"),
    (LICENCE, {"seats": "12"}, "seats", {"type": "number", "minimum": 0, "maximum": 10000, "unit": "seats",
                                         "integer": True}, "a whole number from 0 to 10000 seats"),
    (LICENCE, {"seats": 12.5}, "seats", None, "a whole number"),
    (LICENCE, {"seats": True}, "seats", None, "a whole number"),
    (LICENCE, {"seats": 10001}, "seats", None, "from 0 to 10000 seats (got 10001"),
    (LICENCE, {"premises_kind": "bar"}, "premises_kind",
     {"type": "choice", "choices": ["restaurant", "shop", "storage"]}, "one of 'restaurant', 'shop', 'storage'"),
    (LICENCE, {"opening_hours": "a" * 101}, "opening_hours", {"type": "text", "max_length": 100}, "at most 100"),
    (LICENCE, {"opening_hours": "08:00\u202e"}, "opening_hours", None, "bidirectional control"),
    ("signboard_tax_filing", {"installed_on": "2026-02-30"}, "installed_on", {"type": "date", "format": "YYYY-MM-DD"},
     "is no calendar date"),
    ("signboard_tax_filing", {"installed_on": "30/01/2026"}, "installed_on", None, "a date written YYYY-MM-DD"),
    ("liquor_sale_licence", {"near_school": "yes"}, "near_school", {"type": "yes_no"}, "true or false"),
    ("controlled_energy_production_licence", {"installed_capacity_kw": 0.5}, "installed_capacity_kw",
     {"type": "number", "minimum": 1, "maximum": 10000000, "unit": "kW", "integer": False}, "from 1 to 10000000 kW"),
])
def test_each_bad_value_is_named_with_what_it_allows(manuals: dict[str, LicenceManual], licence: str,
                                                    values: dict[str, Any], field: str, allowed: dict[str, Any] | None,
                                                    words: str) -> None:
    with pytest.raises(InvalidInput) as error:
        checked_values(licence, manuals[licence].form, values)
    details = error.value.details
    assert details["field"] == f"form.{licence}.{field}"
    assert error.value.message.startswith(f"form.{licence}.{field}: ")
    assert words in error.value.message
    if allowed is not None:
        assert details["allowed"] == allowed
    assert f"/api/v1/licences/{licence}" in (error.value.hint or "")


def test_every_bad_field_is_listed(manuals: dict[str, LicenceManual]) -> None:
    with pytest.raises(InvalidInput) as error:
        checked_values(LICENCE, manuals[LICENCE].form, {"seats": -1, "workers": "many", "x": 1})
    assert [e["field"] for e in error.value.details["errors"]] == [
        f"form.{LICENCE}.seats", f"form.{LICENCE}.workers", f"form.{LICENCE}.x"]


def test_filled_fields_carry_labels_units_and_the_value(manuals: dict[str, LicenceManual]) -> None:
    shown = filled(manuals[LICENCE].form, {"premises_kind": "shop", "seats": 12, "legacy": "x"})
    by_name = {f.name: f for f in shown}
    assert by_name["premises_kind"].value == "shop" and by_name["premises_kind"].value_en == "food shop"
    assert by_name["seats"].unit == "seats" and by_name["seats"].label_th == "จำนวนที่นั่ง"
    assert by_name["workers"].value is None
    assert by_name["legacy"].type == "unknown"  # a value stored before the field existed stays visible


# --- the fee reads only validated values ---------------------------------------------------------------------


def _seats_fee(manual: LicenceManual) -> LicenceManual:
    seats = FormField.model_validate({**manual.form.field("seats").model_dump(),  # type: ignore[union-attr]
                                      "required": True, "feeds_fee": True})
    fields = [seats if f.name == "seats" else f for f in manual.form.fields]
    data = manual.model_dump()
    data["form"] = FormDefinition(fields=fields).model_dump()
    data["fee"]["parameter"] = "seats"
    return LicenceManual.model_validate(data)


def test_a_fee_from_a_form_field_uses_its_validated_value(manuals: dict[str, LicenceManual]) -> None:
    manual = _seats_fee(manuals[LICENCE])
    # The bands of the area rule now compare seats: 30 seats fall in the 50 band (200 THB).
    assert fee_by_rule(manual, 190, {"seats": 30}) == 20000
    for bad in ({"seats": "30"}, {"seats": -5}, {"seats": 30.5}):
        with pytest.raises(InvalidInput) as error:
            fee_by_rule(manual, 190, bad)
        assert error.value.details["field"] == f"form.{LICENCE}.seats"
    with pytest.raises(InvalidInput, match="fee parameter 'seats' is missing") as missing:
        fee_by_rule(manual, 190, {})
    assert missing.value.details["field"] == f"form.{LICENCE}.seats"
    with pytest.raises(InvalidInput) as refused:  # a parameter sent under another name is refused, never read
        fee_by_rule(manual, 190, {"area_m2": 10, "seats": 30})
    assert refused.value.details["field"] == f"form.{LICENCE}.area_m2"


def test_the_business_area_fee_ignores_the_form(manuals: dict[str, LicenceManual]) -> None:
    manual = manuals[LICENCE]
    assert fee_by_rule(manual, 180, {"area_m2": 1, "seats": 1}) == 100000
