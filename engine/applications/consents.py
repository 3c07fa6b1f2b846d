"""Consent to counter filing: an entrepreneur lets a one-stop counter file for them and act for them.

A counter officer files only with the entrepreneur's consent, recorded with the application: who consented,
how (their identity checked in person against their ID card; a signed letter of authorisation once documents
can be uploaded), for which licences, to which officer at which office, when, and until when. The
application is the entrepreneur's from the start; the counter acts for them only while the consent is in
force (engine/access.py), and the entrepreneur sees every consent given in their name and can withdraw it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import false, or_
from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.access import is_party, represented_parties
from bizportal.engine.applications.representatives import end_of_day
from bizportal.engine.applications.thai_id import ThaiIdNumber, mask_thai_id
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, InvalidInput, NotFound
from bizportal.engine.input_text import line
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.consents import ConsentMethod, CounterConsentRow

MAX_CONSENT_DAYS = 366  # long enough for a licence's whole procedure; an entrepreneur can end it any day


class ConsentInput(BaseModel):
    """The entrepreneur's consent, taken by the counter officer who files for them."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["identity_checked_in_person", "signed_authorisation"] = Field(
        description="identity_checked_in_person: the applicant (for a company, someone who acts for it) is at the "
                    "counter and the officer checked them against their ID card; signed_authorisation: someone "
                    "else brought the applicant's signed letter of authorisation, uploaded as the application's "
                    "`power_of_attorney` document before it is submitted")
    valid_until: date = Field(description="the last day (Bangkok) the counter may act for the applicant; at most "
                              f"{MAX_CONSENT_DAYS} days on")
    given_by_id_number: ThaiIdNumber | None = Field(
        default=None, description="who is at the counter: for a juristic applicant, the person acting for it; with a "
        "signed letter, the person it authorises; otherwise the applicant themselves (may be left out)")
    given_by_name: Annotated[str, line(300, min_length=1)] | None = Field(
        default=None, description="their name as on the card (for an individual, the applicant's name by default)")


class ConsentView(BaseModel):
    id: str
    application_id: str
    entrepreneur: str = Field(description="the applicant's ID number, masked")
    given_by: str = Field(description="who consented, ID number masked")
    given_by_name: str
    method: str
    licences: list[str]
    officer: str = Field(description="the counter officer who took it")
    office: str | None
    given_at: datetime
    valid_until: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    in_force: bool

    @classmethod
    def of(cls, row: CounterConsentRow, now: datetime) -> ConsentView:
        return cls(id=row.id, application_id=row.application_id, entrepreneur=mask_thai_id(row.entrepreneur),
                   given_by=mask_thai_id(row.given_by_id_number), given_by_name=row.given_by_name, method=row.method,
                   licences=list(row.licences), officer=row.officer, office=row.office, given_at=row.given_at,
                   valid_until=row.valid_until, withdrawn_at=row.withdrawn_at, withdrawn_by=row.withdrawn_by,
                   in_force=row.withdrawn_at is None and row.valid_until > now)


def require_where_due(principal: Principal, consent: ConsentInput | None) -> None:
    """A counter officer files for someone with their consent; anyone else files for themselves, without one.

    Raises:
        InvalidInput: `consent` is missing from a counter filing, or sent by someone else.
    """
    if principal.role == Role.COUNTER_OFFICER and consent is None:
        raise InvalidInput("a counter officer files for an entrepreneur with their consent: `consent` is required",
                           hint="check the entrepreneur's ID card, then send consent.method "
                                "\"identity_checked_in_person\" and consent.valid_until", details={"field": "consent"})
    if principal.role != Role.COUNTER_OFFICER and consent is not None:
        raise InvalidInput("`consent` is recorded by a counter officer filing for someone; leave it out",
                           hint="filing for yourself needs no consent", details={"field": "consent"})


def given_by(kind: str, applicant_id_number: str, applicant_name: str, data: ConsentInput) -> tuple[str, str]:
    """Who is at the counter: an individual applicant themselves, unless they sent someone with a signed letter;
    for a juristic one, the person named.

    Raises:
        InvalidInput: an individual's consent in person names someone else, or one that must name someone does not.
    """
    if kind == "individual" and data.method == ConsentMethod.IN_PERSON:
        if data.given_by_id_number not in (None, applicant_id_number):
            raise InvalidInput("an individual consents for themselves: `consent.given_by_id_number` must be the "
                               "applicant's or left out", hint="someone sent by the applicant brings their signed "
                               "letter of authorisation: use the method signed_authorisation",
                               details={"field": "consent.given_by_id_number"})
        return applicant_id_number, data.given_by_name or applicant_name
    if data.given_by_id_number is None or data.given_by_name is None:
        raise InvalidInput("`consent.given_by_id_number` and `consent.given_by_name` name the person at the counter "
                           "(acting for a company, or bringing a signed letter of authorisation)",
                           hint="check their ID card and enter its number and name",
                           details={"field": "consent.given_by_id_number"})
    return data.given_by_id_number, data.given_by_name


def record(ctx: EngineContext, session: Session, principal: Principal, application: ApplicationRow,
           licences: list[str], data: ConsentInput) -> CounterConsentRow:
    """Keep the consent the counter officer took for `application`, on its timeline.

    Raises:
        InvalidInput: `valid_until` is past or too far, or the consenting person does not fit the applicant.
    """
    now = ctx.clock.now()
    person, name = given_by(application.applicant_kind, application.applicant_id_number, application.applicant_name,
                            data)
    row = CounterConsentRow(id=str(uuid.uuid4()), application_id=application.id,
                            entrepreneur=application.applicant_id_number, given_by_id_number=person, given_by_name=name,
                            method=ConsentMethod(data.method), licences=list(licences), officer=principal.label,
                            office=principal.office, given_at=now,
                            valid_until=end_of_day(data.valid_until, now, MAX_CONSENT_DAYS, "consent.valid_until"))
    session.add(row)
    audit.record(session, principal, "consent.given", now, application.id, given_by=mask_thai_id(person),
                 method=row.method, licences=row.licences, office=row.office, valid_until=row.valid_until.isoformat())
    return row


def withdraw(ctx: EngineContext, session: Session, principal: Principal, consent_id: str) -> CounterConsentRow:
    """The entrepreneur (or someone acting for their company) ends the counter's right to act for them.

    Raises:
        NotFound: no such consent in the caller's name. Conflict: already withdrawn.
    """
    now = ctx.clock.now()
    row = session.get(CounterConsentRow, consent_id)
    if row is None or not (principal.role == Role.ADMIN or is_party(session, principal, row.entrepreneur, now)):
        raise NotFound(f"consent {consent_id} does not exist", hint="GET /api/v1/consents lists yours")
    if row.withdrawn_at is not None:
        raise Conflict(f"consent {consent_id} was already withdrawn on {row.withdrawn_at.isoformat()}")
    row.withdrawn_at, row.withdrawn_by = now, principal.label
    audit.record(session, principal, "consent.withdrawn", now, row.application_id, consent=row.id, office=row.office)
    return row


CONSENTS_ORDER = Keyset("consents", (SortKey(CounterConsentRow.given_at, datetime, descending=True),
                                     SortKey(CounterConsentRow.id, str, descending=True)))


def consents_for(ctx: EngineContext, session: Session, principal: Principal, limit: int | None = 100,
                 offset: int = 0, entrepreneur: str | None = None,
                 cursor: list[Any] | None = None) -> Page[CounterConsentRow]:
    """Consents the caller may see, newest first: those in their (or their company's) name, those their counter
    office took, or all (admins); with `entrepreneur`, only those given in that ID number's name (the counter's
    page about one entrepreneur)."""
    query = select(CounterConsentRow)
    if entrepreneur is not None:
        query = query.where(CounterConsentRow.entrepreneur == entrepreneur)
    if principal.role == Role.APPLICANT and principal.id_number is not None:
        query = query.where(or_(col(CounterConsentRow.entrepreneur) == principal.id_number,
                                col(CounterConsentRow.entrepreneur).in_(represented_parties(principal,
                                                                                            ctx.clock.now()))))
    elif principal.role == Role.COUNTER_OFFICER:
        query = query.where(CounterConsentRow.office == principal.office if principal.office is not None
                            else CounterConsentRow.officer == principal.label)
    elif principal.role != Role.ADMIN:
        query = query.where(false())
    return fetch_page(session, query, CONSENTS_ORDER, limit, cursor, offset=offset)


def consent_of(session: Session, application_id: str) -> CounterConsentRow | None:
    return session.exec(select(CounterConsentRow).where(CounterConsentRow.application_id == application_id)).first()
