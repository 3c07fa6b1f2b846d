"""Prefill an application from the central registries instead of asking for copies.

Government may not ask applicants for copies of their ID card, house registration or company
certificate; it looks the data up (population data via the DOPA linkage centre or GDX, juristic-person
data via GDX). A look-up that succeeds satisfies those documents of a licence manual; the rest are
uploaded, or stay pending until an exchange provides them. Only the name and the address are kept from
the record (PDPA B.E. 2562: no more personal data than the application needs).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bizportal.adapters.registries.base import (
    JuristicRecord,
    LookupKind,
    LookupRequest,
    NotRegistered,
    PersonRecord,
    RegistryError,
    RegistryLookup,
    RegistryUnavailable,
)
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.errors import InvalidInput, Unavailable

__all__ = [
    "APPLICANT_ID_CARD",
    "DEFAULT_PURPOSE",
    "JURISTIC_PERSON_CERTIFICATE",
    "PREMISES_HOUSE_REGISTRATION",
    "Prefill",
    "Provided",
    "mark_obtained",
    "prefill",
]

# Document ids used by the licence manuals (bpmn/*/manual.yaml) for what the registries hold.
APPLICANT_ID_CARD = "applicant_id_card"
PREMISES_HOUSE_REGISTRATION = "premises_house_registration"
JURISTIC_PERSON_CERTIFICATE = "juristic_person_certificate"

DEFAULT_PURPOSE = "licence application: verify the applicant and fill in name and address"
SOURCE_REGISTRY = "registry"
_FIELD = "applicant.id_number"

Provided = Literal["registry", "upload", "exchange_pending"]


class Prefill(BaseModel):
    """What a registry look-up gives an application.

    Attributes:
        name: the Thai name the registry holds (person or juristic person).
        address: the house-registration address of a person, or the registered office of a juristic
            person; None when the registry has none.
        obtained_documents: manual document ids the look-up satisfies (no copy is asked for).
        source: where the data came from.
        director_id_numbers: a juristic person's directors by ID number (those who may act for it).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    address: str | None
    obtained_documents: list[str]
    source: str = SOURCE_REGISTRY
    director_id_numbers: tuple[str, ...] = ()


def prefill(lookup: RegistryLookup, kind: LookupKind, id_number: str, *,
            purpose: str = DEFAULT_PURPOSE) -> Prefill:
    """Look the applicant up and say what the registry provides.

    Args:
        lookup: the registry adapter.
        kind: ``individual`` (population registry) or ``juristic`` (company registry).
        id_number: the 13-digit citizen ID or registration number (dashes and spaces allowed).
        purpose: why the data is fetched; the registry logs it (PDPA).

    Returns:
        The Thai name, the address and the satisfied document ids. For a person: ``applicant_id_card``,
        and ``premises_house_registration`` only when an address came back. For a juristic person:
        ``juristic_person_certificate`` (the ID card is a person's, so it is not satisfied).

    Raises:
        InvalidInput: the number is malformed, not in the registry, or belongs to a deceased person or a
            juristic person that is no longer active (``details.field`` is ``applicant.id_number``).
        Unavailable: the registry cannot be reached, or the platform's access to it is broken; retry later.
        pydantic.ValidationError: ``kind`` or ``purpose`` is invalid (a bug in the caller).
    """
    try:
        request = LookupRequest(id_number=id_number, kind=kind, purpose=purpose)
    except ValidationError as exc:
        id_errors = [error for error in exc.errors() if error["loc"][:1] == ("id_number",)]
        if not id_errors:
            raise  # a bad kind or purpose is the caller's bug, not the applicant's
        reason = id_errors[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"{_FIELD} is not a valid Thai identification number: {reason}",
                           hint="enter the 13 digits printed on the ID card or company certificate",
                           details={"field": _FIELD}) from exc
    registry = "civil registry" if kind == "individual" else "company registry"
    try:
        record = lookup.lookup(request)
    except NotRegistered as exc:
        raise InvalidInput(f"{_FIELD} {mask_thai_id(request.id_number)} not found in the civil/company registry",
                           hint=f"re-check the number; it must be registered in the {registry}"
                                + (" (juristic-person numbers start with 0)" if kind == "juristic" else ""),
                           details={"field": _FIELD, "registry": registry}) from exc
    except RegistryUnavailable as exc:
        raise Unavailable(f"the {registry} cannot be reached right now",
                          hint="retry in a few minutes",
                          details={"registry": registry, "request_id": exc.request_id}) from exc
    except RegistryError as exc:
        # Our credentials or the gateway's answers are wrong: an operator must act, not the applicant.
        # The message (chained, for the logs) may name the gateway; the applicant only needs to know it failed.
        raise Unavailable(f"the {registry} look-up failed",
                          hint="retry later; if it keeps failing, tell the portal's support desk",
                          details={"registry": registry, "request_id": exc.request_id}) from exc
    if kind == "individual" and isinstance(record, PersonRecord):
        return _from_person(record, request.id_number)
    if kind == "juristic" and isinstance(record, JuristicRecord):
        return _from_juristic(record, request.id_number)
    raise Unavailable(f"the {registry} answered with a {type(record).__name__}",
                      hint="retry later; if it keeps failing, tell the portal's support desk",
                      details={"registry": registry})


def _from_person(record: PersonRecord, id_number: str) -> Prefill:
    if not record.alive:
        raise InvalidInput(f"{_FIELD} {mask_thai_id(id_number)} belongs to a person the civil registry records "
                           "as deceased", hint="an heir or estate administrator applies under their own number",
                           details={"field": _FIELD, "registry": "civil registry"})
    obtained = [APPLICANT_ID_CARD]
    if record.address:
        obtained.append(PREMISES_HOUSE_REGISTRATION)
    return Prefill(name=record.name_th, address=record.address or None, obtained_documents=obtained)


def _from_juristic(record: JuristicRecord, id_number: str) -> Prefill:
    if not record.is_active:
        raise InvalidInput(f"{_FIELD} {mask_thai_id(id_number)} is a juristic person with status "
                           f"{record.status!r} in the company registry", hint="only an active juristic person "
                           "may apply; check the registration with the Department of Business Development",
                           details={"field": _FIELD, "registry": "company registry", "status": record.status})
    return Prefill(name=record.name_th, address=record.registered_address,
                   obtained_documents=[JURISTIC_PERSON_CERTIFICATE],
                   director_id_numbers=tuple(record.director_id_numbers))


def mark_obtained(documents: list[dict[str, Any]], obtained: list[str]) -> list[dict[str, Any]]:
    """Say, for each document of a manual, how it reaches the application.

    Args:
        documents: the manual's documents as dicts (``Document.model_dump()``), each with ``id`` and
            ``obtained_by_exchange``.
        obtained: document ids a look-up satisfied (:attr:`Prefill.obtained_documents`).

    Returns:
        Copies of ``documents`` (the inputs are not changed), in the same order, each with ``provided``:
        ``"registry"`` when obtained, ``"upload"`` when the applicant must upload it, and
        ``"exchange_pending"`` when an exchange should provide it but has not yet.
    """
    have = set(obtained)
    marked = []
    for document in documents:
        provided: Provided
        if document["id"] in have:
            provided = "registry"
        elif not document.get("obtained_by_exchange", False):
            provided = "upload"
        else:
            provided = "exchange_pending"
        marked.append({**document, "provided": provided})
    return marked
