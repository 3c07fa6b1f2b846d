"""The staff register: administrators add, change and deactivate staff; a staff sign-in is looked up here.

A staff member is named by the provider that signs them in (`issuer`, its `sub`); their role, agency and
office are the register's, never a claim the person controls. `staff_principal` is asked on every request a
staff member makes (bearer token or session cookie), so a deactivated member loses access at once.

Every change is audited with who made it (`audit.record`, events `staff.added`, `staff.changed`,
`staff.deactivated`). The register keeps at least one active administrator: the last one cannot be
demoted or deactivated (that would leave nobody able to manage it but the operator's CLI).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bizportal.engine import audit, idempotency
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from bizportal.engine.input_text import line
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import Principal, Role
from bizportal.storage.staff import StaffMemberRow

REGISTER_HINT = "ask an administrator to add you to the staff register (POST /api/v1/staff)"
CODE_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"  # agency and office codes (bpmn/agencies.yaml, offices.yaml)


class StaffRole(StrEnum):
    """The roles the register gives: every role but applicant (citizens sign in as themselves)."""

    COUNTER_OFFICER = Role.COUNTER_OFFICER.value
    AGENCY_OFFICER = Role.AGENCY_OFFICER.value
    AGENCY_SUPERVISOR = Role.AGENCY_SUPERVISOR.value
    ADMIN = Role.ADMIN.value


AGENCY_ROLES = frozenset({StaffRole.AGENCY_OFFICER, StaffRole.AGENCY_SUPERVISOR})

Code = Annotated[str, line(40, min_length=1, pattern=CODE_PATTERN)]
Name = Annotated[str, line(200, min_length=1)]


class StaffInput(BaseModel):
    """A person to add to the register."""

    model_config = ConfigDict(extra="forbid")

    issuer: Annotated[str, line(500, min_length=1, pattern=r"^https?://\S+$")] = Field(
        description="the staff provider's issuer URL (BIZPORTAL_STAFF_OIDC_ISSUER)")
    subject: Annotated[str, line(255, min_length=1)] = Field(description="the provider's `sub` for the person")
    role: StaffRole
    agency: Code | None = Field(default=None, description="agency code; required for agency officers and supervisors")
    office: Code | None = Field(default=None, description="local office code (bpmn/offices.yaml), serving the agency")
    name: Name | None = Field(default=None, description="display name; unset: the name the sign-in gives")


class StaffChange(BaseModel):
    """What to change of an entry: only the fields sent change (send `null` to clear agency, office or name)."""

    model_config = ConfigDict(extra="forbid")

    role: StaffRole | None = None
    agency: Code | None = None
    office: Code | None = None
    name: Name | None = None
    active: bool | None = Field(default=None, description="false: the person loses access on their next request")


class StaffMember(BaseModel):
    id: str
    issuer: str
    subject: str
    name: str | None
    role: StaffRole
    agency: str | None
    office: str | None
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


def _view(row: StaffMemberRow) -> StaffMember:
    return StaffMember(id=row.id, issuer=row.issuer, subject=row.subject, name=row.name, role=StaffRole(row.role),
                       agency=row.agency, office=row.office, active=row.active, created_at=row.created_at,
                       created_by=row.created_by, updated_at=row.updated_at, updated_by=row.updated_by)


def _admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators manage the staff register",
                        hint="sign in as an administrator (a staff member whose register entry has the role admin)")


def _check_place(ctx: EngineContext, role: StaffRole, agency: str | None, office: str | None) -> None:
    """An agency role needs an agency of the catalogue; an office must be in the directory and serve the agency.

    Raises:
        InvalidInput: naming the field at fault.
    """
    if role in AGENCY_ROLES and not agency:
        raise InvalidInput(f"the role {role.value} needs an agency", hint="give `agency`, an agency code of "
                           "GET /api/v1/licences (e.g. LAO)", details={"field": "agency"})
    if agency is not None and agency not in ctx.catalogue.agencies:
        raise InvalidInput(f"agency {agency!r} is not in the catalogue",
                           hint=f"give one of: {', '.join(sorted(ctx.catalogue.agencies))}",
                           details={"field": "agency"})
    if office is None:
        return
    try:
        place = ctx.offices.get(office)
    except NotFound as err:
        raise InvalidInput(f"office {office!r} is not in the office directory",
                           hint="office codes are listed in bpmn/offices.yaml (e.g. BKK-KHLONG-TOEI)",
                           details={"field": "office"}) from err
    if agency is not None and not place.serves(agency):
        raise InvalidInput(f"office {office!r} does not handle the licences of agency {agency!r}",
                           hint=f"the office serves {', '.join(place.agencies)}; give one of them, or another "
                           "office", details={"field": "office"})


def _find(session: Session, issuer: str, subject: str) -> StaffMemberRow | None:
    return session.exec(select(StaffMemberRow).where(StaffMemberRow.issuer == issuer,
                                                     StaffMemberRow.subject == subject)).first()


def _already(existing: StaffMemberRow) -> Conflict:
    return Conflict(f"{existing.subject!r} of {existing.issuer} is already in the staff register (entry "
                    f"{existing.id})", hint=f"change that entry with PATCH /api/v1/staff/{existing.id}",
                    details={"id": existing.id})


def _row(session: Session, member_id: str) -> StaffMemberRow:
    row = session.get(StaffMemberRow, member_id)
    if row is None:
        raise NotFound(f"no staff member {member_id!r}", hint="GET /api/v1/staff lists the register")
    return row


def _record(session: Session, actor: Principal, event: str, at: datetime, row: StaffMemberRow,
            **detail: Any) -> None:
    audit.record(session, actor, event, at, staff_member_id=row.id, issuer=row.issuer, subject=row.subject, **detail)


def add(ctx: EngineContext, session: Session, principal: Principal, data: StaffInput,
        idempotency_key: str | None = None) -> tuple[StaffMember, bool]:
    """Add a person. With an idempotency key, a repeat of the same request returns the first entry (and False).

    Raises:
        Forbidden: the caller is not an administrator.
        InvalidInput: an agency role without an agency, an unknown agency or office, an office not serving it.
        Conflict: the person is already in the register (the message names the entry), or the idempotency key
            was first used with a different request.
    """
    _admin(principal)
    request_fingerprint = idempotency.fingerprint("staff.add", data)
    issuer = data.issuer.rstrip("/")
    if idempotency_key:
        earlier = session.exec(select(StaffMemberRow).where(StaffMemberRow.created_by == principal.label,
                                                            StaffMemberRow.idempotency_key == idempotency_key)).first()
        if earlier is not None:
            if earlier.idempotency_fingerprint != request_fingerprint:
                raise idempotency.key_reused(idempotency_key)
            return _view(earlier), False
    _check_place(ctx, data.role, data.agency, data.office)
    existing = _find(session, issuer, data.subject)
    if existing is not None:
        raise _already(existing)
    now = ctx.clock.now()
    row = StaffMemberRow(id=str(uuid.uuid4()), issuer=issuer, subject=data.subject, name=data.name,
                         role=data.role.value, agency=data.agency, office=data.office, active=True, created_at=now,
                         created_by=principal.label, updated_at=now, updated_by=principal.label,
                         idempotency_key=idempotency_key,
                         idempotency_fingerprint=request_fingerprint if idempotency_key else None)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as err:  # the same person added by two requests at once
        raise Conflict(f"{data.subject!r} of {issuer} was added to the staff register at the same time",
                       hint="GET /api/v1/staff to find the entry") from err
    _record(session, principal, "staff.added", now, row, role=row.role, agency=row.agency, office=row.office,
            name=row.name)
    return _view(row), True


def change(ctx: EngineContext, session: Session, principal: Principal, member_id: str,
           data: StaffChange) -> StaffMember:
    """Change the fields `data` sets; audited with the old and new values.

    Raises:
        Forbidden: the caller is not an administrator.
        NotFound: no such entry.
        InvalidInput: the result breaks a rule of `add` (role, agency and office are checked together).
        Conflict: it would leave the register without an active administrator.
    """
    _admin(principal)
    row = _row(session, member_id)
    sent = data.model_fields_set
    if "role" in sent and data.role is None:
        raise InvalidInput("`role` cannot be cleared", hint="give one of: " + ", ".join(r.value for r in StaffRole),
                           details={"field": "role"})
    if "active" in sent and data.active is None:
        raise InvalidInput("`active` must be true or false", details={"field": "active"})
    role = data.role if "role" in sent and data.role is not None else StaffRole(row.role)
    agency = data.agency if "agency" in sent else row.agency
    office = data.office if "office" in sent else row.office
    name = data.name if "name" in sent else row.name
    active = data.active if "active" in sent and data.active is not None else row.active
    before = {"role": row.role, "agency": row.agency, "office": row.office, "name": row.name, "active": row.active}
    after = {"role": role.value, "agency": agency, "office": office, "name": name, "active": active}
    changes = {field: [before[field], after[field]] for field in before if before[field] != after[field]}
    if not changes:
        return _view(row)
    _check_place(ctx, role, agency, office)
    if row.role == Role.ADMIN.value and row.active and (role != StaffRole.ADMIN or not active):
        _keep_an_admin(session, row)
    now = ctx.clock.now()
    row.role, row.agency, row.office, row.name, row.active = role.value, agency, office, name, active
    row.updated_at, row.updated_by = now, principal.label
    session.add(row)
    event = "staff.deactivated" if changes.get("active") == [True, False] else "staff.changed"
    _record(session, principal, event, now, row, changes=changes)
    return _view(row)


def deactivate(ctx: EngineContext, session: Session, principal: Principal, member_id: str) -> StaffMember:
    """The person can no longer sign in; their entry stays for the audit trail. See `change` for the errors."""
    return change(ctx, session, principal, member_id, StaffChange(active=False))


def _keep_an_admin(session: Session, row: StaffMemberRow) -> None:
    others = session.exec(select(func.count()).select_from(StaffMemberRow).where(
        StaffMemberRow.role == Role.ADMIN.value, col(StaffMemberRow.active).is_(True),
        StaffMemberRow.id != row.id)).one()
    if not others:
        raise Conflict("this is the register's last active administrator: nobody could manage the register after "
                       "this change", hint="add or activate another administrator first")


MEMBERS_ORDER = Keyset("staff", (SortKey(StaffMemberRow.created_at, datetime), SortKey(StaffMemberRow.id, str)))


def list_members(session: Session, principal: Principal, limit: int, offset: int,
                 active: bool | None = None, cursor: list[Any] | None = None) -> Page[StaffMember]:
    """The register, oldest entry first (optionally only active or only deactivated entries), one page after
    `cursor` (engine/paging.py).

    Raises:
        Forbidden: the caller is not an administrator.
        InvalidInput: a cursor that is not this list's.
    """
    _admin(principal)
    statement = select(StaffMemberRow)
    if active is not None:
        statement = statement.where(col(StaffMemberRow.active).is_(active))
    return fetch_page(session, statement, MEMBERS_ORDER, limit, cursor, offset=offset).map(_view)


def get(session: Session, principal: Principal, member_id: str) -> StaffMember:
    """One entry.

    Raises:
        Forbidden: the caller is not an administrator.
        NotFound: no such entry.
    """
    _admin(principal)
    return _view(_row(session, member_id))


def names_anyone_of(session: Session, issuer: str) -> bool:
    """Whether the register has an entry (active or not) of the provider `issuer`."""
    found = session.exec(select(StaffMemberRow.id).where(StaffMemberRow.issuer == issuer.rstrip("/"))).first()
    return found is not None


def staff_principal(session: Session, issuer: str, subject: str, name: str | None = None) -> Principal:
    """Who a staff sign-in is: role, agency and office from the register; `name` (the sign-in's) unless the
    register names the person.

    Raises:
        Forbidden: the person is not in the register, or their entry is deactivated (the hint says whom to ask).
    """
    row = _find(session, issuer.rstrip("/"), subject)
    if row is None:
        raise Forbidden(f"{subject!r} of {issuer} signed in as staff but is not in the staff register",
                        hint=REGISTER_HINT, details={"issuer": issuer, "subject": subject})
    if not row.active:
        raise Forbidden(f"{subject!r} of {issuer} is deactivated in the staff register",
                        hint=REGISTER_HINT.replace("add you to", "reactivate you in"),
                        details={"issuer": issuer, "subject": subject})
    display = row.name or (" ".join(name.split())[:200] if name else None)
    return Principal(subject=row.subject, role=Role(row.role), agency=row.agency, office=row.office, name=display)
