"""Thai 13-digit identification numbers (citizens and juristic persons).

The first digit is the kind of holder: 1-8 are the population registry's categories of people (Thai
nationals by when and how they were registered, and foreign residents), 0 is a juristic person's
registration number at the Department of Business Development (e.g. 0-1055-56123-45-3). No number starts
with 9, and none is twelve zeros and a check digit. (People without registration status get numbers
starting with 0 as well; they are not accepted as `individual` applicants.)

Digits are ASCII only: Thai (๐-๙), Arabic-Indic or full-width digits would store the same person under a
second, unequal number and defeat every comparison (the holder's ID at the counter, prerequisites, registry
look-ups).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

_DIGITS = frozenset("0123456789")
PERSON_FIRST_DIGITS = frozenset("12345678")
JURISTIC_FIRST_DIGIT = "0"


def check_digit(first12: str) -> int:
    """d13 = (11 - sum(d_i * (14 - i)) mod 11) mod 10, for i = 1..12."""
    total = sum(int(digit) * (13 - index) for index, digit in enumerate(first12))
    return (11 - total % 11) % 10


def _ascii_digits(number: str) -> bool:
    return bool(number) and set(number) <= _DIGITS


def is_valid_thai_id(number: str) -> bool:
    """13 ASCII digits whose last is the check digit (the registry adapter's rule; see `normalise_thai_id`
    for the numbers no holder has)."""
    return len(number) == 13 and _ascii_digits(number) and check_digit(number[:12]) == int(number[12])


def mask_thai_id(number: str) -> str:
    """Show the first and last digits only (PDPA: no more personal data than needed)."""
    return f"{number[0]}-{number[1:5]}-xxxxx-xx-{number[12]}" if len(number) == 13 else "x" * len(number)


def normalise_thai_id(value: str) -> str:
    """The 13 digits of `value` without dashes or spaces, for input validators.

    Raises:
        ValueError: not 13 ASCII digits, a wrong check digit, or a number no holder has (the message says which).
    """
    value = value.replace("-", "").replace(" ", "")
    if len(value) != 13 or not _ascii_digits(value):
        raise ValueError("must be 13 digits 0-9 (Thai or other digits are not accepted)")
    if value[0] == "9" or value[:12] == "0" * 12:
        raise ValueError("is not a Thai identification number: citizen IDs start with 1-8, "
                         "juristic-person numbers with 0")
    if not is_valid_thai_id(value):
        raise ValueError("check digit is wrong: re-check the 13-digit number")
    return value


def check_holder_kind(number: str, kind: Literal["individual", "juristic"]) -> None:
    """A person's number starts with 1-8, a juristic person's with 0.

    Raises:
        ValueError: the number belongs to the other kind of holder (the message says which to send).
    """
    if kind == "individual" and number[0] not in PERSON_FIRST_DIGITS:
        raise ValueError("a citizen ID starts with 1-8; a number starting with 0 is a juristic person's "
                         "(send kind: juristic)")
    if kind == "juristic" and number[0] != JURISTIC_FIRST_DIGIT:
        raise ValueError("a juristic-person registration number starts with 0; a number starting with 1-8 is "
                         "a citizen ID (send kind: individual)")


# As written: 13 ASCII digits (the first 0-8), a dash or space allowed between two digits. The validator is more
# lenient with separators, and checks the check digit, which a pattern cannot.
THAI_ID_SCHEMA = {"type": "string", "pattern": r"^[0-8](?:[ -]?[0-9]){12}$", "minLength": 13, "maxLength": 30,
                  "examples": ["1101700203395", "1-1017-00203-39-5"]}
ThaiIdNumber = Annotated[str, StringConstraints(max_length=30), AfterValidator(normalise_thai_id),
                         WithJsonSchema(THAI_ID_SCHEMA)]
"""An input field holding a 13-digit number with dashes or spaces allowed; stored as the 13 digits."""
