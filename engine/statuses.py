"""Statuses of licences and applications, and how an application's status follows its licences."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DOCUMENT_CHECK = "document_check"
    DOCUMENTS_REQUESTED = "documents_requested"
    UNDER_CONSIDERATION = "under_consideration"
    AWAITING_PAYMENT = "awaiting_payment"
    ISSUING = "issuing"
    ISSUED = "issued"
    REJECTED = "rejected"
    PAYMENT_EXPIRED = "payment_expired"
    CANCELLED = "cancelled"


# Order of progress: an application is as far along as its least advanced open licence.
_PROGRESS = [Status.DRAFT, Status.SUBMITTED, Status.DOCUMENT_CHECK, Status.DOCUMENTS_REQUESTED,
             Status.UNDER_CONSIDERATION, Status.AWAITING_PAYMENT, Status.ISSUING]
TERMINAL = {Status.ISSUED, Status.REJECTED, Status.PAYMENT_EXPIRED, Status.CANCELLED}


def application_status(licence_statuses: Iterable[str]) -> Status:
    """The application's status from its licences'.

    While any licence is open, the least advanced open one; an applicant who owes documents
    sees that first, because it is the one waiting on them. Once all are closed: issued if
    any was issued, otherwise the one closing status they share, otherwise rejected.
    """
    statuses = [Status(s) for s in licence_statuses]
    open_ = [s for s in statuses if s not in TERMINAL]
    if Status.DOCUMENTS_REQUESTED in open_:
        return Status.DOCUMENTS_REQUESTED
    if open_:
        return min(open_, key=_PROGRESS.index)
    if Status.ISSUED in statuses:
        return Status.ISSUED
    if statuses and len(set(statuses)) == 1:
        return statuses[0]
    return Status.REJECTED
