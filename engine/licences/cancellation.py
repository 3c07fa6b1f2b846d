"""Cancelling an issued licence at its holder's request (closing the business, giving the licence up).

The holder asks; the issuing agency acknowledges (it may refuse, with a reason: say, while it is acting
against the business); the licence then becomes `cancelled`: verification says so and the public register
no longer lists it. Revocation and suspension are the agency's own acts (engine/licences/standing.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from bizportal.engine import audit
from bizportal.engine.cases.case import case_of
from bizportal.engine.clock import BANGKOK
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict
from bizportal.engine.licences import renewal_reminders
from bizportal.engine.licences.request_input import ReasonInput
from bizportal.engine.notices.notifier import notify
from bizportal.engine.principal import SYSTEM
from bizportal.engine.workflow.script_engine import ServiceCall
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding
from bizportal.storage.workflow_tables import WorkflowInstanceRow

EVENT = "licence_cancelled"
CANCELLABLE = (LicenceStanding.VALID, LicenceStanding.SUSPENDED)  # a suspended licence may be given up too


class CancellationInput(ReasonInput):
    pass


def check_cancellable(issued: IssuedLicenceRow, today: date) -> None:
    """Raises Conflict, saying why, unless `issued` may be cancelled `today`."""
    number = issued.number
    if issued.status in (LicenceStanding.RENEWED, LicenceStanding.REPLACED):
        raise Conflict(f"licence {number} was {issued.status} by {issued.successor_number}",
                       hint=f"cancel {issued.successor_number} instead")
    if issued.status not in CANCELLABLE:
        raise Conflict(f"licence {number} is already {issued.status}", hint="nothing is left to cancel")
    if issued.valid_until is not None and issued.valid_until < today:
        raise Conflict(f"licence {number} expired on {issued.valid_until.isoformat()}",
                       hint="an expired licence needs no cancelling")


def cancel_licence(ctx: EngineContext, session: Session, instance: WorkflowInstanceRow,
                   call: ServiceCall) -> Mapping[str, Any]:
    """Service operator: the agency acknowledged the cancellation; the licence is cancelled now.

    A licence the agency revoked meanwhile stays revoked (the stronger verdict); the request still ends.
    """
    case = case_of(session, instance)
    assert case.subject_licence is not None  # a cancellation case always names its licence
    issued = session.get(IssuedLicenceRow, case.subject_licence, with_for_update=True)
    assert issued is not None
    if issued.status not in CANCELLABLE:
        return {"licence_number": issued.number, "cancelled": False, "status": issued.status}
    now = ctx.clock.now()
    previous, issued.status = issued.status, LicenceStanding.CANCELLED
    renewal_reminders.stop(issued)
    reason = (case.request_details or {}).get("reason", "")
    for application_id in dict.fromkeys((case.application_id, issued.application_id)):
        # In the request's timeline and in the licence's own (where its revocation would be recorded too).
        audit.record(session, SYSTEM, "licence.cancelled", now, application_id, licence=issued.licence_code,
                     licence_number=issued.number, reason=reason, **{"from": previous})
    _tell_holder(ctx, session, case, issued)
    return {"licence_number": issued.number, "cancelled": True, "status": issued.status}


def _tell_holder(ctx: EngineContext, session: Session, case: LicenceCaseRow, issued: IssuedLicenceRow) -> None:
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None  # foreign key
    if not application.applicant_email:
        return
    lang = application.language
    manual, agency = ctx.catalogue.licence(issued.licence_code), ctx.catalogue.agency(issued.agency)
    notify(session, ctx.clock, application_id=application.id, event=EVENT, lang=lang,  # type: ignore[arg-type]
           to=application.applicant_email, context={
               "holder_name": issued.holder_name, "tracking_number": application.tracking_number or "",
               "licence_name": getattr(manual, f"name_{lang}"), "licence_number": issued.number,
               "business_name": issued.business_name, "agency_name": getattr(agency, f"name_{lang}"),
               "cancelled_on": ctx.clock.now().astimezone(BANGKOK).date(),
               "application_url": ctx.links.application(application.id)})
