"""Revoking, suspending and reinstating an issued licence: by its issuing agency, with a reason, audited.

Verification (the QR page, the JSON check, the PDF upload) reads the standing, so a revoked or
suspended licence shows as such everywhere at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from bizportal.engine import audit, renewal_reminders
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, NotFound
from bizportal.engine.input_text import text
from bizportal.engine.principal import Principal, Role
from bizportal.engine.working_days import BANGKOK
from bizportal.storage.issued_licences import IssuedLicenceRow

Action = Literal["revoke", "suspend", "reinstate"]
_NEXT = {"revoke": "revoked", "suspend": "suspended", "reinstate": "valid"}
_ALLOWED_FROM = {"revoke": {"valid", "suspended"}, "suspend": {"valid"}, "reinstate": {"suspended"}}


class StandingChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: text(2000, min_length=3) = Field(description="recorded and shown to the holder")


def change_standing(ctx: EngineContext, session: Session, principal: Principal, number: str, action: Action,
                    data: StandingChange) -> IssuedLicenceRow:
    """Apply `action` to a licence of the caller's agency.

    Raises:
        NotFound: no such licence (or not the caller's agency's: not revealed).
        Forbidden: not an officer or supervisor of the issuing agency.
        Conflict: the licence's standing does not allow it (e.g. reinstating a revoked licence).
    """
    issued = session.get(IssuedLicenceRow, number)
    if issued is None:
        raise NotFound(f"issued licence {number} does not exist")
    if principal.role not in (Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR, Role.ADMIN) or (
            principal.role != Role.ADMIN and principal.agency != issued.agency):
        raise Forbidden(f"only the issuing agency ({issued.agency}) can {action} licence {number}")
    if issued.status not in _ALLOWED_FROM[action]:
        hint = (f"act on its successor {issued.successor_number}" if issued.successor_number
                else "a revoked or cancelled licence stays so; only a suspended one can be reinstated")
        raise Conflict(f"licence {number} is {issued.status}: it cannot be {action}d", hint=hint)
    previous, issued.status = issued.status, _NEXT[action]
    if issued.status == "valid":
        renewal_reminders.resume(issued, ctx.clock.now().astimezone(BANGKOK).date())
    else:
        renewal_reminders.stop(issued)  # a revoked or suspended licence is not reminded to renew
    audit.record(session, principal, f"licence.{_NEXT[action]}", ctx.clock.now(), issued.application_id,
                 licence_number=number, reason=data.reason, **{"from": previous})
    return issued


def require_current(issued: IssuedLicenceRow, verb: str) -> None:
    """Raises Conflict, saying why and what to do, unless `issued` is the valid, current record of its licence.

    `verb` is what the holder asked for ("renew", "amend"): a renewed or replaced record points to its
    successor, a suspended one waits for reinstatement, anything else (revoked, cancelled) is over.
    """
    number = issued.number
    if issued.status in ("renewed", "replaced"):
        raise Conflict(f"licence {number} was {issued.status} by {issued.successor_number}",
                       hint=f"{verb} {issued.successor_number} instead")
    if issued.status == "suspended":
        raise Conflict(f"licence {number} is suspended", hint=f"it can be {verb}ed once the agency reinstates it")
    if issued.status != "valid":
        raise Conflict(f"licence {number} is {issued.status} and cannot be {verb}ed",
                       hint="apply for a new licence with POST /api/v1/applications")
