"""What a licence case asks for: a new licence, or a renewal, amendment or cancellation of an issued one.

Every kind runs through the same machinery (application, case, process, inbox, statutory clock,
invoices, issuing); the kind picks the process. A new licence runs its own licence's process; the
lifecycle kinds run one shared process each (bpmn/lifecycle/), with the licence's agency and office.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bizportal.engine.catalogue.manual import LicenceManual


class Kind(StrEnum):
    NEW = "new"
    RENEWAL = "renewal"
    AMENDMENT = "amendment"
    CANCELLATION = "cancellation"


# Process id of each lifecycle kind (bpmn/lifecycle/<id>.bpmn).
LIFECYCLE_PROCESSES: dict[Kind, str] = {
    Kind.RENEWAL: "licence_renewal",
    Kind.AMENDMENT: "licence_amendment",
    Kind.CANCELLATION: "licence_cancellation",
}
# The renewal's one agency decision: where an assessed renewal fee is set, as the final decision sets a new one's.
RENEWAL_REVIEW_STEP = "renewal_review"


def process_id(kind: str, licence_code: str) -> str:
    """The process a case of `kind` for `licence_code` runs."""
    return licence_code if kind == Kind.NEW else LIFECYCLE_PROCESSES[Kind(kind)]


def fee_setting_step(manual: LicenceManual, kind: str) -> str | None:
    """The step whose approval sets the fee, where the manual leaves the amount to the agency (else None).

    Amendments and cancellations raise no fee, so nothing sets one there.
    """
    if not manual.fee_assessed_by_agency:
        return None
    return {Kind.NEW: manual.final_decision_step, Kind.RENEWAL: RENEWAL_REVIEW_STEP}.get(Kind(kind))


@dataclass(frozen=True)
class FeeRange:
    """Where the agency assesses the fee: the satang it may set (no upper bound when `max_satang` is None)."""

    min_satang: int
    max_satang: int | None


def fee_to_set(manual: LicenceManual, kind: str, step: str) -> FeeRange | None:
    """The range the fee must lie in if approving `step` sets it, else None.

    The one builder of the bounds: the inbox shows them, an agency's system receives them with the task,
    and completing the task checks the fee against them.
    """
    if step != fee_setting_step(manual, kind):
        return None
    return FeeRange(min_satang=manual.fee.min_satang or 0, max_satang=manual.fee.max_satang)
