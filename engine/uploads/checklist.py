"""What an application still owes in documents: the required ones before it is submitted, and the ones an
agency asked for (once, Licensing Facilitation Act s.8) before the answer is sent.

A document the platform obtains by data exchange is never owed: copies of it may not be demanded.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bizportal.engine.context import EngineContext
from bizportal.engine.errors import InvalidInput
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.consents import ConsentMethod, CounterConsentRow
from bizportal.storage.uploaded_documents import UploadedDocumentRow

POWER_OF_ATTORNEY = "power_of_attorney"  # every manual lists it: the letter someone filing for another brings


class OwedDocument(BaseModel):
    licence: str
    document: str
    name_th: str
    name_en: str


class Answer(BaseModel):
    """An upload that answers a request for documents: a version sent after the request."""

    document: str
    upload_id: str
    version: int
    filename: str
    uploaded_at: datetime


def current_uploads(session: Session, application_id: str) -> dict[str, UploadedDocumentRow]:
    """The latest version of each document uploaded to the application (deleted ones left out)."""
    rows = session.exec(select(UploadedDocumentRow).where(UploadedDocumentRow.application_id == application_id,
                                                          col(UploadedDocumentRow.deleted_at).is_(None))
                        .order_by(col(UploadedDocumentRow.version)))
    return {row.document: row for row in rows}


def missing_required(ctx: EngineContext, session: Session, application: ApplicationRow) -> list[OwedDocument]:
    """The required documents of the application's licences that nobody has uploaded yet; with a counter
    filing on a signed letter of authorisation, the letter (`power_of_attorney`) too."""
    uploaded = current_uploads(session, application.id)
    letter = session.exec(select(CounterConsentRow.id).where(
        CounterConsentRow.application_id == application.id,
        CounterConsentRow.method == ConsentMethod.SIGNED_AUTHORISATION)).first() is not None
    cases = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id)
                         .order_by(col(LicenceCaseRow.licence_code)))
    owed: dict[str, OwedDocument] = {}  # one entry per document, however many licences list it
    for case in cases:
        for document in ctx.catalogue.licence(case.licence_code).documents:
            required = document.required or (letter and document.id == POWER_OF_ATTORNEY)
            if required and not document.obtained_by_exchange and document.id not in uploaded:
                owed.setdefault(document.id, OwedDocument(licence=case.licence_code, document=document.id,
                                                          name_th=document.name_th, name_en=document.name_en))
    return list(owed.values())


def require_complete(ctx: EngineContext, session: Session, application: ApplicationRow) -> None:
    """Refuse to submit while a required document is missing.

    Raises:
        InvalidInput: naming every missing document (`details.missing`).
    """
    missing = missing_required(ctx, session, application)
    if missing:
        raise InvalidInput(f"required documents are missing: {', '.join(m.name_en for m in missing)}",
                           hint=f"upload each with POST /api/v1/applications/{application.id}/documents, then submit",
                           details={"field": "documents", "missing": [m.model_dump() for m in missing]})


def answers(session: Session, case: LicenceCaseRow) -> list[Answer]:
    """The latest upload of each document the agency asked for on `case`, sent in answer (after submission)."""
    if not case.requested_documents:
        return []
    latest = current_uploads(session, case.application_id)
    return [Answer(document=code, upload_id=row.id, version=row.version, filename=row.filename,
                   uploaded_at=row.uploaded_at)
            for code in case.requested_documents if (row := latest.get(code)) is not None and row.answers_request]


def require_answered(ctx: EngineContext, session: Session, case: LicenceCaseRow) -> None:
    """Refuse to send the answer to a request for documents until each one asked for has a new version.

    Raises:
        InvalidInput: naming every document not uploaded since the request (`details.missing`).
    """
    answered = {answer.document for answer in answers(session, case)}
    names = {d.id: d for d in ctx.catalogue.licence(case.licence_code).documents}
    missing = [code for code in case.requested_documents or [] if code not in answered]
    if missing:
        raise InvalidInput("upload the documents asked for before answering: "
                           f"{', '.join(names[code].name_en if code in names else code for code in missing)}",
                           hint=f"POST /api/v1/applications/{case.application_id}/documents with each, then submit "
                                "this step", details={"field": "documents", "missing": missing})
