"""Requests about an issued licence: renew it, amend it, cancel it.

Each request becomes an application with one licence case of its kind (engine/cases/kinds.py) that names
the licence (`subject_licence`), routed to the licence's issuing agency and office, and is submitted at
once: it gets a tracking number, its process starts, and the agency's step reaches the officer inbox (or
the agency's adapter) as any licence's step does. Status, timeline, notifications, the statutory clock,
the fee and the issuing are the ones every licence uses.

Who may ask: the holder (the role and subject the licence was issued to: engine/access.py), or a counter
officer on the holder's behalf, who has seen the holder's ID card and gives its number
(`holder_id_number`). Anyone else is told the licence does not exist. A licence has one open request at a
time, whatever its kind: a second one is a conflict (the licence's row is locked while a request is
opened, so two at once cannot both pass).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bizportal.engine import assurance, audit, idempotency
from bizportal.engine.access import holds
from bizportal.engine.applications import consents, representatives
from bizportal.engine.applications.applications import tracking_number
from bizportal.engine.applications.prefill import prefill
from bizportal.engine.cases.case import start_when_ready
from bizportal.engine.cases.kinds import Kind
from bizportal.engine.clock import BANGKOK
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from bizportal.engine.licences.amendment import AmendmentInput, changes, check_amendable
from bizportal.engine.licences.cancellation import CancellationInput, check_cancellable
from bizportal.engine.licences.renewal import RenewalInput, check_renewable
from bizportal.engine.licences.request_input import HolderInput
from bizportal.engine.notices import triggers
from bizportal.engine.principal import Principal, Role
from bizportal.engine.statuses import TERMINAL, Status
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.issued_licences import IssuedLicenceRow

# A kind's rules: check the licence may be asked about today, and return what the holder asked for (the
# case's `request_details`) and the printed details that change (an amendment's; empty otherwise).
Prepare = Callable[[IssuedLicenceRow, ApplicationRow, date], tuple[dict[str, Any], dict[str, str]]]


COUNTER_CONSENT_PURPOSE = "confirm that the person consenting at a one-stop counter is a director of the licence holder"

def request_renewal(ctx: EngineContext, session: Session, principal: Principal, number: str, data: RenewalInput,
                    idempotency_key: str | None = None) -> tuple[ApplicationRow, bool]:
    """Ask for the renewal of licence `number` (see engine/licences/renewal.py for when it is allowed).

    Returns the request's application and whether it was created now (False: a replay of the same
    Idempotency-Key, which returns the first one).

    Raises:
        Forbidden: the role never files requests, or the holder's sign-in is below the licence's IAL or AAL.
        NotFound: not the caller's licence (or no such licence).
        Conflict: the licence cannot be renewed now (the message says why), or a request is already open.
        InvalidInput: `holder_id_number` missing (counter officer) or not the holder's.
    """
    def prepare(issued: IssuedLicenceRow, _: ApplicationRow, today: date) -> tuple[dict[str, Any], dict[str, str]]:
        check_renewable(issued, today)
        return ({"note": data.note} if data.note else {}), {}

    return _open(ctx, session, principal, number, Kind.RENEWAL, data, prepare, idempotency_key)


def request_amendment(ctx: EngineContext, session: Session, principal: Principal, number: str,
                      data: AmendmentInput, idempotency_key: str | None = None) -> tuple[ApplicationRow, bool]:
    """Ask to amend the printed details of licence `number`; raises as `request_renewal`, and InvalidInput
    naming a field that cannot change (engine/licences/amendment.py)."""
    def prepare(issued: IssuedLicenceRow, application: ApplicationRow,
                today: date) -> tuple[dict[str, Any], dict[str, str]]:
        check_amendable(issued, today)
        changed = changes(data, issued, application, ctx.offices)
        return {"reason": data.reason, "changes": changed}, changed

    return _open(ctx, session, principal, number, Kind.AMENDMENT, data, prepare, idempotency_key)


def request_cancellation(ctx: EngineContext, session: Session, principal: Principal, number: str,
                         data: CancellationInput, idempotency_key: str | None = None) -> tuple[ApplicationRow, bool]:
    """Ask to cancel licence `number` (the holder gives it up); raises as `request_renewal`."""
    def prepare(issued: IssuedLicenceRow, _: ApplicationRow, today: date) -> tuple[dict[str, Any], dict[str, str]]:
        check_cancellable(issued, today)
        return {"reason": data.reason}, {}

    return _open(ctx, session, principal, number, Kind.CANCELLATION, data, prepare, idempotency_key)


def _open(ctx: EngineContext, session: Session, principal: Principal, number: str, kind: Kind,
          data: HolderInput, prepare: Prepare, idempotency_key: str | None) -> tuple[ApplicationRow, bool]:
    if principal.role not in (Role.APPLICANT, Role.COUNTER_OFFICER):
        raise Forbidden(f"only the licence's holder, or a counter officer for them, requests a {kind}",
                        hint="agencies revoke or suspend with POST /api/v1/issued-licences/{number}/revoke|suspend")
    request_fingerprint = idempotency.fingerprint(f"issued-licences.{kind.value}:{number}", data)
    if idempotency_key:
        replayed = _replay(session, principal, idempotency_key, request_fingerprint, number, kind)
        if replayed is not None:
            return replayed, False
    issued, licence_application = _held(session, principal, number, data.holder_id_number, ctx.clock.now())
    _check_counter_consent(ctx, session, principal, licence_application, data)
    # The request is submitted at once: the sign-in needs the licence's levels, as for submitting an application.
    assurance.require(principal, [ctx.catalogue.licence(issued.licence_code).assurance], f"request a {kind.value}")
    _refuse_a_second_request(session, number)
    now = ctx.clock.now()
    details, changed = prepare(issued, licence_application, now.astimezone(BANGKOK).date())
    original_case = session.get(LicenceCaseRow, issued.licence_case_id)
    assert original_case is not None  # foreign key
    # The licence's current details (its own application's, amended ones included), with the changes asked for.
    application = ApplicationRow(
        id=str(uuid.uuid4()), owner=issued.holder_id_number, created_by=principal.subject,
        created_by_role=principal.role.value, idempotency_key=idempotency_key,
        filed_at_office=principal.office if principal.role == Role.COUNTER_OFFICER else None,
        idempotency_fingerprint=request_fingerprint if idempotency_key else None,
        applicant_kind=licence_application.applicant_kind, applicant_id_number=licence_application.applicant_id_number,
        applicant_name=changed.get("holder_name", issued.holder_name),
        applicant_email=licence_application.applicant_email, language=licence_application.language,
        business_name=changed.get("business_name", issued.business_name),
        business_address=changed.get("business_address", licence_application.business_address),
        business_province=licence_application.business_province,
        business_district=licence_application.business_district,
        business_area_m2=licence_application.business_area_m2, form=dict(licence_application.form),
        obtained_documents=list(licence_application.obtained_documents), status=Status.SUBMITTED.value,
        tracking_number=tracking_number(session, now), created_at=now, updated_at=now, submitted_at=now)
    session.add(application)
    try:
        session.flush()
    except IntegrityError as err:  # the same Idempotency-Key raced in twice
        raise Conflict("a request with this Idempotency-Key is being created", hint="retry the request") from err
    case = LicenceCaseRow(id=str(uuid.uuid4()), application_id=application.id, licence_code=issued.licence_code,
                          agency=issued.agency, office=original_case.office, status=Status.SUBMITTED.value,
                          updated_at=now, kind=kind.value, subject_licence=number, request_details=details)
    session.add(case)
    audit.record(session, principal, "application.created", now, application.id, licences=[issued.licence_code],
                 kind=kind.value, licence_number=number)
    if data.consent is not None:
        consents.record(ctx, session, principal, application, [issued.licence_code], data.consent)
    for application_id in dict.fromkeys((application.id, issued.application_id)):
        # In the request's timeline, and in the licence's own so its history reads in one place.
        audit.record(session, principal, f"licence.{kind.value}_requested", now, application_id,
                     licence=issued.licence_code, licence_number=number,
                     tracking_number=application.tracking_number, **details)
    audit.record(session, principal, "application.submitted", now, application.id,
                 tracking_number=application.tracking_number)
    session.flush()
    start_when_ready(ctx, session, case, [case])
    triggers.application_submitted(ctx, session, application, [case])
    return application, True


def _replay(session: Session, principal: Principal, key: str, request_fingerprint: str, number: str,
            kind: Kind) -> ApplicationRow | None:
    existing = idempotency.replayed(session, principal, key, request_fingerprint)
    if existing is None:
        return None
    # A key first used by a new application, or (before fingerprints) for another licence or kind.
    case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == existing.id)).first()
    if case is None or case.kind != kind or case.subject_licence != number:
        raise idempotency.key_reused(key)
    return existing


def _check_counter_consent(ctx: EngineContext, session: Session, principal: Principal, held: ApplicationRow,
                           data: HolderInput) -> None:
    """A counter officer files with the holder's consent (for a juristic holder, given by someone who acts for it).

    Raises:
        InvalidInput: `consent` missing from a counter officer, or sent by the holder. Forbidden: the person
            consenting for a juristic holder does not act for it.
    """
    consents.require_where_due(principal, data.consent)
    if data.consent is None:  # not a counter officer
        return
    if data.consent.method == "signed_authorisation":  # submitted at once: no letter could be uploaded first
        raise InvalidInput("a renewal, amendment or cancellation at a counter is asked for in person: the holder, or "
                           "for a company someone who acts for it", hint="use the method identity_checked_in_person",
                           details={"field": "consent.method"})
    person, _ = consents.given_by(held.applicant_kind, held.applicant_id_number, held.applicant_name, data.consent)
    if held.applicant_kind == "juristic":
        found = (prefill(ctx.registry, "juristic", held.applicant_id_number, purpose=COUNTER_CONSENT_PURPOSE)
                 if ctx.registry is not None else None)
        representatives.check_may_act_for(ctx, session, principal, held.applicant_id_number, found, person)


def _held(session: Session, principal: Principal, number: str, holder_id_number: str | None,
          now: datetime) -> tuple[IssuedLicenceRow, ApplicationRow]:
    """The licence and its application, if the caller may ask about it; locked until the caller commits."""
    if principal.role == Role.COUNTER_OFFICER and holder_id_number is None:
        raise InvalidInput("a counter officer files for the holder: `holder_id_number` is required",
                           hint="enter the 13-digit number on the holder's ID card",
                           details={"field": "holder_id_number"})
    # FOR UPDATE (PostgreSQL; SQLite's writers are serialized anyway): a second request for this licence
    # waits here until the first commits, then finds it open.
    issued = session.get(IssuedLicenceRow, number, with_for_update=True)
    application = session.get(ApplicationRow, issued.application_id) if issued is not None else None
    missing = NotFound(f"issued licence {number} does not exist",
                       hint="check the number; requests are made by the licence's holder")
    if issued is None or application is None:
        raise missing
    if principal.role == Role.COUNTER_OFFICER:
        if holder_id_number != application.applicant_id_number:
            raise missing  # whether the number exists is not revealed to a wrong ID
    elif not holds(session, principal, issued, now):
        raise missing
    elif holder_id_number is not None and holder_id_number != application.applicant_id_number:
        raise InvalidInput("`holder_id_number` is not the number the licence was issued to",
                           hint="leave it out, or give the holder's own number", details={"field": "holder_id_number"})
    return issued, application


def _refuse_a_second_request(session: Session, number: str) -> None:
    found = session.exec(
        select(LicenceCaseRow, ApplicationRow.tracking_number)
        .join(ApplicationRow, col(ApplicationRow.id) == col(LicenceCaseRow.application_id))
        .where(LicenceCaseRow.subject_licence == number,
               col(LicenceCaseRow.status).not_in([s.value for s in TERMINAL]))).first()
    if found is not None:
        case, tracking = found
        raise Conflict(f"licence {number} already has an open {case.kind} request ({tracking})",
                       hint="a licence has one open request at a time: wait for that one's decision",
                       details={"kind": case.kind, "tracking_number": tracking})
