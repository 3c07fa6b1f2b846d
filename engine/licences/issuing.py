"""Issuing the e-licence: number it, render the PDF, store it by sha256, record it, tell the process.

The process asks for issuing through a service task (which only writes an outbox row). Two jobs follow its
commit. `issue_licence` takes the number: the agency's yearly counter row stays locked until that job commits,
and every other licence of the agency waits for it, so it does nothing else. `render_licence` then renders,
signs and stores the PDF under that number, records the licence and tells the process. So a slow renderer or
a failing object store never holds the counter (or a decision) and the numbers stay gap-free: a number is
taken once per case and its rendering is retried until it succeeds. Only a case withdrawn between the two
jobs leaves its number unused, and the audit trail says so (`licence.number_unused`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bizportal.engine import assurance, audit, outbox
from bizportal.engine.access import OFFICERS, holds, in_scope, represented_parties
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.cases.case import case_of, deliver_message
from bizportal.engine.cases.kinds import Kind
from bizportal.engine.clock import BANGKOK
from bizportal.engine.context import EngineContext
from bizportal.engine.documents.formats import buddhist_year
from bizportal.engine.documents.licence_pdf import LicenceDocument, render_licence_pdf
from bizportal.engine.documents.signing import sign_pdf
from bizportal.engine.errors import NotFound
from bizportal.engine.licences import renewal_reminders
from bizportal.engine.principal import SYSTEM, Principal, Role
from bizportal.engine.workflow.script_engine import ServiceCall
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.counters import yearly_number
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding
from bizportal.storage.workflow_tables import WorkflowInstanceRow


def request_issue(ctx: EngineContext, session: Session, instance: WorkflowInstanceRow,
                  call: ServiceCall) -> Mapping[str, Any]:
    """Service operator: queue the issuing job (runs after this transaction commits)."""
    case = case_of(session, instance)
    row = outbox.enqueue(session, "issue_licence", ctx.clock, case_id=case.id)
    return {"job_id": row.id}


def _valid_until(issued_on: date, years: int | None) -> date | None:
    if years is None:
        return None
    try:
        anniversary = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February
        anniversary = issued_on.replace(year=issued_on.year + years, day=28)
    return anniversary - timedelta(days=1)


def _predecessor(session: Session, case: LicenceCaseRow) -> IssuedLicenceRow | None:
    """The licence a renewal or an amendment succeeds (None for a new licence); locked until commit."""
    if case.kind not in (Kind.RENEWAL, Kind.AMENDMENT) or case.subject_licence is None:
        return None
    return session.get(IssuedLicenceRow, case.subject_licence, with_for_update=True)


def _validity(case: LicenceCaseRow, predecessor: IssuedLicenceRow | None, issued_on: date,
              years: int | None) -> date | None:
    if predecessor is None:
        return _valid_until(issued_on, years)
    if case.kind == Kind.RENEWAL and predecessor.valid_until is not None:
        # On from the old expiry, however early or late (within its window) the renewal was asked for.
        return _valid_until(predecessor.valid_until + timedelta(days=1), years)
    return predecessor.valid_until  # an amendment changes what is printed, not for how long it holds


def _succeed(ctx: EngineContext, session: Session, case: LicenceCaseRow, predecessor: IssuedLicenceRow,
             successor: IssuedLicenceRow) -> None:
    """Link the old record to its successor; it shows `renewed` or `replaced` from now on.

    A revocation or suspension the agency imposed after the request was made carries over to the successor
    (a renewal must not wash it away), and the old record keeps it.
    """
    predecessor.successor_number = successor.number
    renewal_reminders.stop(predecessor)
    if predecessor.status in (LicenceStanding.REVOKED, LicenceStanding.SUSPENDED):
        successor.status = predecessor.status
        renewal_reminders.stop(successor)
    else:
        predecessor.status = LicenceStanding.RENEWED if case.kind == Kind.RENEWAL else LicenceStanding.REPLACED
    audit.record(session, SYSTEM, f"licence.{'renewed' if case.kind == Kind.RENEWAL else 'replaced'}",
                 ctx.clock.now(), predecessor.application_id, licence=predecessor.licence_code,
                 licence_number=predecessor.number, successor=successor.number, status=predecessor.status)


def licence_number(session: Session, agency: str, issued_on: date) -> str:
    """`<agency>-<B.E. year>-<6-digit sequence>`, gap-free per agency and year."""
    return yearly_number(session, agency, f"licence:{agency}", buddhist_year(issued_on), digits=6)


RENDER_LICENCE = "render_licence"


def issue_licence_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: number the licence of a paid case and queue its rendering. Safe to run twice: a case numbered or
    issued already is not numbered again."""
    case = _awaiting_licence(session, payload["case_id"])
    if case is None:
        return  # issued already, or withdrawn before issuing: nothing to issue
    issued = session.exec(select(IssuedLicenceRow).where(IssuedLicenceRow.licence_case_id == case.id)).first()
    if issued is not None:  # issued by the job of an earlier release, which numbered and rendered in one go
        _tell_the_process(ctx, session, case, issued)
        return
    issued_on = ctx.clock.now().astimezone(BANGKOK).date()
    number = licence_number(session, case.agency, issued_on)
    outbox.enqueue(session, RENDER_LICENCE, ctx.clock, case_id=case.id, number=number,
                   issued_on=issued_on.isoformat())


def render_licence_job(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: render, sign and store the licence numbered by `issue_licence_job`, record it and tell the process.
    Safe to run twice: an issued case is not issued again."""
    case = _awaiting_licence(session, payload["case_id"])
    if case is None:
        unissued = session.get(LicenceCaseRow, payload["case_id"])
        if unissued is not None and unissued.licence_number != payload["number"]:  # withdrawn meanwhile
            audit.record(session, SYSTEM, "licence.number_unused", ctx.clock.now(), unissued.application_id,
                         licence=unissued.licence_code, licence_number=payload["number"])
        return
    issued = session.exec(select(IssuedLicenceRow).where(IssuedLicenceRow.licence_case_id == case.id)).first()
    if issued is None:
        issued = _issue(ctx, session, case, payload["number"], date.fromisoformat(payload["issued_on"]))
    _tell_the_process(ctx, session, case, issued)


def _awaiting_licence(session: Session, case_id: str) -> LicenceCaseRow | None:
    """The case, if its process waits for its licence."""
    case = session.get(LicenceCaseRow, case_id)
    if case is None or case.instance_id is None:
        return None
    instance = session.get(WorkflowInstanceRow, case.instance_id)
    assert instance is not None
    return case if "licence_issued" in instance.waiting_messages.split(",") else None


def _tell_the_process(ctx: EngineContext, session: Session, case: LicenceCaseRow, issued: IssuedLicenceRow) -> None:
    # Version-checked: if the applicant withdrew while the PDF was rendered, this is a Conflict and the
    # licence rolls back with the rest of the job; the retry then finds nothing to issue.
    # The number is on the case before it moves: the applicant's "issued" notice quotes it.
    case.licence_number = issued.number
    deliver_message(ctx, session, case, "licence_issued", {"licence_number": issued.number})


def _issue(ctx: EngineContext, session: Session, case: LicenceCaseRow, number: str,
           issued_on: date) -> IssuedLicenceRow:
    application = session.get(ApplicationRow, case.application_id)
    assert application is not None
    manual = ctx.catalogue.licence(case.licence_code)
    agency = ctx.catalogue.agency(case.agency)
    predecessor = _predecessor(session, case)
    valid_until = _validity(case, predecessor, issued_on, manual.validity_years)
    # The QR's Ed25519 signature covers number, holder and validity (it cannot cover the bytes of the
    # PDF that contains it); the record keeps the signed file's sha256 for POST /api/v1/verify.
    signature = (ctx.signing.qr.sign(number, application.applicant_name, valid_until, "")
                 if ctx.signing is not None else None)
    verification_url = ctx.links.licence_verification(number, signature)
    pdf = render_licence_pdf(LicenceDocument(
        licence_number=number, licence_code=manual.code, licence_name_th=manual.name_th,
        licence_name_en=manual.name_en, agency_name_th=agency.name_th, agency_name_en=agency.name_en,
        holder_name=application.applicant_name, holder_id_masked=mask_thai_id(application.applicant_id_number),
        business_name=application.business_name, business_address=application.business_address,
        issued_on=issued_on, valid_until=valid_until,
        verification_url=verification_url))
    if ctx.signing is not None:
        pdf = sign_pdf(pdf, ctx.signing.pdf)  # PAdES: any changed byte breaks it
    # Content-addressed: if this transaction rolls back, the stored bytes are simply unused.
    stored = ctx.object_store.put(pdf, "application/pdf")
    issued = IssuedLicenceRow(number=number, licence_case_id=case.id, application_id=application.id,
                              licence_code=case.licence_code, agency=case.agency,
                              holder_name=application.applicant_name,
                              # A successor stays with the holder, also when a counter officer filed for them.
                              holder_id_number=predecessor.holder_id_number if predecessor else application.owner,
                              business_name=application.business_name, issued_on=issued_on,
                              valid_until=valid_until, pdf_key=stored.key, pdf_sha256=stored.sha256,
                              pdf_size=stored.size, created_at=ctx.clock.now(),
                              predecessor_number=predecessor.number if predecessor else None,
                              next_reminder_on=renewal_reminders.first_reminder_on(valid_until, issued_on))
    session.add(issued)
    if predecessor is not None:
        _succeed(ctx, session, case, predecessor, issued)
    audit.record(session, SYSTEM, "licence.issued", ctx.clock.now(), application.id, licence=case.licence_code,
                 licence_number=number, sha256=stored.sha256)
    return issued


def readable_issued_licence(ctx: EngineContext, session: Session, principal: Principal,
                            number: str) -> IssuedLicenceRow:
    """The issued licence, if the caller is its holder (or the counter acting for them), an officer of its agency
    (and office), or an admin.

    Raises:
        NotFound: no such licence, or the caller may not see it (existence is not revealed).
    """
    issued = session.get(IssuedLicenceRow, number)
    case = session.get(LicenceCaseRow, issued.licence_case_id) if issued is not None else None
    allowed = issued is not None and case is not None and (
        principal.role == Role.ADMIN or holds(session, principal, issued, ctx.clock.now())
        or in_scope(principal, issued.agency, case.office, OFFICERS))
    if not allowed:
        raise NotFound(f"issued licence {number} does not exist")
    assert issued is not None
    return issued


def held_licences(ctx: EngineContext, session: Session, principal: Principal) -> list[IssuedLicenceRow]:
    """The licences issued to the signed-in applicant or to the companies they act for, newest first (empty for
    anyone signed in without an ID number)."""
    if principal.role != Role.APPLICANT or principal.id_number is None:
        return []
    parties = [principal.id_number, *session.exec(represented_parties(principal, ctx.clock.now())).all()]
    return list(session.exec(select(IssuedLicenceRow).where(col(IssuedLicenceRow.holder_id_number).in_(parties))
                             .order_by(col(IssuedLicenceRow.created_at).desc(), col(IssuedLicenceRow.number))))


def downloadable_issued_licence(ctx: EngineContext, session: Session, principal: Principal,
                                number: str) -> IssuedLicenceRow:
    """The issued licence whose e-licence PDF the caller may download (or get a download link for): as
    `readable_issued_licence`, and a holder's sign-in must be at least the licence's IAL and AAL.

    Raises:
        NotFound: as `readable_issued_licence`.
        Forbidden: an applicant signed in below the licence's levels (the hint names the step-up).
    """
    issued = readable_issued_licence(ctx, session, principal, number)
    assurance.require(principal, [ctx.catalogue.licence(issued.licence_code).assurance],
                      "download this e-licence")
    return issued


def licence_pdf_chunks(ctx: EngineContext, issued: IssuedLicenceRow) -> Iterator[bytes]:
    return ctx.object_store.iter_chunks(issued.pdf_key)
