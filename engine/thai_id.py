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
