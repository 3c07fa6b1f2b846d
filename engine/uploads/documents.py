"""Uploading the documents a licence's manual asks for: upload, list, read, and delete a draft's upload.

An upload is checked before anything is stored: the caller may act for the applicant, the application is a draft,
the document code is one of its licences' manual documents and not one the platform obtains by data exchange;
then the file's size, its type by content, a PDF's parse or an image's re-encoding (`content.py`), the
application's total, and the scanner plug-in. Only then are the bytes put in the object store (content-addressed,
in one piece) and the row written. Every upload, read and deletion is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import IO, Any
from uuid import uuid4

from pydantic import BaseModel
from sqlalchemy import column, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bizportal.adapters.scanners.base import ScannedDocument, ScannerError
from bizportal.engine import audit
from bizportal.engine.access import is_owner, readable_application
from bizportal.engine.catalogue.manual import Document
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Conflict, Expired, Forbidden, InvalidInput, NotFound, PayloadTooLarge, Unavailable
from bizportal.engine.paging import Keyset, Page, SortKey, page_in_memory
from bizportal.engine.principal import Principal
from bizportal.engine.statuses import Status
from bizportal.engine.uploads.content import PDF, check_pdf, measure, reencode_image, sanitise_filename
from bizportal.engine.uploads.limits import MB, UploadLimits
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.uploaded_documents import UploadedDocumentRow


class UploadedDocument(BaseModel):
    """One version of an uploaded document."""

    id: str
    document: str
    licence: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    version: int


class DocumentVersions(BaseModel):
    """A manual document of the application, with its uploads: the current one and the earlier ones."""

    document: str
    licence: str
    name_th: str
    name_en: str
    required: bool
    current: UploadedDocument | None
    earlier: list[UploadedDocument]


def _view(row: UploadedDocumentRow) -> UploadedDocument:
    return UploadedDocument(id=row.id, document=row.document, licence=row.licence_code, filename=row.filename,
                            content_type=row.content_type, size=row.size, sha256=row.sha256,
                            uploaded_at=row.uploaded_at, version=row.version)


def _limits(ctx: EngineContext) -> UploadLimits:
    return ctx.upload_limits or UploadLimits()


def _manual_documents(ctx: EngineContext, session: Session, application_id: str) -> list[tuple[str, Document]]:
    """(licence code, document) for every document the manuals of the application's licences list."""
    codes = session.exec(select(LicenceCaseRow.licence_code).where(LicenceCaseRow.application_id == application_id)
                         .order_by(col(LicenceCaseRow.licence_code))).all()
    return [(code, document) for code in codes for document in ctx.catalogue.licence(code).documents]


def _uploadable(ctx: EngineContext, session: Session, application: ApplicationRow, code: str) -> tuple[str, Document]:
    """The licence and manual document a code names, if it may be uploaded.

    Raises:
        InvalidInput: the code is no document of the application's licences, or the platform obtains it by
            data exchange.
    """
    documents = _manual_documents(ctx, session, application.id)
    match = next(((licence, document) for licence, document in documents if document.id == code), None)
    uploadable = sorted({document.id for _, document in documents if not document.obtained_by_exchange})
    if match is None:
        raise InvalidInput(f"{code!r} is not a document of this application's licences",
                           hint="send one of the document codes listed in details",
                           details={"field": "document", "allowed": uploadable})
    if match[1].obtained_by_exchange:
        raise InvalidInput(f"{code!r} ({match[1].name_en}) is obtained by the platform from a data exchange: "
                           "copies may not be demanded, so it is not uploaded",
                           hint="upload only the documents listed in details",
                           details={"field": "document", "allowed": uploadable})
    return match


def _stored_bytes(session: Session, application_id: str) -> int:
    total = session.exec(select(func.coalesce(func.sum(UploadedDocumentRow.size), 0))
                         .where(UploadedDocumentRow.application_id == application_id,
                                col(UploadedDocumentRow.deleted_at).is_(None))).one()
    return int(total)


def _next_version(session: Session, application_id: str, code: str) -> int:
    latest = session.exec(select(func.max(UploadedDocumentRow.version))
                          .where(UploadedDocumentRow.application_id == application_id,
                                 UploadedDocumentRow.document == code)).one()
    return int(latest or 0) + 1


def _require_draft(application: ApplicationRow, action: str) -> None:
    if application.status != Status.DRAFT:
        raise Conflict(f"documents can be {action} only while the application is a draft; it is "
                       f"{application.status}", hint="ask the agency handling the case")


def _answering(session: Session, application: ApplicationRow, code: str) -> bool:
    """Whether an upload of `code` now answers the agency's request for documents (False: a draft's upload).

    Raises:
        Conflict: the application is submitted and no case of it waits for this document.
    """
    if application.status == Status.DRAFT:
        return False
    waiting = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application.id,
                                                        LicenceCaseRow.status == Status.DOCUMENTS_REQUESTED)).all()
    if any(code in (case.requested_documents or []) for case in waiting):
        return True
    asked = sorted({c for case in waiting for c in case.requested_documents or []})
    raise Conflict(f"after submission, documents are uploaded only when the agency asks for them, and {code!r} "
                   f"is not asked for now", hint=f"the agency asks for: {', '.join(asked)}" if asked else
                   "the application waits for no documents", details={"field": "document", "requested": asked})


def upload(ctx: EngineContext, session: Session, principal: Principal, application_id: str, code: str,
           filename: str | None, content: IO[bytes]) -> UploadedDocument:
    """Check an uploaded file and store it as the next version of a manual document of the application.

    Args:
        code: the document code of one of the application's licences' manuals.
        filename: the name the client gave (sanitised; its extension becomes the recognised type's).
        content: the file, readable and seekable (the multipart parser's spooled file); read in chunks.

    Raises:
        NotFound: no such application, or not the caller's to see.
        Forbidden: the caller may see it but not act for the applicant (an officer).
        Conflict: the application is submitted and waits for no such document (after submission, documents are
            uploaded only to answer the agency's request for them).
        InvalidInput: an unknown or exchanged document code; an empty, damaged or encrypted file; a PDF with too
            many pages; an image too large; the scanner refused it.
        PayloadTooLarge: the file, or the application's uploads with it, are over their limit.
        UnsupportedMediaType: not a PDF, JPEG or PNG by its content.
        Unavailable: the scanner cannot answer now.
    """
    now = ctx.clock.now()
    limits = _limits(ctx)
    application = readable_application(session, principal, application_id, now)
    if not is_owner(session, principal, application, now):
        raise Forbidden("only the applicant, or the counter that filed for them under a consent, uploads documents")
    licence, document = _uploadable(ctx, session, application, code)
    answering = _answering(session, application, code)
    measured = measure(content, limits)
    with ExitStack() as cleanup:
        stored_file: IO[bytes] = content
        size, sha256 = measured.size, measured.sha256
        if measured.content_type == PDF:
            check_pdf(content, limits)
        else:
            stored_file = cleanup.enter_context(reencode_image(content, measured.content_type, limits))
            again = measure(stored_file, limits)  # re-encoded: its own size and digest (and the file limit again)
            size, sha256 = again.size, again.sha256
        used = _stored_bytes(session, application.id)
        if used + size > limits.application_bytes:
            raise PayloadTooLarge(f"this application's documents would come to {(used + size) / MB:.1f} MB, more "
                                  f"than the {limits.application_bytes / MB:g} MB allowed",
                                  hint="delete earlier uploads you no longer need, or upload smaller files",
                                  details={"field": "file", "limit_bytes": limits.application_bytes,
                                           "used_bytes": used})
        name = sanitise_filename(filename, measured.content_type)
        _scan(ctx, ScannedDocument(application_id=application.id, document=code, filename=name,
                                   content_type=measured.content_type, size=size, sha256=sha256), stored_file)
        stored_file.seek(0)
        stored = ctx.object_store.put_stream(stored_file, measured.content_type)
    row = UploadedDocumentRow(id=str(uuid4()), application_id=application.id, licence_code=licence,
                              document=document.id, version=_next_version(session, application.id, code),
                              filename=name, content_type=measured.content_type, size=stored.size,
                              sha256=stored.sha256, object_key=stored.key, uploaded_at=now, uploaded_by=principal.label,
                              answers_request=answering)
    session.add(row)
    audit.record(session, principal, "document_uploaded", now, application.id, document=row.document,
                 upload=row.id, version=row.version, size=row.size, sha256=row.sha256, answers_request=answering)
    try:
        session.flush()
    except IntegrityError as err:  # another upload of this document took the version number first
        raise Conflict(f"another upload of {code!r} arrived at the same time",
                       hint="list the documents, then upload again if it is still needed") from err
    return _view(row)


def _scan(ctx: EngineContext, document: ScannedDocument, content: IO[bytes]) -> None:
    if ctx.scanner is None:
        return
    content.seek(0)
    try:
        verdict = ctx.scanner.scan(document, content)
    except ScannerError as err:
        raise Unavailable("the document scanner cannot check the file right now", hint="upload it again shortly"
                          ) from err
    if not verdict.accepted:
        raise InvalidInput(f"the file was refused by the document scanner: {verdict.reason or 'no reason given'}",
                           hint="upload a clean copy of the document", details={"field": "file"})


def list_documents(ctx: EngineContext, session: Session, principal: Principal,
                   application_id: str) -> list[DocumentVersions]:
    """The application's manual documents that are uploaded (not those obtained by exchange), each with its
    current upload and the earlier ones, newest first.

    Raises:
        NotFound: no such application, or not the caller's to see.
    """
    application = readable_application(session, principal, application_id, ctx.clock.now())
    rows = session.exec(select(UploadedDocumentRow)
                        .where(UploadedDocumentRow.application_id == application.id,
                               col(UploadedDocumentRow.deleted_at).is_(None))
                        .order_by(col(UploadedDocumentRow.version).desc())).all()
    listed = []
    for licence, document in _manual_documents(ctx, session, application.id):
        if document.obtained_by_exchange:
            continue
        versions = [_view(row) for row in rows if row.document == document.id and row.licence_code == licence]
        listed.append(DocumentVersions(document=document.id, licence=licence, name_th=document.name_th,
                                       name_en=document.name_en, required=document.required,
                                       current=versions[0] if versions else None, earlier=versions[1:]))
    return listed


DOCUMENTS_ORDER = Keyset("documents", (SortKey(column("position"), int), SortKey(column("licence"), str),
                                       SortKey(column("document"), str)))


def document_page(ctx: EngineContext, session: Session, principal: Principal, application_id: str, limit: int,
                  cursor: list[Any] | None = None) -> Page[DocumentVersions]:
    """`list_documents` a page at a time, in the manual's order (a document's place in it, then its licence and
    code, which together are unique), after `cursor` (engine/paging.py).

    Raises:
        NotFound: no such application, or not the caller's to see.
        InvalidInput: a cursor that is not this list's.
    """
    position = DOCUMENTS_ORDER.position(cursor)
    listed = list(enumerate(list_documents(ctx, session, principal, application_id)))
    return page_in_memory(listed, DOCUMENTS_ORDER, lambda item: (item[0], item[1].licence, item[1].document),
                          position, limit).map(lambda item: item[1])


def readable_upload(ctx: EngineContext, session: Session, principal: Principal, upload_id: str,
                    via: str = "api") -> UploadedDocumentRow:
    """An upload the caller may read (the application's readers: the applicant, the counter under consent,
    officers of a case of its agency and office, admins); the read is audited.

    Args:
        via: how it is read, for the audit trail: `api` (streamed) or `link` (a signed link handed out).

    Raises:
        NotFound: no such upload, a deleted one, or one the caller may not read (the same answer, so ids
            cannot be probed).
    """
    row = session.get(UploadedDocumentRow, upload_id)
    missing = NotFound(f"document {upload_id} does not exist")
    if row is None or row.deleted_at is not None:
        raise missing
    try:
        readable_application(session, principal, row.application_id, ctx.clock.now())
    except NotFound:
        raise missing from None
    audit.record(session, principal, "document_read", ctx.clock.now(), row.application_id, document=row.document,
                 upload=row.id, version=row.version, via=via)
    return row


def content_of(ctx: EngineContext, row: UploadedDocumentRow) -> Iterator[bytes]:
    """The stored bytes, in chunks (the object store checks the key exists before the first chunk)."""
    return ctx.object_store.iter_chunks(row.object_key)


def require_current(session: Session, upload_id: str) -> None:
    """For a signed link: the upload it names must not have been deleted since.

    Raises:
        Expired: it was deleted.
    """
    row = session.get(UploadedDocumentRow, upload_id)
    if row is None or row.deleted_at is not None:
        raise Expired("the document of this link was deleted", hint="ask the applicant for the current document")


def delete_upload(ctx: EngineContext, session: Session, principal: Principal, upload_id: str) -> None:
    """Delete an upload of a draft (the row is marked; the audit trail keeps what it was).

    Raises:
        NotFound: no such upload, or not the caller's to see.
        Forbidden: the caller may see it but not act for the applicant.
        Conflict: the application is no longer a draft.
    """
    now = ctx.clock.now()
    row = session.get(UploadedDocumentRow, upload_id)
    missing = NotFound(f"document {upload_id} does not exist")
    if row is None or row.deleted_at is not None:
        raise missing
    try:
        application = readable_application(session, principal, row.application_id, now)
    except NotFound:
        raise missing from None
    if not is_owner(session, principal, application, now):
        raise Forbidden("only the applicant, or the counter that filed for them under a consent, deletes documents")
    _require_draft(application, "deleted")
    row.deleted_at, row.deleted_by = now, principal.label
    session.add(row)
    audit.record(session, principal, "document_deleted", now, application.id, document=row.document, upload=row.id,
                 version=row.version)
