"""The data an application gives once for all its licences: the applicant's e-mail and language, and the business
(`BusinessInput` of engine/applications/input.py), read from a page's form and checked by the engine's own input
models, whose errors become messages beside the fields.

The applicant's ID number and name are not asked: they are the sign-in's (a registry, when connected, gives the
name). The page only turns the form's strings into the body the API would receive; every limit is the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bizportal.api.pages.apply.access import FieldError
from bizportal.engine.errors import InvalidInput

# The form's fields, in the order of the page.
FIELDS = ("email", "language", "business_name", "address", "province", "district", "area_m2")
# Where the engine's input names a field (a pydantic location, or an InvalidInput's `details.field`) -> its id.
ENGINE_FIELDS = {"applicant.email": "email", "applicant.language": "language", "business.name": "business_name",
                 "business.address": "address", "business.province": "province", "business.district": "district",
                 "business.area_m2": "area_m2"}


def read(form: Mapping[str, Any]) -> dict[str, str]:
    """The shared fields as typed, trimmed (a file or a missing field reads as empty)."""
    return {name: value.strip() if isinstance(value := form.get(name), str) else "" for name in FIELDS}


def from_view(applicant: Mapping[str, Any], business: Mapping[str, Any]) -> dict[str, str]:
    """The stored draft's values, to fill the form."""
    area = business.get("area_m2")
    return {"email": applicant.get("email") or "", "language": applicant.get("language") or "th",
            "business_name": business.get("name") or "", "address": business.get("address") or "",
            "province": business.get("province") or "", "district": business.get("district") or "",
            "area_m2": "" if area is None else f"{area:g}"}


def _area(text: str) -> float | str | None:
    """A number as people write it (1,250.5); anything else is passed on for the engine to refuse."""
    if not text:
        return None
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


def business(values: Mapping[str, str]) -> dict[str, Any]:
    return {"name": values["business_name"], "address": values["address"], "province": values["province"],
            "district": values["district"] or None, "area_m2": _area(values["area_m2"])}


def applicant_change(values: Mapping[str, str]) -> dict[str, Any]:
    """The applicant's part of a change (an empty e-mail keeps the stored one: the engine has no 'remove')."""
    return {"email": values["email"] or None, "language": values["language"] or None}


def input_errors(err: ValidationError, labels: Mapping[str, str]) -> list[FieldError]:
    """The engine's input model's refusals, one message per field (what the field needs, in the page's language)."""
    errors: list[FieldError] = []
    for error in err.errors():
        path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        field = ENGINE_FIELDS.get(path)
        errors.append(FieldError(field, labels[f"apply_error_{field}"]) if field
                      else FieldError("applicant", labels["apply_error_applicant"]))
    return _once_per_field(errors)


def engine_errors(err: InvalidInput, labels: Mapping[str, str], names: Mapping[str, str]) -> list[FieldError]:
    """An InvalidInput of `create`/`change` beside the field it names (`details.field`).

    Args:
        names: licence code -> its name in the page's language, for the licences' own refusals.
    """
    details = err.details if isinstance(err.details, dict) else {}
    field = ENGINE_FIELDS.get(str(details.get("field", "")))
    if field == "area_m2" and details.get("licence"):  # a fee rule whose bands end below this area
        licence = str(details["licence"])
        return [FieldError(field, labels["apply_error_area_fee"] % names.get(licence, licence))]
    if field in ("province", "district"):
        return [FieldError(field, labels["apply_error_route"])]
    if field is not None:
        return [FieldError(field, labels[f"apply_error_{field}"])]
    if details.get("requires"):
        needed = str(details["requires"])
        licence = str(details.get("licence"))
        return [FieldError("licences", labels["apply_error_prerequisite"] % (
            names.get(licence, licence), names.get(needed, needed), names.get(needed, needed)))]
    if details.get("must_file_at_counter"):
        return [FieldError("licences", labels["apply_error_counter"] % ", ".join(
            names.get(c["licence"], c["licence"]) for c in details["must_file_at_counter"]))]
    return [FieldError("licences" if details.get("field") == "licences" else "applicant",
                       labels["apply_error_other"] % err.message)]


def _once_per_field(errors: list[FieldError]) -> list[FieldError]:
    seen: set[str] = set()
    kept = []
    for error in errors:
        if error.field not in seen:
            seen.add(error.field)
            kept.append(error)
    return kept
