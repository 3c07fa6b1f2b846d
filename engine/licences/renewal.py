"""When a licence may be renewed, and how long the renewed one runs.

- Only a licence with an expiry (the manual's `validity_years`) is renewed; one without never expires.
- Only a `valid` licence: a revoked one is gone, a suspended one is reinstated first (a renewal must not
  slip out of a suspension), a cancelled, renewed or replaced one has nothing left to renew.
- Within `WINDOW_DAYS` before its expiry (the first renewal reminder goes out when the window opens) and
  up to `GRACE_DAYS` after it; later, the business applies for a new licence. Renewing late in the grace
  period does not excuse trading while the licence had expired, and the fee is the licence's own fee rule
  (surcharges some ordinances add for late renewal are not modelled).
- The renewed licence continues from the old expiry, so renewing early loses no days and renewing late
  gains none: `validity_years` counted from the day after the old expiry (computed when it is issued,
  engine/licences/issuing.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

from bizportal.engine.errors import Conflict
from bizportal.engine.input_text import text
from bizportal.engine.licences.current import require_current
from bizportal.engine.licences.request_input import HolderInput
from bizportal.storage.issued_licences import IssuedLicenceRow

WINDOW_DAYS = 90
GRACE_DAYS = 30


class RenewalInput(HolderInput):
    note: Annotated[str, text(2000)] = Field(default="", description="anything the agency should know (optional)")


def window(valid_until: date) -> tuple[date, date]:
    """The first and the last day a licence expiring on `valid_until` may be renewed."""
    return valid_until - timedelta(days=WINDOW_DAYS), valid_until + timedelta(days=GRACE_DAYS)


def check_renewable(issued: IssuedLicenceRow, today: date) -> None:
    """Raises Conflict, saying why and what to do instead, unless `issued` may be renewed `today`."""
    number = issued.number
    if issued.valid_until is None:
        raise Conflict(f"licence {number} does not expire, so it is never renewed",
                       hint="nothing to do: it stays valid until it is cancelled or revoked")
    require_current(issued, "renew")
    opens, closes = window(issued.valid_until)
    if today < opens:
        raise Conflict(f"renewal of licence {number} opens on {opens.isoformat()}, {WINDOW_DAYS} days before it "
                       f"expires on {issued.valid_until.isoformat()}",
                       hint=f"request it on or after {opens.isoformat()}",
                       details={"renewal_opens_on": opens.isoformat()})
    if today > closes:
        raise Conflict(f"licence {number} expired on {issued.valid_until.isoformat()} and the {GRACE_DAYS}-day grace "
                       f"period for renewing it ended on {closes.isoformat()}",
                       hint="apply for a new licence with POST /api/v1/applications",
                       details={"renewal_closed_on": closes.isoformat()})
