"""The data an application gives once for all its licences: the applicant's e-mail and language, and the business
(`BusinessInput` of engine/applications/input.py, whose fields are api/pages/business_form.py's, the same as the
counter's), read from a page's form and checked by the engine's own input models, whose errors become messages
beside the fields.

The applicant's ID number and name are not asked: they are the sign-in's (a registry, when connected, gives the
name). The page only turns the form's strings into the body the API would receive; every limit is the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bizportal.api.pages import business_form
from bizportal.api.pages.apply.access import FieldError
from bizportal.engine.errors import InvalidInput

# The applicant's fields, in the order of the page (the business's follow: business_form.FIELDS).
APPLICANT_FIELDS = ("email", "language")
# Where the engine's input names an applicant's field (a pydantic location, or an InvalidInput's `details.field`).
ENGINE_FIELDS = {"applicant.email": "email", "applicant.language": "language"}


def read(form: Mapping[str, Any]) -> dict[str, str]:
    """The shared fields as typed, trimmed (a file or a missing field reads as empty)."""
    return {**{name: value.strip() if isinstance(value := form.get(name), str) else "" for name in APPLICANT_FIELDS},
            **business_form.read(form)}


def from_view(applicant: Mapping[str, Any], business: Mapping[str, Any]) -> dict[str, str]:
    """The stored draft's values, to fill the form."""
    return {"email": applicant.get("email") or "", "language": applicant.get("language") or "th",
            **business_form.from_view(business)}


def applicant_change(values: Mapping[str, str]) -> dict[str, Any]:
    """The applicant's part of a change (an empty e-mail keeps the stored one: the engine has no 'remove')."""
    return {"email": values["email"] or None, "language": values["language"] or None}


def input_errors(err: ValidationError, labels: Mapping[str, str]) -> list[FieldError]:
    """The engine's input model's refusals, one message per field (what the field needs, in the page's language)."""
    errors: list[FieldError] = []
    for error in err.errors():
        path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        if (business := business_form.field_named(path)) is not None:
            errors.append(FieldError(business_form.field_id(business), business_form.message(business, labels)))
        elif (field := ENGINE_FIELDS.get(path)) is not None:
            errors.append(FieldError(field, labels[f"apply_error_{field}"]))
        else:
            errors.append(FieldError("applicant", labels["apply_error_applicant"]))
    return _once_per_field(errors)


def engine_errors(err: InvalidInput, labels: Mapping[str, str], names: Mapping[str, str]) -> list[FieldError]:
    """An InvalidInput of `create`/`change` beside the field it names (`details.field`).

    Args:
        names: licence code -> its name in the page's language, for the licences' own refusals.
    """
    if (business := business_form.engine_error(err, labels, names)) is not None:
        return [FieldError(business_form.field_id(business[0]), business[1])]
    details = err.details if isinstance(err.details, dict) else {}
    field = ENGINE_FIELDS.get(str(details.get("field", "")))
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
