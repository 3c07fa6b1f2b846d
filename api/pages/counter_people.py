"""What every counter page shares: the counter officer's page dependency, and the ID number typed from a card,
checked with the engine's rule (engine/applications/thai_id.py) and told back in words the officer can act on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path

from bizportal.api.pages.signin import staff_page
from bizportal.engine.applications.thai_id import JURISTIC_FIRST_DIGIT, is_valid_thai_id, normalise_thai_id
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import NotFound
from bizportal.engine.principal import Principal, Role

CounterPage = Annotated[Principal, Depends(staff_page(Role.COUNTER_OFFICER))]
IdNumberPath = Annotated[str, Path(pattern=r"^[0-9]{13}$")]


def id_number_error(typed: str) -> tuple[str, str | None]:
    """The 13 digits of `typed`, or the label of what is wrong with it: not 13 digits, a number no holder has, or
    a wrong check digit (the engine's rule decides; the label only says which part failed)."""
    try:
        return normalise_thai_id(typed), None
    except ValueError:
        digits = typed.replace("-", "").replace(" ", "")
        if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
            return digits, "counter_error_digits"
        if is_valid_thai_id(digits):  # the check digit fits, yet no holder has it (starts with 9, or all zeros)
            return digits, "counter_error_not_thai"
        return digits, "counter_error_check_digit"


def holder_kind(id_number: str) -> Literal["individual", "juristic"]:
    """A juristic person's registration number starts with 0, a person's ID with 1-8."""
    return "juristic" if id_number.startswith(JURISTIC_FIRST_DIGIT) else "individual"


def counter_context(engine: LicensingEngine, principal: Principal) -> dict[str, Any]:
    """What every counter page's template reads: the officer's office (its name, for the tabs and the receipt;
    None for an office the directory does not list) and the catalogue's licences by code (their names)."""
    office = None
    if principal.office is not None:
        try:
            office = engine.ctx.offices.get(principal.office)
        except NotFound:
            office = None
    return {"office": office, "licence_names": engine.ctx.catalogue.licences}
