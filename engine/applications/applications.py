"""Applications: create a draft, submit it (one process per licence), read it back.

An applicant sees only their own applications; a counter officer those they filed for
someone; an agency officer those that include a licence of their agency (and of their office, for
cases routed to a local office); an admin all (engine/access.py decides). Anyone else gets 404, so
ids of other people's applications reveal nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bizportal.engine import assurance, audit, idempotency
from bizportal.engine.access import is_owner, owner_filter, readable_application
from bizportal.engine.applications import consents, representatives
from bizportal.engine.applications.consents import ConsentView
from bizportal.engine.applications.forms import check_forms
from bizportal.engine.applications.input import ApplicationChange, ApplicationInput
from bizportal.engine.applications.prefill import Prefill, mark_obtained, prefill
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.cases.case import start_when_ready
from bizportal.engine.cases.tasks import DocumentRequest, document_request
from bizportal.engine.catalogue.forms import FilledField, filled
from bizportal.engine.context import EngineContext
from bizportal.engine.deadlines.statutory_clock import Deadline, deadlines_for
from bizportal.engine.documents.formats import buddhist_year
from bizportal.engine.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from bizportal.engine.notices import triggers
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.payments.fees import BUSINESS_AREA, fee_by_rule
from bizportal.engine.principal import Principal, Role
from bizportal.engine.statuses import Status
from bizportal.engine.uploads import checklist
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.counters import yearly_number
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding
from bizportal.storage.payments import InvoiceRow


class DocumentView(BaseModel):
    id: str
    name_th: str
    name_en: str
    required: bool
    provided: str  # registry | upload | exchange_pending


class LicenceView(BaseModel):
    code: str
    agency: str
    office: str | None
    status: str
    current_step: str | None
    due_at: datetime | None  # the deadline of the step it waits at (the earliest, if several)
    licence_number: str | None
    documents: list[DocumentView] = []
    deadline: Deadline | None = None  # the manual's total time (s.7), once the agency's clock has started
    kind: str = "new"  # or renewal | amendment | cancellation of the issued licence `subject_licence`
    subject_licence: str | None = None
    request: dict[str, Any] | None = None  # the holder's reason and, for an amendment, the new details
    document_request: DocumentRequest | None = None  # what the agency asked for (once, s.8), and why


class InvoiceView(BaseModel):
    id: str
    licence: str
    amount_satang: int
    currency: str
    status: str = Field(description="open|paid|waived|expired|cancelled|refunded")
    due_at: datetime | None = Field(default=None, description="unpaid by then, the invoice expires")


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    event: str
    detail: dict[str, Any]


class FiledBy(BaseModel):
    role: str = Field(description="applicant (online) or counter_officer (at a one-stop counter)")
    office: str | None = Field(default=None, description="the counter's office")


class ApplicationView(BaseModel):
    id: str
    version: str = Field(description="changes whenever the application's status or details change; also the "
                         "`ETag` header: send it as `If-Match` to PATCH so a change made meanwhile is not overwritten")
    status: str
    tracking_number: str | None
    applicant: dict[str, str | None]
    business: dict[str, Any]
    form: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per licence code, the applicant's form for that licence: the raw values "
        "as validated (`form_fields` shows them labelled)")
    form_fields: dict[str, list[FilledField]] = Field(
        default_factory=dict, description="per licence code applied for, every field of its form in order, with its "
        "Thai and English label, unit and the applicant's value (null when not given): what the officer reads")
    created_at: datetime
    submitted_at: datetime | None
    licences: list[LicenceView]
    invoices: list[InvoiceView]
    timeline: list[TimelineEntry]
    filed_by: FiledBy
    consent: ConsentView | None = Field(default=None, description="for an application filed at a counter: the "
                                        "entrepreneur's consent (withdraw it with POST /api/v1/consents/{id}/withdraw)")


class ApplicationSummary(BaseModel):
    id: str
    status: str
    tracking_number: str | None
    business_name: str
    licences: list[str]
    created_at: datetime


def create(ctx: EngineContext, session: Session, principal: Principal, data: ApplicationInput,
           idempotency_key: str | None = None) -> tuple[ApplicationRow, bool]:
    """Create a draft. With an idempotency key, a repeat returns the first draft (and False).

    Raises:
        Forbidden: the role may not file applications.
        InvalidInput: an unknown licence, a form for a licence not applied for, or (for an applicant) a licence
            whose manual says it must be filed at a counter, naming where.
        Conflict: the idempotency key was first used with a different request.
    """
    if principal.role not in (Role.APPLICANT, Role.COUNTER_OFFICER):
        raise Forbidden("only applicants and counter officers file applications")
    request_fingerprint = idempotency.fingerprint("applications.create", data)
    if idempotency_key:
        existing = idempotency.replayed(session, principal, idempotency_key, request_fingerprint)
        if existing is not None:
            return existing, False
    offices, form = _check_draft(ctx, session, principal, data)
    consents.require_where_due(principal, data.consent)
    representatives.check_own_name(principal, data.applicant.kind, data.applicant.id_number)
    found = _look_up(ctx, data)
    # A company's own filing, or its person at the counter, must act for it; a signed letter of authorisation
    # (uploaded as the power of attorney before submitting) is the counter's evidence instead.
    if data.applicant.kind == "juristic" and not (data.consent and data.consent.method == "signed_authorisation"):
        acting = None
        if data.consent is not None:
            acting, _ = consents.given_by(data.applicant.kind, data.applicant.id_number, data.applicant.name,
                                          data.consent)
        representatives.check_may_act_for(ctx, session, principal, data.applicant.id_number, found, acting)
    now = ctx.clock.now()
    application = ApplicationRow(
        id=str(uuid.uuid4()), owner=data.applicant.id_number, created_by=principal.subject,
        created_by_role=principal.role.value, idempotency_key=idempotency_key,
        filed_at_office=principal.office if principal.role == Role.COUNTER_OFFICER else None,
        idempotency_fingerprint=request_fingerprint if idempotency_key else None,
        applicant_kind=data.applicant.kind, applicant_id_number=data.applicant.id_number,
        applicant_name=found.name if found else data.applicant.name,
        applicant_email=data.applicant.email, language=data.applicant.language,
        business_name=data.business.name, business_address=data.business.address,
        business_province=data.business.province, business_district=data.business.district,
        business_area_m2=data.business.area_m2, form=form,
        obtained_documents=found.obtained_documents if found else [],
        status=Status.DRAFT.value, created_at=now, updated_at=now)
    session.add(application)
    try:
        session.flush()
    except IntegrityError as err:  # the same idempotency key raced in twice
        # Or the key was first sent by the same subject in another role (the stored key is unique per subject).
        raise Conflict("an application with this Idempotency-Key is being created, or the key was used in another "
                       "role", hint="retry the request; if it is refused again, send a new Idempotency-Key",
                       details={"header": "Idempotency-Key"}) from err
    for code in data.licences:
        session.add(LicenceCaseRow(id=str(uuid.uuid4()), application_id=application.id, licence_code=code,
                                   agency=ctx.catalogue.licence(code).agency, office=offices[code],
                                   status=Status.DRAFT.value, updated_at=now))
    audit.record(session, principal, "application.created", now, application.id, licences=data.licences)
    if data.consent is not None:
        consents.record(ctx, session, principal, application, data.licences, data.consent)
    if found:  # PDPA: which personal data was looked up, from where, and why
        audit.record(session, principal, "registry.looked_up", now, application.id, source=found.source,
                     id_number=mask_thai_id(data.applicant.id_number), documents=found.obtained_documents,
                     purpose=_lookup_purpose(data))
    return application, True


def change(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
           data: ApplicationChange, if_match: str | None = None) -> ApplicationRow:
    """Change a draft: its business, the applicant's name, e-mail or language, its forms and its licences.

    The changed draft is checked as `create` checks a new one (licences, forms, fees, prerequisites, routing,
    channel); a new province or district, or a new licence, routes the cases again. The ID number and kind stay:
    they decide whose application it is.

    Raises:
        NotFound: not the caller's application.
        Forbidden: not its applicant (or the counter acting for them under consent); a counter adding a licence
            the consent does not cover.
        Conflict: the application is submitted already.
        PreconditionFailed: `if_match` (an ETag, `version`) names a version the application has since left.
        InvalidInput: as for `create`, naming the field; a new name where the registry gives the name.
    """
    now = ctx.clock.now()
    application = readable_application(session, principal, application_id, now)
    if not is_owner(session, principal, application, now):
        raise Forbidden("only the applicant, or the counter that filed it with their consent, changes it")
    session.refresh(application, with_for_update=True)  # as in `submit`: a change and a submit run one at a time
    if application.status != Status.DRAFT:
        raise Conflict(f"application {application_id} is {application.status}: only a draft can be changed",
                       hint="after submitting, answer the agency's requests in your tasks, or withdraw and apply again",
                       details={"status": application.status})
    cases = {case.licence_code: case for case in
             session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)
                          .order_by(col(LicenceCaseRow.licence_code)))}
    if if_match is not None and if_match.strip() != "*":
        current = version_of(application, list(cases))
        if current not in {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}:
            raise PreconditionFailed(f"application {application_id} changed since version {if_match}",
                                     hint="GET it again, apply your change to what it holds now, and send the "
                                          "change with its new ETag",
                                     details={"header": "If-Match", "version": current})
    merged = _merged(ctx, application, list(cases), data)
    if principal.role == Role.COUNTER_OFFICER:
        _check_consent_covers(session, application, merged.licences)
    offices, form = _check_draft(ctx, session, principal, merged)
    changed = _apply(application, merged, form)
    added = [code for code in merged.licences if code not in cases]
    removed = [code for code in cases if code not in merged.licences]
    for code in removed:
        session.delete(cases[code])
    for code in merged.licences:
        case = cases.get(code)
        if case is None:
            session.add(LicenceCaseRow(id=str(uuid.uuid4()), application_id=application.id, licence_code=code,
                                       agency=ctx.catalogue.licence(code).agency, office=offices[code],
                                       status=Status.DRAFT.value, updated_at=now))
        elif case.office != offices[code]:
            changed.append(f"office.{code}")
            case.office, case.updated_at = offices[code], now
    if added or removed:
        changed.append("licences")
    if not changed:
        return application  # nothing to record: the draft is as it was
    application.updated_at = now
    # What changed, by name only: the values are personal data and stay in the application itself.
    audit.record(session, principal, "application.changed", now, application.id, changed=changed,
                 licences_added=added, licences_removed=removed)
    return application


def version_of(application: ApplicationRow, licences: list[str]) -> str:
    """A version of the application's status and details, from their content (no version column is needed, and a
    change within the same instant still changes it)."""
    content = [application.status, application.applicant_name, application.applicant_email, application.language,
               application.business_name, application.business_address, application.business_province,
               application.business_district, application.business_area_m2, sorted(licences), application.form]
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return digest[:32]


def _merged(ctx: EngineContext, application: ApplicationRow, licences: list[str],
            data: ApplicationChange) -> ApplicationInput:
    """The draft as it would be after the change, as the input `create` checks.

    Raises:
        InvalidInput: the result breaks the input rules (naming the field), or a new name where the registry gives
            the name.
    """
    applicant = data.applicant.model_dump(exclude_none=True) if data.applicant else {}
    if "name" in applicant and ctx.registry is not None and applicant["name"] != application.applicant_name:
        raise InvalidInput("the applicant's name is the one the registry holds for the ID number",
                           hint="leave applicant.name out; a wrong name is corrected at the registry",
                           details={"field": "applicant.name"})
    business = data.business.model_dump(exclude_none=True) if data.business else {}
    new_licences = data.licences if data.licences is not None else licences
    form = {code: values for code, values in application.form.items() if code in new_licences}
    form |= data.form or {}
    try:
        return ApplicationInput.model_validate({
            "licences": new_licences,
            "applicant": {"kind": application.applicant_kind, "id_number": application.applicant_id_number,
                          "name": application.applicant_name, "email": application.applicant_email,
                          "language": application.language} | applicant,
            "business": {"name": application.business_name, "address": application.business_address,
                         "province": application.business_province, "district": application.business_district,
                         "area_m2": application.business_area_m2} | business,
            "form": form})
    except ValidationError as err:  # stored values are valid; a combination may not be
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"the changed application is invalid: {field}: {first['msg']}",
                           hint="fix that field and send the change again", details={"field": field}) from err


def _apply(application: ApplicationRow, merged: ApplicationInput, form: dict[str, dict[str, Any]]) -> list[str]:
    """Write the merged draft into the row; return the names of the fields that changed."""
    updates: dict[str, Any] = {
        "applicant.name": ("applicant_name", merged.applicant.name),
        "applicant.email": ("applicant_email", merged.applicant.email),
        "applicant.language": ("language", merged.applicant.language),
        "business.name": ("business_name", merged.business.name),
        "business.address": ("business_address", merged.business.address),
        "business.province": ("business_province", merged.business.province),
        "business.district": ("business_district", merged.business.district),
        "business.area_m2": ("business_area_m2", merged.business.area_m2),
    }
    changed = []
    for name, (column, value) in updates.items():
        if getattr(application, column) != value:
            setattr(application, column, value)
            changed.append(name)
    changed += sorted(f"form.{code}" for code in set(form) | set(application.form)
                      if form.get(code) != application.form.get(code))
    application.form = form
    return changed


def _check_consent_covers(session: Session, application: ApplicationRow, licences: list[str]) -> None:
    """A counter officer acts only for the licences the entrepreneur consented to.

    Raises:
        Forbidden: naming the licences the consent does not cover.
    """
    consent = consents.consent_of(session, application.id)
    if consent is None:
        raise NotFound(f"application {application.id} has no consent", hint="only its applicant can change it")
    uncovered = sorted(set(licences) - set(consent.licences))
    if uncovered:
        raise Forbidden(f"the entrepreneur's consent does not cover {', '.join(uncovered)}",
                        hint="the entrepreneur adds them, or gives a new consent at the counter with a new application",
                        details={"field": "licences", "not_covered": uncovered})


def _check_draft(ctx: EngineContext, session: Session, principal: Principal,
                 data: ApplicationInput) -> tuple[dict[str, str | None], dict[str, dict[str, Any]]]:
    """What creating and changing a draft check alike: known licences, their forms, fees, prerequisites, routing
    and the channel.

    Returns:
        The office each licence's case goes to, and the validated forms.

    Raises:
        InvalidInput: naming the field at fault (see `create`).
    """
    unknown = [code for code in data.licences if code not in ctx.catalogue.licences]
    if unknown:
        raise InvalidInput(f"unknown licence code(s): {', '.join(unknown)}",
                           hint="GET /api/v1/licences lists the codes",
                           details={"field": "licences", "unknown": unknown})
    form = check_forms(ctx.catalogue, data.licences, data.form, complete=False)
    _check_fees(ctx, data.licences, data.business.area_m2, form, complete=False)
    _check_prerequisites(ctx, session, data)
    offices = _route(ctx, data)
    _check_channel(ctx, principal, offices)
    return offices, form


def _check_fees(ctx: EngineContext, licences: list[str], area_m2: float, form: dict[str, dict[str, Any]], *,
                complete: bool) -> None:
    """A fee set by validated fields must be computable now, not fail at the officer's approval.

    Args:
        complete: False for a draft, whose form field that sets a fee may still be empty.

    Raises:
        InvalidInput: `business.area_m2` or the form field outside a licence's fee bands.
    """
    for code in licences:
        manual = ctx.catalogue.licence(code)
        parameter = manual.fee.parameter
        if parameter is None:
            continue
        values = form.get(code, {})
        if complete or parameter == BUSINESS_AREA or parameter in values:
            fee_by_rule(manual, area_m2, values)


def _route(ctx: EngineContext, data: ApplicationInput) -> dict[str, str | None]:
    """The local office of the business's location for each local-government licence (None: central).

    Raises:
        InvalidInput: no connected office serves that place, naming `business.province` or `.district`.
    """
    offices: dict[str, str | None] = {}
    for code in data.licences:
        manual = ctx.catalogue.licence(code)
        offices[code] = (ctx.offices.route(manual.agency, data.business.province, data.business.district).code
                         if manual.routing == "local_office" else None)
    return offices


def _check_channel(ctx: EngineContext, principal: Principal, offices: dict[str, str | None]) -> None:
    """An applicant cannot file online a licence whose manual says `must_file_at_counter`; a counter officer
    files it for them.

    Args:
        offices: licence code -> the local office its case goes to (None: the agency itself).

    Raises:
        InvalidInput: naming each such licence and where to file it (the agency, and the local office).
    """
    if principal.role != Role.APPLICANT:
        return
    counters = []
    for code, office_code in offices.items():
        manual = ctx.catalogue.licence(code)
        if not manual.must_file_at_counter:
            continue
        agency = ctx.catalogue.agency(manual.agency)
        office = ctx.offices.get(office_code) if office_code else None
        where = f"{office.name_en} ({office.name_th})" if office else f"{agency.name_en} ({agency.name_th})"
        counters.append({"licence": code, "where": where, "agency": agency.code, "agency_name_en": agency.name_en,
                         "agency_name_th": agency.name_th, "office": office.code if office else None})
    if counters:
        places = "; ".join(f"{c['licence']} at {c['where']}" for c in counters)
        raise InvalidInput(f"these licences must be filed in person at a counter, not online: {places}",
                           hint="file them at that counter, where an officer files the application with you; "
                                "leave them out of this application to file the others online",
                           details={"field": "licences", "must_file_at_counter": counters})


def _lookup_purpose(data: ApplicationInput) -> str:
    return f"licence application: {', '.join(data.licences)}"


def _look_up(ctx: EngineContext, data: ApplicationInput) -> Prefill | None:
    """Fetch the applicant from the civil or company registry instead of asking for copies.

    The registry's name is the one that counts; the documents it stands for are never asked for.
    Raises:
        InvalidInput: the number is not registered (naming `applicant.id_number`).
        Unavailable: the registry cannot be reached; the application is not created.
    """
    if ctx.registry is None:
        return None
    return prefill(ctx.registry, data.applicant.kind, data.applicant.id_number, purpose=_lookup_purpose(data))


def _check_prerequisites(ctx: EngineContext, session: Session, data: ApplicationInput) -> None:
    """Every prerequisite must be applied for in the same application or already issued to the applicant."""
    requested = set(data.licences)
    for code in data.licences:
        for needed in ctx.catalogue.licence(code).prerequisites:
            if needed in requested:
                continue
            held = session.exec(
                select(IssuedLicenceRow.number)
                .join(ApplicationRow, col(ApplicationRow.id) == col(IssuedLicenceRow.application_id))
                .where(IssuedLicenceRow.licence_code == needed, IssuedLicenceRow.status == LicenceStanding.VALID,
                       ApplicationRow.applicant_id_number == data.applicant.id_number)).first()
            if held is None:
                raise InvalidInput(f"licence {code} requires {needed} first",
                                   hint=f"add {needed} to `licences` (it is issued first), or apply once it is issued",
                                   details={"field": "licences", "licence": code, "requires": needed})


def submit(ctx: EngineContext, session: Session, principal: Principal, application_id: str) -> ApplicationRow:
    """Submit a draft: give it a tracking number and queue one process start per licence.

    Raises:
        NotFound: not the caller's application.
        InvalidInput: an applicant's draft holds a licence that must be filed at a counter; a form's required
            fields are missing (all listed in `details.missing`) or a value no longer fits its field; a required
            document is not uploaded (those the platform obtains by data exchange excepted; `details.missing`).
        Forbidden: not its creator, or an applicant signed in below a licence's IAL or AAL (the hint names the
            step-up).
        Conflict: already submitted.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    if not is_owner(session, principal, application, ctx.clock.now()):
        raise Forbidden("only the applicant, or the counter that filed it with their consent, submits it")
    # Locked (PostgreSQL) until the commit: a concurrent change of the draft waits, then finds it submitted; a
    # change committed first is what this submit checks and submits.
    session.refresh(application, with_for_update=True)
    if application.status != Status.DRAFT:
        raise Conflict(f"application {application_id} is already {application.status}",
                       hint="an application is submitted once; follow it with GET")
    cases = list(session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)))
    _check_channel(ctx, principal, {case.licence_code: case.office for case in cases})
    assurance.require(principal, [ctx.catalogue.licence(case.licence_code).assurance for case in cases],
                      "submit this application")
    codes = [case.licence_code for case in cases]
    # The forms again, in full: a draft may lack required fields, a submitted application may not.
    application.form = check_forms(ctx.catalogue, codes, application.form, complete=True)
    _check_fees(ctx, codes, application.business_area_m2, application.form, complete=True)
    checklist.require_complete(ctx, session, application)
    now = ctx.clock.now()
    application.tracking_number = tracking_number(session, now)
    application.status, application.submitted_at, application.updated_at = Status.SUBMITTED.value, now, now
    for case in cases:
        case.status, case.updated_at = Status.SUBMITTED.value, now
    for case in cases:
        # Each licence's process starts as soon as its prerequisites are issued.
        start_when_ready(ctx, session, case, cases)
    audit.record(session, principal, "application.submitted", now, application.id,
                 tracking_number=application.tracking_number)
    triggers.application_submitted(ctx, session, application, cases)
    return application


def tracking_number(session: Session, now: datetime) -> str:
    """`BP-<B.E. year>-<7-digit sequence>`, gap-free per year: what the applicant quotes to follow a request."""
    return yearly_number(session, "BP", "tracking", buddhist_year(now), digits=7)


def view(ctx: EngineContext, session: Session, principal: Principal, application_id: str) -> ApplicationView:
    """Everything about one application, read from projections only."""
    now = ctx.clock.now()
    application = readable_application(session, principal, application_id, now)
    consent = consents.consent_of(session, application.id)
    cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)
                         .order_by(col(LicenceCaseRow.licence_code))).all()
    codes = {case.id: case.licence_code for case in cases}
    deadlines = deadlines_for(session, codes, ctx.clock.now())
    invoices = session.exec(select(InvoiceRow).where(InvoiceRow.application_id == application.id)
                            .order_by(col(InvoiceRow.created_at))).all()
    events = session.exec(select(AuditEventRow).where(AuditEventRow.application_id == application.id)
                          .order_by(col(AuditEventRow.at), col(AuditEventRow.id))).all()
    return ApplicationView(
        id=application.id, version=version_of(application, [c.licence_code for c in cases]),
        status=application.status, tracking_number=application.tracking_number,
        applicant={"kind": application.applicant_kind, "id_number": application.applicant_id_number,
                   "name": application.applicant_name, "email": application.applicant_email,
                   "language": application.language},
        business={"name": application.business_name, "address": application.business_address,
                  "province": application.business_province, "district": application.business_district,
                  "area_m2": application.business_area_m2},
        form=application.form,
        form_fields={c.licence_code: filled(ctx.catalogue.licence(c.licence_code).form,
                                            application.form.get(c.licence_code, {})) for c in cases},
        created_at=application.created_at, submitted_at=application.submitted_at,
        licences=[LicenceView(code=c.licence_code, agency=c.agency, office=c.office, status=c.status,
                              current_step=c.current_step, due_at=c.due_at, licence_number=c.licence_number,
                              documents=_documents(ctx, c.licence_code, application.obtained_documents),
                              deadline=deadlines.get(c.id), kind=c.kind, subject_licence=c.subject_licence,
                              request=c.request_details, document_request=document_request(ctx, session, c))
                  for c in cases],
        invoices=[InvoiceView(id=i.id, licence=codes[i.licence_case_id], amount_satang=i.amount_satang,
                              currency=i.currency, status=i.status, due_at=i.due_at) for i in invoices],
        timeline=[TimelineEntry(at=e.at, actor=e.actor, event=e.event, detail=e.detail) for e in events],
        filed_by=FiledBy(role=application.created_by_role, office=application.filed_at_office),
        consent=ConsentView.of(consent, now) if consent else None)


def _documents(ctx: EngineContext, licence: str, obtained: list[str]) -> list[DocumentView]:
    """The licence's documents, each saying how it is provided (the registry, an upload, or pending)."""
    manual_documents = [d.model_dump() for d in ctx.catalogue.licence(licence).documents]
    return [DocumentView(id=d["id"], name_th=d["name_th"], name_en=d["name_en"], required=d["required"],
                         provided=d["provided"]) for d in mark_obtained(manual_documents, obtained)]


APPLICATIONS_ORDER = Keyset("applications", (SortKey(ApplicationRow.created_at, datetime, descending=True),
                                              SortKey(ApplicationRow.id, str, descending=True)))


def list_for(ctx: EngineContext, session: Session, principal: Principal, limit: int | None = 100,
             offset: int = 0, cursor: list[Any] | None = None) -> Page[ApplicationSummary]:
    """The caller's own applications (and their companies'; a counter's, those it acts on by consent), newest
    first (admins see all), one page after `cursor` (engine/paging.py).

    Raises:
        InvalidInput: a cursor that is not this list's.
    """
    page = fetch_page(session, select(ApplicationRow).where(owner_filter(principal, ctx.clock.now())),
                      APPLICATIONS_ORDER, limit, cursor, offset=offset)
    applications = page.items
    ids = [a.id for a in applications]
    licences: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for case in session.exec(select(LicenceCaseRow).where(col(LicenceCaseRow.application_id).in_(ids))):
            licences[case.application_id].append(case.licence_code)
    return Page([ApplicationSummary(id=a.id, status=a.status, tracking_number=a.tracking_number,
                                    business_name=a.business_name, licences=sorted(licences[a.id]),
                                    created_at=a.created_at) for a in applications], page.next)
