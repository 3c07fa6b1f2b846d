"""What the applicant is told, and when: turns case events into notifications.

Only applicants who gave an e-mail address are written to; the notification log of the
application records every message. Documents are links to the portal, never attachments.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from bizportal.engine.context import EngineContext
from bizportal.engine.notices.notifier import notify
from bizportal.engine.statuses import Status
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.payments import InvoiceStatus, invoice_of_case
from bizportal.storage.workflow_tables import HumanTaskRow


def _names(ctx: EngineContext, application: ApplicationRow, case: LicenceCaseRow) -> dict[str, str]:
    lang = application.language
    manual, agency = ctx.catalogue.licence(case.licence_code), ctx.catalogue.agency(case.agency)
    return {"applicant_name": application.applicant_name, "tracking_number": application.tracking_number or "",
            "licence_name": getattr(manual, f"name_{lang}"), "agency_name": getattr(agency, f"name_{lang}"),
            "application_url": ctx.links.application(application.id)}


def _last_comment(session: Session, case: LicenceCaseRow, decision: str) -> str:
    if case.instance_id is None:
        return ""
    task = session.exec(select(HumanTaskRow).where(HumanTaskRow.instance_id == case.instance_id,
                                                   HumanTaskRow.decision == decision)
                        .order_by(col(HumanTaskRow.completed_at).desc())).first()
    return (task.comment or "") if task else ""


def application_submitted(ctx: EngineContext, session: Session, application: ApplicationRow,
                          cases: list[LicenceCaseRow]) -> None:
    if not application.applicant_email:
        return
    lang = application.language
    licences = [{"name": getattr(ctx.catalogue.licence(c.licence_code), f"name_{lang}"),
                 "agency": getattr(ctx.catalogue.agency(c.agency), f"name_{lang}")} for c in cases]
    notify(session, ctx.clock, application_id=application.id, event="application_submitted", lang=lang,  # type: ignore[arg-type]
           to=application.applicant_email, context={
               "applicant_name": application.applicant_name, "tracking_number": application.tracking_number,
               "submitted_at": application.submitted_at, "licences": licences,
               "application_url": ctx.links.application(application.id)})


def licence_status_changed(ctx: EngineContext, session: Session, case: LicenceCaseRow, previous: str,
                           reason: str | None = None) -> None:
    """Tell the applicant about a change that asks something of them or decides their licence."""
    application = session.get(ApplicationRow, case.application_id)
    if application is None or not application.applicant_email:
        return
    names, lang = _names(ctx, application, case), application.language
    event: str | None = None
    context: dict[str, object] = {}
    if case.status == Status.DOCUMENTS_REQUESTED:
        documents = {d.id: getattr(d, f"name_{lang}") for d in ctx.catalogue.licence(case.licence_code).documents}
        event, context = "documents_requested", {
            "comment": _last_comment(session, case, "request_documents"),
            "documents": [documents[code] for code in case.requested_documents or [] if code in documents]}
    elif case.status == Status.REJECTED:
        event = "licence_decided"
        context = {"approved": False, "reason": reason or _last_comment(session, case, "reject")}
    elif case.status == Status.AWAITING_PAYMENT:
        invoice = invoice_of_case(session, case.id)
        if invoice is not None and invoice.status == InvoiceStatus.OPEN:
            event = "payment_due"
            context = {"amount_satang": invoice.amount_satang, "due_at": invoice.due_at,
                       "payment_url": names["application_url"]}
    elif case.status == Status.PAYMENT_EXPIRED:
        invoice = invoice_of_case(session, case.id)
        if invoice is not None:
            event, context = "payment_expired", {"amount_satang": invoice.amount_satang, "due_at": invoice.due_at}
    elif case.status == Status.ISSUING and previous == Status.UNDER_CONSIDERATION:  # approved, no fee to pay
        event, context = "licence_decided", {"approved": True, "reason": ""}
    elif case.status == Status.ISSUED and case.licence_number:
        event = "licence_issued"
        # The tracking page, where the licence downloads once signed in: mail is read late (a signed URL would
        # have expired) and the PDF's own API route answers a browser without a session in JSON.
        context = {"licence_number": case.licence_number, "issued_on": ctx.clock.now(),
                   "download_url": names["application_url"] + "#downloads"}
    if event is None:
        return
    notify(session, ctx.clock, application_id=application.id, event=event, lang=lang,  # type: ignore[arg-type]
           to=application.applicant_email, context={**names, **context})
