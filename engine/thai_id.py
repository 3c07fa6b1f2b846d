"""Thai 13-digit identification numbers (citizens and juristic persons)."""

from __future__ import annotations


def check_digit(first12: str) -> int:
    """d13 = (11 - sum(d_i * (14 - i)) mod 11) mod 10, for i = 1..12."""
    total = sum(int(digit) * (13 - index) for index, digit in enumerate(first12))
    return (11 - total % 11) % 10


def is_valid_thai_id(number: str) -> bool:
    return len(number) == 13 and number.isdigit() and check_digit(number[:12]) == int(number[12])


def mask_thai_id(number: str) -> str:
    """Show the first and last digits only (PDPA: no more personal data than needed)."""
    return f"{number[0]}-{number[1:5]}-xxxxx-xx-{number[12]}" if len(number) == 13 else "x" * len(number)


def normalise_thai_id(value: str) -> str:
    """The 13 digits of `value` without dashes or spaces, for input validators.

    Raises:
        ValueError: not 13 digits, or a wrong check digit (the message says which).
    """
    value = value.replace("-", "").replace(" ", "")
    if len(value) != 13 or not value.isdigit():
        raise ValueError("must be 13 digits")
    if not is_valid_thai_id(value):
        raise ValueError("check digit is wrong: re-check the 13-digit number")
    return value
