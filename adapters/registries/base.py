"""The data-exchange contract: look a citizen or juristic person up in the central registry.

Government may no longer ask applicants for copies of their ID card, house registration or company
certificate; the platform fetches the data from the population registry (DOPA linkage centre) or the
company registry (DBD via GDX) instead. Every look-up states its purpose, because the PDPA B.E. 2562
lets agencies exchange only the data their mandate needs, for a reason that can be shown afterwards.

This module is the adapters' own copy of the Thai check-digit rule: adapters may not import the engine.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "JuristicRecord",
    "LookupKind",
    "LookupRequest",
    "NotRegistered",
    "PersonRecord",
    "RegistryError",
    "RegistryLookup",
    "RegistryRecord",
    "RegistryUnavailable",
    "ThaiIdNumber",
    "is_valid_thai_id",
    "mask_thai_id",
    "thai_id_check_digit",
]

LookupKind = Literal["individual", "juristic"]


def thai_id_check_digit(first12: str) -> int:
    """The 13th digit of a Thai citizen ID or juristic-person registration number.

    ``d13 = (11 - sum(d_i * (14 - i) for i = 1..12) mod 11) mod 10``.

    Args:
        first12: the first twelve digits.

    Returns:
        The check digit, 0-9.

    Raises:
        ValueError: if ``first12`` is not twelve ASCII digits.
    """
    if len(first12) != 12 or not (first12.isascii() and first12.isdigit()):
        raise ValueError("expected the first 12 digits of a Thai identification number")
    total = sum(int(digit) * (14 - position) for position, digit in enumerate(first12, start=1))
    return (11 - total % 11) % 10


def is_valid_thai_id(number: str) -> bool:
    """True when ``number`` is 13 ASCII digits whose last digit is the right check digit."""
    return (len(number) == 13 and number.isascii() and number.isdigit()
            and thai_id_check_digit(number[:12]) == int(number[12]))


def mask_thai_id(number: str) -> str:
    """Show the first and last digits only, for messages and logs (PDPA: no more data than needed)."""
    return f"{number[0]}-{number[1:5]}-xxxxx-xx-{number[12]}" if len(number) == 13 else "x" * len(number)


def _strip_separators(value: object) -> object:
    # People write the number as 1-1017-00203-39-5 or with spaces, as printed on the card.
    return value.replace("-", "").replace(" ", "") if isinstance(value, str) else value


def _check_thai_id(value: str) -> str:
    if len(value) != 13 or not (value.isascii() and value.isdigit()):
        raise ValueError("must be 13 digits")
    if not is_valid_thai_id(value):
        raise ValueError("check digit is wrong: re-check the 13-digit number")
    return value


ThaiIdNumber = Annotated[str, BeforeValidator(_strip_separators), AfterValidator(_check_thai_id)]
"""A 13-digit citizen ID or juristic-person registration number with a valid check digit."""


class LookupRequest(BaseModel):
    """One look-up: whose data, which registry, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_number: ThaiIdNumber = Field(description="13-digit citizen ID or juristic-person registration number")
    kind: LookupKind = Field(description="individual: population registry; juristic: company registry")
    # Stripped: HTTP drops a header value's outer spaces, so the registry would log something else.
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)] = Field(
        description="why the data is needed; sent to and logged by the registry (PDPA)")


class PersonRecord(BaseModel):
    """What the population registry says about a citizen (only what an application needs)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id_number: ThaiIdNumber
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=1000, description="the house-registration address")
    alive: bool


class JuristicRecord(BaseModel):
    """What the company registry says about a juristic person."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    registration_number: ThaiIdNumber
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    registered_address: str = Field(min_length=1, max_length=1000)
    # Lower-case registry status, e.g. active, closed, dissolved, liquidating: kept open because
    # registries add statuses; callers treat anything but "active" as unable to apply.
    status: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z_]*$")
    directors: list[str] = Field(default_factory=list, description="the directors' names, as registered")
    # Who may sign for it, by ID number (the exchange gives agencies these; the public extract only names).
    director_id_numbers: list[ThaiIdNumber] = Field(default_factory=list, max_length=100)
    registered_on: date | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"


RegistryRecord = PersonRecord | JuristicRecord


class RegistryError(Exception):
    """Root of every error a registry look-up raises (callers can catch just this).

    Args:
        message: what went wrong; never carries credentials or a full ID number.
        request_id: the id the call was sent with, to find it in the registry's logs.
    """

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


class NotRegistered(RegistryError):
    """The registry has no citizen or juristic person with that number (a final answer)."""


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or failed (timeout, connection error, 5xx): retry later."""


class RegistryLookup(Protocol):
    """A source of identity and company data: the population and company registries."""

    def lookup(self, request: LookupRequest) -> PersonRecord | JuristicRecord:
        """Fetch the registry's record for one number.

        Args:
            request: the number, which registry (``individual`` or ``juristic``) and the purpose of the
                look-up, which the implementation passes on to the registry for its PDPA log.

        Returns:
            A :class:`PersonRecord` for ``kind="individual"``, a :class:`JuristicRecord` for
            ``kind="juristic"``; the record's number is the requested one.

        Raises:
            NotRegistered: the registry has no such number.
            RegistryUnavailable: the registry cannot answer right now; the same request may be retried.
            RegistryError: any other failure, e.g. the registry rejected our credentials or sent an
                answer that does not fit the models; retrying will not help.
        """
        ...
