"""Revoking, suspending and reinstating an issued licence: by its issuing agency (and, for a licence of a
local office, that office), with a reason, audited.

Verification (the QR page, the JSON check, the PDF upload) reads the standing, so a revoked or
suspended licence shows as such everywhere at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from bizportal.engine import audit
from bizportal.engine.access import in_scope
from bizportal.engine.clock import BANGKOK
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Expired, NotFound
from bizportal.engine.input_text import text
from bizportal.engine.licences import renewal_reminders
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import LicenceCaseRow
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding

# A licence in one of these standings may not be shared any more: download links made before stop working.
NOT_SHAREABLE = (LicenceStanding.REVOKED, LicenceStanding.SUSPENDED, LicenceStanding.CANCELLED)


def require_shareable(session: Session, number: str) -> None:
    """A link to the licence's PDF works only while the licence may be shown to others.

    Raises:
        Expired: the licence is revoked, suspended or cancelled, or no longer exists.
    """
    issued = session.get(IssuedLicenceRow, number)
    standing = issued.status if issued is not None else None
    if standing is None or standing in NOT_SHAREABLE:
        raise Expired(f"this download link no longer works: the licence is {standing or 'gone'}",
                      hint="the licence's holder or its agency can tell you more")


Action = Literal["revoke", "suspend", "reinstate"]
_NEXT = {"revoke": LicenceStanding.REVOKED, "suspend": LicenceStanding.SUSPENDED, "reinstate": LicenceStanding.VALID}
_ALLOWED_FROM = {"revoke": {LicenceStanding.VALID, LicenceStanding.SUSPENDED}, "suspend": {LicenceStanding.VALID},
                 "reinstate": {LicenceStanding.SUSPENDED}}


class StandingChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, text(2000, min_length=3)] = Field(description="recorded and shown to the holder")


def change_standing(ctx: EngineContext, session: Session, principal: Principal, number: str, action: Action,
                    data: StandingChange) -> IssuedLicenceRow:
    """Apply `action` to a licence of the caller's agency and office.

    Raises:
        NotFound: no such licence, or the caller is not an officer or supervisor of its issuing agency (and
            office): the same answer either way, so licence numbers cannot be probed.
        Conflict: the licence's standing does not allow it (e.g. reinstating a revoked licence).
    """
    issued = session.get(IssuedLicenceRow, number)
    case = session.get(LicenceCaseRow, issued.licence_case_id) if issued is not None else None
    if issued is None or case is None or not (
            principal.role == Role.ADMIN or in_scope(principal, issued.agency, case.office)):
        raise NotFound(f"issued licence {number} does not exist",
                       hint="its issuing agency (and local office) changes a licence's standing")
    if issued.status not in _ALLOWED_FROM[action]:
        hint = (f"act on its successor {issued.successor_number}" if issued.successor_number
                else "a revoked or cancelled licence stays so; only a suspended one can be reinstated")
        raise Conflict(f"licence {number} is {issued.status}: it cannot be {action}d", hint=hint)
    previous, issued.status = issued.status, _NEXT[action]
    if issued.status == LicenceStanding.VALID:
        renewal_reminders.resume(issued, ctx.clock.now().astimezone(BANGKOK).date())
    else:
        renewal_reminders.stop(issued)  # a revoked or suspended licence is not reminded to renew
    audit.record(session, principal, f"licence.{_NEXT[action]}", ctx.clock.now(), issued.application_id,
                 licence_number=number, reason=data.reason, **{"from": previous})
    return issued

