"""A company at the counter: whoever is there for it must act for it. A director the company registry lists does;
anyone else brings the company's signed letter of authorisation, which the officer checks and records (the use
case of POST /api/v1/companies/{number}/representatives) in the same transaction as the filing, so a filing that
is refused records no authorisation either."""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import Session

from bizportal.engine.applications import representatives
from bizportal.engine.applications.representatives import RepresentativeInput
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Conflict, InvalidInput
from bizportal.engine.principal import Principal

LETTER_CHECKED = "representative.letter_checked"  # the checkbox: "yes" when the officer checked the letter
LETTER_UNTIL = "representative.valid_until"
# RepresentativeInput's fields -> the filing form's: the person named is the person at the counter.
_FORM_FIELDS = {"id_number": "consent.given_by_id_number", "name": "consent.given_by_name", "valid_until": LETTER_UNTIL}


def checked_letter(values: dict[str, str]) -> tuple[RepresentativeInput | None, dict[str, str | None]]:
    """The letter the officer checked (None when the box is not ticked), or the form's fields it leaves wrong."""
    if values.get(LETTER_CHECKED) != "yes":
        return None, {}
    try:
        return RepresentativeInput.model_validate({"id_number": values.get("consent.given_by_id_number", ""),
                                                   "name": values.get("consent.given_by_name", ""),
                                                   "valid_until": values.get(LETTER_UNTIL, "")}), {}
    except ValidationError as err:
        return None, {_FORM_FIELDS.get(str(problem["loc"][0]), LETTER_UNTIL): None for problem in err.errors()}


def record_letter(engine: LicensingEngine, session: Session, principal: Principal, juristic_number: str,
                  letter: RepresentativeInput) -> None:
    """Record that the person acts for the company by the letter; one already on record stays as it is.

    Raises:
        InvalidInput: the letter's end is past or too far (naming the form's field).
    """
    try:
        representatives.grant(engine.ctx, session, principal, juristic_number, letter)
    except Conflict:  # they already act for it (a director's right, or an earlier letter): nothing to record
        return
    except InvalidInput as err:
        raise InvalidInput(err.message, hint=err.hint, details={"field": LETTER_UNTIL}) from err
