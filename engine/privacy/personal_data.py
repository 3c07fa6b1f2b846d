"""Everything the platform holds about the signed-in person, in one download (PDPA B.E. 2562, s.30: the right
of access).

It gathers, through the same use cases and access rules as every other read, the applications that are
theirs (or their companies'), with their timelines, forms, documents (described, not the files: those stay
behind their own links), invoices, receipts and notifications; their licences; the consents given in
their name; the companies they act for; and their satisfaction ratings. Each export is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bizportal.engine import audit
from bizportal.engine.access import owner_filter
from bizportal.engine.applications import applications, consents, representatives
from bizportal.engine.applications.consents import ConsentView
from bizportal.engine.applications.representatives import RepresentativeView
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Forbidden
from bizportal.engine.licences import issuing
from bizportal.engine.notices.log import readable_notifications
from bizportal.engine.payments.receipts import receipts_of
from bizportal.engine.principal import Principal, Role
from bizportal.engine.uploads.documents import list_documents
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.surveys import SatisfactionSurveyRow


class PersonalData(BaseModel):
    exported_at: datetime
    person: dict[str, Any]
    applications: list[dict[str, Any]]
    licences: list[dict[str, Any]]
    consents: list[ConsentView]
    acting_for: list[RepresentativeView]
    ratings: list[dict[str, Any]]


def export(ctx: EngineContext, session: Session, principal: Principal) -> PersonalData:
    """The signed-in applicant's data, as one document.

    Raises:
        Forbidden: the caller is not an applicant signed in with an ID number (staff data is the agency's to give).
    """
    if principal.role != Role.APPLICANT or principal.id_number is None:
        raise Forbidden("the download of one's own data is for people signed in with Digital ID",
                        hint="staff ask their agency for the records it keeps about them")
    now = ctx.clock.now()
    mine = session.exec(select(ApplicationRow.id).where(owner_filter(principal, now))
                        .order_by(col(ApplicationRow.created_at))).all()
    licences = list(reversed(issuing.held_licences(ctx, session, principal)))  # oldest first, as before
    ratings = session.exec(select(SatisfactionSurveyRow).where(col(SatisfactionSurveyRow.application_id).in_(mine))
                           ).all()
    acting_for = representatives.acting_for(session, principal)
    data = PersonalData(
        exported_at=now,
        person={"id_number": principal.id_number, "name": principal.name, "sign_in_subject": principal.subject,
                "ial": principal.ial, "aal": principal.aal},
        applications=[_application(ctx, session, principal, application_id) for application_id in mine],
        licences=[row.model_dump(mode="json", exclude={"pdf_key", "next_reminder_on", "last_reminder_days"})
                  for row in licences],
        consents=[ConsentView.of(row, now) for row in consents.consents_for(ctx, session, principal, limit=None).items],
        acting_for=[RepresentativeView.of(row) for row in acting_for],
        ratings=[row.model_dump(mode="json", exclude={"id", "case_id"}) for row in ratings])
    audit.record(session, principal, "personal_data.exported", now, applications=len(mine), licences=len(licences))
    return data


def _application(ctx: EngineContext, session: Session, principal: Principal, application_id: str) -> dict[str, Any]:
    view = applications.view(ctx, session, principal, application_id).model_dump(mode="json")
    view["documents"] = [d.model_dump(mode="json") for d in list_documents(ctx, session, principal, application_id)]
    view["receipts"] = [r.model_dump(mode="json", exclude={"pdf_key"})
                        for r in receipts_of(ctx, session, principal, application_id)]
    view["notifications"] = [n.model_dump(mode="json")
                             for n in readable_notifications(ctx, session, principal, application_id).items]
    return view
