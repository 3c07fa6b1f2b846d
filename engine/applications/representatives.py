"""Who may file in an applicant's name, and who acts for a juristic person.

An individual files only in their own name: the ID number the identity provider vouches for must be the
applicant's. A juristic person files through a person who represents it: a director by ID number according
to the company registry (recorded the first time they file), someone a director authorised on the platform,
or someone whose signed letter of authorisation a counter officer checked. Anyone else is refused, with the
ways to become authorised. engine/access.py then lets the same people read and act on what was filed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.access import is_party, representation_in_force
from bizportal.engine.applications.prefill import Prefill
from bizportal.engine.applications.thai_id import ThaiIdNumber, mask_thai_id
from bizportal.engine.clock import BANGKOK
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from bizportal.engine.input_text import line
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import Principal, Role
from bizportal.storage.representatives import RepresentationBasis, RepresentativeRow

HOW_TO_BE_AUTHORISED = ("a director listed in the company registry files for it; anyone else needs a director to "
                        "authorise them (POST /api/v1/companies/{number}/representatives), or a counter officer "
                        "to check the company's signed letter of authorisation")
MAX_AUTHORISATION_DAYS = 3 * 366  # a letter of authorisation is renewed, not open-ended


class RepresentativeInput(BaseModel):
    """A person the juristic person authorises to act for it on the platform."""

    model_config = ConfigDict(extra="forbid")

    id_number: ThaiIdNumber = Field(description="the authorised person's 13-digit national ID number")
    name: Annotated[str, line(300, min_length=1)]
    valid_until: date = Field(description="the last day (Bangkok) the authorisation holds; at most three years on")


class RepresentativeView(BaseModel):
    id: str
    juristic_number: str
    id_number: str = Field(description="masked: the first and last digits")
    name: str | None
    basis: str = Field(description="director_per_registry | granted_by_director | verified_at_counter")
    granted_by: str
    granted_at: datetime
    valid_until: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: RepresentativeRow) -> RepresentativeView:
        return cls(id=row.id, juristic_number=row.juristic_number, id_number=mask_thai_id(row.id_number),
                   name=row.name, basis=row.basis, granted_by=row.granted_by, granted_at=row.granted_at,
                   valid_until=row.valid_until, revoked_at=row.revoked_at)


def check_own_name(principal: Principal, kind: str, id_number: str) -> None:
    """An applicant files as an individual only in their own name (before any look-up shows the name).

    Raises:
        Forbidden: the sign-in carries no ID number, or `applicant.id_number` is someone else's.
    """
    if principal.role != Role.APPLICANT:
        return
    if principal.id_number is None:
        raise Forbidden("your sign-in carries no national ID number, so nothing can be filed in your name",
                        hint="sign in with Digital ID (/auth/login); a development token needs a 13-digit --subject")
    if kind == "individual" and id_number != principal.id_number:
        raise Forbidden("an individual files only in their own name: `applicant.id_number` must be the ID number "
                        "you signed in with",
                        hint="give your own ID number; to file for someone else, they sign in themselves, or a "
                             "one-stop counter files for them with their consent",
                        details={"field": "applicant.id_number"})


def check_may_act_for(ctx: EngineContext, session: Session, principal: Principal, juristic_number: str,
                      found: Prefill | None, acting: str | None = None) -> None:
    """The person filing for a juristic person (the signed-in applicant, or `acting` at a counter) must
    represent it. A director by the registry's look-up `found` is recorded as such.

    Raises:
        Forbidden: they do not represent it; the hint says how to become authorised.
    """
    person = acting if acting is not None else principal.id_number
    assert person is not None  # check_own_name refused a sign-in without one
    now = ctx.clock.now()
    if _in_force(session, person, juristic_number, now) is not None:
        return
    if found is not None and person in found.director_id_numbers:
        row = RepresentativeRow(id=str(uuid.uuid4()), juristic_number=juristic_number, id_number=person,
                                basis=RepresentationBasis.DIRECTOR, granted_by=principal.label, granted_at=now)
        session.add(row)
        audit.record(session, principal, "representative.recorded", now, juristic_number=juristic_number,
                     id_number=mask_thai_id(person), basis=row.basis)
        return
    who = "you do" if acting is None else f"{mask_thai_id(person)} does"
    raise Forbidden(f"{who} not represent the juristic person {mask_thai_id(juristic_number)}",
                    hint=HOW_TO_BE_AUTHORISED.replace("{number}", juristic_number),
                    details={"field": "applicant.id_number"})


def _in_force(session: Session, person: str, juristic_number: str, now: datetime) -> RepresentativeRow | None:
    return session.exec(select(RepresentativeRow).where(
        RepresentativeRow.juristic_number == juristic_number, RepresentativeRow.id_number == person,
        representation_in_force(now))).first()


def grant(ctx: EngineContext, session: Session, principal: Principal, juristic_number: str,
          data: RepresentativeInput) -> RepresentativeRow:
    """Authorise a person to act for the juristic person: by one of its directors, or by a counter officer who
    checked the company's signed letter of authorisation.

    Raises:
        Forbidden: the caller is neither. InvalidInput: `valid_until` is past or too far.
        Conflict: the person is already authorised.
    """
    now = ctx.clock.now()
    if principal.role == Role.COUNTER_OFFICER:
        basis = RepresentationBasis.VERIFIED_AT_COUNTER
    elif principal.role == Role.APPLICANT and _is_director(session, principal, juristic_number, now):
        basis = RepresentationBasis.GRANTED
    else:
        raise Forbidden(f"only a director of {mask_thai_id(juristic_number)}, or a counter officer who checked its "
                        "signed letter of authorisation, authorises people to act for it",
                        hint="a director is recorded the first time they file for the company while the company "
                             "registry lists them")
    if _in_force(session, data.id_number, juristic_number, now) is not None:
        raise Conflict(f"{mask_thai_id(data.id_number)} already acts for {mask_thai_id(juristic_number)}",
                       hint="revoke the existing authorisation first to change it")
    valid_until = end_of_day(data.valid_until, now, MAX_AUTHORISATION_DAYS, "valid_until")
    row = RepresentativeRow(id=str(uuid.uuid4()), juristic_number=juristic_number, id_number=data.id_number,
                            name=data.name, basis=basis, granted_by=principal.label, granted_at=now,
                            valid_until=valid_until)
    session.add(row)
    audit.record(session, principal, "representative.authorised", now, juristic_number=juristic_number,
                 id_number=mask_thai_id(data.id_number), basis=basis, valid_until=valid_until.isoformat())
    return row


def revoke(ctx: EngineContext, session: Session, principal: Principal, juristic_number: str,
           representative_id: str) -> RepresentativeRow:
    """End an authorisation: by a director, by the person themselves, or by an admin.

    Raises:
        NotFound: no such authorisation of this juristic person. Forbidden: the caller may not end it.
        Conflict: it has already ended.
    """
    now = ctx.clock.now()
    row = session.get(RepresentativeRow, representative_id)
    if row is None or row.juristic_number != juristic_number:
        raise NotFound(f"authorisation {representative_id} of {mask_thai_id(juristic_number)} does not exist")
    themselves = principal.role == Role.APPLICANT and principal.id_number == row.id_number
    if not (principal.role == Role.ADMIN or themselves or _is_director(session, principal, juristic_number, now)):
        raise Forbidden("only a director of the juristic person, the authorised person or an admin ends it")
    if row.revoked_at is not None:
        raise Conflict("this authorisation has already been revoked")
    row.revoked_at, row.revoked_by = now, principal.label
    audit.record(session, principal, "representative.revoked", now, juristic_number=juristic_number,
                 id_number=mask_thai_id(row.id_number), basis=row.basis)
    return row


REPRESENTATIVES_ORDER = Keyset("representatives", (SortKey(RepresentativeRow.granted_at, datetime),
                                                   SortKey(RepresentativeRow.id, str)))


def representatives_of(ctx: EngineContext, session: Session, principal: Principal, juristic_number: str,
                       limit: int | None = None, cursor: list[Any] | None = None) -> Page[RepresentativeRow]:
    """Who acts for the juristic person, past and present, oldest grant first: for those who act for it, and
    admins; one page after `cursor` (engine/paging.py), or all (`limit=None`).

    Raises:
        NotFound: the caller does not act for it (whether anyone does is not revealed).
        InvalidInput: a cursor that is not this list's.
    """
    if principal.role != Role.ADMIN and not is_party(session, principal, juristic_number, ctx.clock.now()):
        raise NotFound(f"no authorisations of {mask_thai_id(juristic_number)} are visible to you",
                       hint="only the juristic person's directors and authorised people see them")
    return fetch_page(session, select(RepresentativeRow).where(RepresentativeRow.juristic_number == juristic_number),
                      REPRESENTATIVES_ORDER, limit, cursor)


def acting_for(session: Session, principal: Principal) -> list[RepresentativeRow]:
    """The authorisations to act for a juristic person that the signed-in person holds or held, oldest first
    (none for a sign-in without an ID number)."""
    if principal.id_number is None:
        return []
    return list(session.exec(select(RepresentativeRow).where(RepresentativeRow.id_number == principal.id_number)
                             .order_by(col(RepresentativeRow.granted_at))))


def _is_director(session: Session, principal: Principal, juristic_number: str, now: datetime) -> bool:
    if principal.id_number is None:
        return False
    row = _in_force(session, principal.id_number, juristic_number, now)
    return row is not None and row.basis == RepresentationBasis.DIRECTOR


def end_of_day(day: date, now: datetime, max_days: int, field: str) -> datetime:
    """The end of `day` in Bangkok, which must be from today on and at most `max_days` away.

    Raises:
        InvalidInput: `field` (the day) is in the past or too far.
    """
    today = now.astimezone(BANGKOK).date()
    if day < today or day > today + timedelta(days=max_days):
        raise InvalidInput(f"`{field}` must be between {today} and {today + timedelta(days=max_days)}",
                           hint="give the last day (YYYY-MM-DD, Bangkok) it holds", details={"field": field})
    return datetime.combine(day + timedelta(days=1), time(), BANGKOK)
