"""Whether an issued-licence record is the one a holder may still act on (renew, amend).

Its own module: renewal and amendment ask it, and licence_standing (which also restarts or stops the renewal
reminders) must not be imported by them, or licence_standing -> renewal_reminders -> licence_renewal ->
licence_standing is an import cycle.
"""

from __future__ import annotations

from bizportal.engine.errors import Conflict
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding


def require_current(issued: IssuedLicenceRow, verb: str) -> None:
    """Raises Conflict, saying why and what to do, unless `issued` is the valid, current record of its licence.

    `verb` is what the holder asked for ("renew", "amend"): a renewed or replaced record points to its
    successor, a suspended one waits for reinstatement, anything else (revoked, cancelled) is over.
    """
    number = issued.number
    if issued.status in (LicenceStanding.RENEWED, LicenceStanding.REPLACED):
        raise Conflict(f"licence {number} was {issued.status} by {issued.successor_number}",
                       hint=f"{verb} {issued.successor_number} instead")
    if issued.status == LicenceStanding.SUSPENDED:
        raise Conflict(f"licence {number} is suspended", hint=f"it can be {verb}ed once the agency reinstates it")
    if issued.status != LicenceStanding.VALID:
        raise Conflict(f"licence {number} is {issued.status} and cannot be {verb}ed",
                       hint="apply for a new licence with POST /api/v1/applications")
