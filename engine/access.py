"""Who may see and act on what: the two questions every use case asks, answered in one place.

**Scope** (`in_scope`): an officer or supervisor works for one agency and, where the agency's cases are
routed to local offices (LAO, BMA: each district office or municipality is its own local administration),
for one office. A case, licence, invoice or refund belongs to the agency *and office* of its licence case,
so a Bang Rak officer never reaches a Khlong Toei case, and an officer token of such an agency that names
no office reaches nothing at all (every case of those agencies carries an office). A case routed to the
agency itself (office None) is in scope for any officer of that agency.

**Ownership** (`is_party`, `is_owner`, `holds`): an application, and the licence it leads to, belongs to the
applicant it names, by 13-digit ID number: a person's national ID number, or a juristic person's registration
number. The signed-in applicant is that party when the identity provider vouches for the same ID number, and
acts for a juristic party when they represent it (a director per the company registry, or someone the company
authorised: storage/representatives.py). A `sub` alone owns nothing, and neither does another role.

**Counter filing** (`by_consent`): a counter officer who filed for an entrepreneur acts for them while the
entrepreneur's consent is in force (storage/consents.py: not withdrawn, not past its end), and only from the
office that filed it (any counter officer there: counters work in shifts); a counter officer without an office
only for what they filed themselves.

Admins may do everything: callers let them through before asking about scope or ownership (which answer
no for an admin; only `owner_filter`, for lists, gives an admin every row). Any role or claim not named
here gets no: the checks fail closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bizportal.engine.errors import NotFound
from bizportal.engine.principal import Principal, Role
from bizportal.engine.statuses import Status
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.consents import CounterConsentRow
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.representatives import RepresentativeRow

AGENCY_ROLES = frozenset({Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR})
OFFICERS = frozenset({Role.AGENCY_OFFICER})  # who works on cases; supervisors oversee them


def in_scope(principal: Principal, agency: str | None, office: str | None,
             roles: frozenset[Role] = AGENCY_ROLES) -> bool:
    """Whether `principal` (in one of `roles`) works for `agency` and, for a case routed to a local office,
    for that `office`. Admins are not in any agency's scope: callers let them through explicitly."""
    if principal.role not in roles or not principal.agency or principal.agency != agency:
        return False
    return office is None or principal.office == office


def scope_filter(principal: Principal, agency_column: Any, office_column: Any,
                 roles: frozenset[Role] = AGENCY_ROLES,
                 offices: Sequence[str | None] | None = None) -> ColumnElement[bool]:
    """`in_scope` as a SQL condition on a row's agency and office columns (for lists); with `offices` (some of
    `scope_offices`), only the rows of those: one office is one range of an index by agency and office, an OR of
    two is not (engine/cases/tasks.py `_office_ranges`)."""
    if principal.role not in roles or not principal.agency:
        return false()
    within = scope_offices(principal) if offices is None else [o for o in offices if o in scope_offices(principal)]
    if not within:
        return false()
    return and_(agency_column == principal.agency,
                or_(*(office_column.is_(None) if office is None else office_column == office for office in within)))


def scope_offices(principal: Principal) -> list[str | None]:
    """The offices whose rows of the principal's agency `in_scope` admits: the agency's own (None), and their
    office where they have one. (A list that walks an index by agency and office reads one range of each.)"""
    return [None, principal.office] if principal.office else [None]


def is_party(session: Session, principal: Principal, party: str, now: datetime) -> bool:
    """Whether the signed-in applicant is `party` (an ID number), or represents it."""
    if principal.role != Role.APPLICANT or principal.id_number is None:
        return False
    return principal.id_number == party or session.exec(
        select(RepresentativeRow.id).where(RepresentativeRow.id_number == principal.id_number,
                                           RepresentativeRow.juristic_number == party,
                                           representation_in_force(now))).first() is not None


def represented_parties(principal: Principal, now: datetime) -> SelectOfScalar[str]:
    """The juristic persons the signed-in applicant represents, as a sub-query of their numbers."""
    return select(RepresentativeRow.juristic_number).where(RepresentativeRow.id_number == principal.id_number,
                                                           representation_in_force(now))


def representation_in_force(now: datetime) -> ColumnElement[bool]:
    """A representation not revoked and not past its end (a director's has none)."""
    return and_(col(RepresentativeRow.revoked_at).is_(None),
                or_(col(RepresentativeRow.valid_until).is_(None), col(RepresentativeRow.valid_until) > now))


def by_consent(session: Session, principal: Principal, application: ApplicationRow, now: datetime) -> bool:
    """Whether `principal` is a counter officer acting for the applicant under their consent."""
    if principal.role != Role.COUNTER_OFFICER or not _filed_here(principal, application.created_by_role,
                                                                 application.filed_at_office, application.created_by):
        return False
    return session.exec(select(CounterConsentRow.id).where(CounterConsentRow.application_id == application.id,
                                                           consent_in_force(now))).first() is not None


def _filed_here(principal: Principal, role: str, office: str | None, filer: str) -> bool:
    if role != Role.COUNTER_OFFICER.value:
        return False
    return office == principal.office if office is not None else filer == principal.subject


def consent_in_force(now: datetime) -> ColumnElement[bool]:
    """A consent to counter filing not withdrawn and not past its end."""
    return and_(col(CounterConsentRow.withdrawn_at).is_(None), col(CounterConsentRow.valid_until) > now)


def owner_filter(principal: Principal, now: datetime) -> ColumnElement[bool]:
    """`is_owner` as a SQL condition on applications (admins: every row)."""
    if principal.role == Role.ADMIN:
        return true()
    if principal.role == Role.APPLICANT and principal.id_number is not None:
        return or_(col(ApplicationRow.owner) == principal.id_number,
                   col(ApplicationRow.owner).in_(represented_parties(principal, now)))
    if principal.role == Role.COUNTER_OFFICER:
        here = (col(ApplicationRow.filed_at_office) == principal.office if principal.office is not None
                else and_(col(ApplicationRow.filed_at_office).is_(None),
                          col(ApplicationRow.created_by) == principal.subject))
        consented = select(CounterConsentRow.id).where(CounterConsentRow.application_id == ApplicationRow.id,
                                                       consent_in_force(now)).exists()
        return and_(col(ApplicationRow.created_by_role) == Role.COUNTER_OFFICER.value, here, consented)
    return false()


def is_owner(session: Session, principal: Principal, application: ApplicationRow, now: datetime) -> bool:
    """Whether `principal` may act on `application` as its applicant: the applicant themselves, someone who
    represents them, or the counter that filed it while the consent holds."""
    return is_party(session, principal, application.owner, now) or by_consent(session, principal, application, now)


def holds(session: Session, principal: Principal, issued: IssuedLicenceRow, now: datetime) -> bool:
    """Whether `principal` holds the issued licence (the person or juristic person it was issued to), or acts
    for the holder: the counter that filed its application, while the consent holds."""
    if is_party(session, principal, issued.holder_id_number, now):
        return True
    application = session.get(ApplicationRow, issued.application_id) if principal.role == Role.COUNTER_OFFICER else None
    return application is not None and by_consent(session, principal, application, now)


def may_read_application(session: Session, principal: Principal, application: ApplicationRow,
                         now: datetime) -> bool:
    """The owner and admins read any application; officers one with a case of their agency and office."""
    if principal.role == Role.ADMIN or is_owner(session, principal, application, now):
        return True
    if principal.role == Role.AGENCY_OFFICER and application.status != Status.DRAFT:
        cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id,
                                                          LicenceCaseRow.agency == principal.agency))
        return any(in_scope(principal, case.agency, case.office, OFFICERS) for case in cases)
    return False


def readable_application(session: Session, principal: Principal, application_id: str,
                         now: datetime) -> ApplicationRow:
    """The application, if the caller may read it.

    Raises:
        NotFound: no such application, or one the caller may not read (the same answer, so ids cannot be probed).
    """
    application = session.get(ApplicationRow, application_id)
    if application is None or not may_read_application(session, principal, application, now):
        raise NotFound(f"application {application_id} does not exist")
    return application
