"""Who may see and act on what: the two questions every use case asks, answered in one place.

**Scope** (`in_scope`): an officer or supervisor works for one agency and, where the agency's cases are
routed to local offices (LAO, BMA: each district office or municipality is its own local administration),
for one office. A case, licence, invoice or refund belongs to the agency *and office* of its licence case,
so a Bang Rak officer never reaches a Khlong Toei case, and an officer token of such an agency that names
no office reaches nothing at all (every case of those agencies carries an office). A case routed to the
agency itself (office None) is in scope for any officer of that agency.

**Ownership** (`is_owner`, `holds`): an application is owned by the `(role, subject)` that filed it, and an
issued licence is held by the `(role, subject)` of its first application. Both halves count: a token of
another role that happens to carry the same `sub` is someone else. The owning role is an applicant, or a
counter officer who filed for a citizen at the counter (README, "who may do what").

Admins may do everything: callers let them through before asking about scope or ownership (which answer
no for an admin; only `owner_filter`, for lists, gives an admin every row). Any role or claim not named
here gets no: the checks fail closed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from bizportal.engine.errors import NotFound
from bizportal.engine.principal import Principal, Role
from bizportal.engine.statuses import Status
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.issued_licences import IssuedLicenceRow

AGENCY_ROLES = frozenset({Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR})
OFFICERS = frozenset({Role.AGENCY_OFFICER})  # who works on cases; supervisors oversee them
OWNER_ROLES = frozenset({Role.APPLICANT, Role.COUNTER_OFFICER})  # the roles that file applications


def in_scope(principal: Principal, agency: str | None, office: str | None,
             roles: frozenset[Role] = AGENCY_ROLES) -> bool:
    """Whether `principal` (in one of `roles`) works for `agency` and, for a case routed to a local office,
    for that `office`. Admins are not in any agency's scope: callers let them through explicitly."""
    if principal.role not in roles or not principal.agency or principal.agency != agency:
        return False
    return office is None or principal.office == office


def scope_filter(principal: Principal, agency_column: Any, office_column: Any,
                 roles: frozenset[Role] = AGENCY_ROLES) -> ColumnElement[bool]:
    """`in_scope` as a SQL condition on a row's agency and office columns (for lists)."""
    if principal.role not in roles or not principal.agency:
        return false()
    central = office_column.is_(None)
    office = or_(central, office_column == principal.office) if principal.office else central
    return and_(agency_column == principal.agency, office)


def owns(principal: Principal, subject: str, role: str) -> bool:
    """Whether `principal` is the `(role, subject)` that owns something."""
    return principal.role in OWNER_ROLES and principal.role.value == role and principal.subject == subject


def owner_filter(principal: Principal, subject_column: Any, role_column: Any) -> ColumnElement[bool]:
    """`owns` as a SQL condition (admins: every row)."""
    if principal.role == Role.ADMIN:
        return true()
    if principal.role not in OWNER_ROLES:
        return false()
    return and_(subject_column == principal.subject, role_column == principal.role.value)


def is_owner(principal: Principal, application: ApplicationRow) -> bool:
    """Whether `principal` filed `application` (its `owner`, in the role `created_by_role`)."""
    return owns(principal, application.owner, application.created_by_role)


def holds(principal: Principal, issued: IssuedLicenceRow) -> bool:
    """Whether `principal` holds the issued licence (its `holder_subject`, in the role `holder_role`)."""
    return owns(principal, issued.holder_subject, issued.holder_role)


def may_read_application(session: Session, principal: Principal, application: ApplicationRow) -> bool:
    """The owner and admins read any application; officers one with a case of their agency and office."""
    if principal.role == Role.ADMIN or is_owner(principal, application):
        return True
    if principal.role == Role.AGENCY_OFFICER and application.status != Status.DRAFT:
        cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id,
                                                          LicenceCaseRow.agency == principal.agency))
        return any(in_scope(principal, case.agency, case.office, OFFICERS) for case in cases)
    return False


def readable_application(session: Session, principal: Principal, application_id: str) -> ApplicationRow:
    """The application, if the caller may read it.

    Raises:
        NotFound: no such application, or one the caller may not read (the same answer, so ids cannot be probed).
    """
    application = session.get(ApplicationRow, application_id)
    if application is None or not may_read_application(session, principal, application):
        raise NotFound(f"application {application_id} does not exist")
    return application
