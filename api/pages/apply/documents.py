"""The documents of a draft (`/apply/{id}/documents`): the checklist of its licences' documents (required or only
if applicable; those the state obtains by data exchange listed apart, never uploaded), one upload form per
document (the same use case as `POST /api/v1/applications/{id}/documents`, with its limits), and the uploads with
a link to view each and a button to remove it.

A document several licences ask for is one line: the engine keeps one upload per document code for the whole
application (engine/uploads/checklist.py counts it once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.apply.access import (
    ApplyRoute,
    DraftPage,
    FieldError,
    by_field,
    open_draft,
    summary,
)
from bizportal.api.pages.rendering import PageLang, render, size_text
from bizportal.engine.applications.applications import ApplicationView
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from bizportal.engine.input_text import line
from bizportal.engine.principal import Principal
from bizportal.engine.uploads import documents
from bizportal.engine.uploads.documents import UploadedDocument
from bizportal.engine.uploads.limits import UploadLimits

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=ApplyRoute)


@dataclass
class DocumentLine:
    """A document of the application's licences, with its current upload."""

    code: str
    name_th: str
    name_en: str
    required: bool
    licences: list[str] = field(default_factory=list)
    current: UploadedDocument | None = None


def checklist(engine: LicensingEngine, principal: Principal, application_id: str) -> list[DocumentLine]:
    """The uploadable documents, required ones first, each once (the engine's list, merged by document code)."""
    with query(engine) as session:
        listed = documents.list_documents(engine.ctx, session, principal, application_id)
    lines: dict[str, DocumentLine] = {}
    for item in listed:
        entry = lines.setdefault(item.document, DocumentLine(item.document, item.name_th, item.name_en, False))
        entry.required = entry.required or item.required
        entry.licences.append(item.licence)
        entry.current = entry.current or item.current
    return sorted(lines.values(), key=lambda d: not d.required)


def missing(lines: list[DocumentLine]) -> list[DocumentLine]:
    return [line for line in lines if line.required and line.current is None]


def obtained_by_exchange(engine: LicensingEngine, view: ApplicationView) -> list[tuple[str, str]]:
    """(Thai, English) names of the documents the state looks up itself for these licences: never asked for."""
    names: dict[str, tuple[str, str]] = {}
    for licence in view.licences:
        for document in engine.ctx.catalogue.licence(licence.code).documents:
            if document.obtained_by_exchange:
                names.setdefault(document.id, (document.name_th, document.name_en))
    return list(names.values())


def _page(request: Request, engine: LicensingEngine, lang: Lang, principal: Principal, view: ApplicationView,
          errors: list[FieldError], status_code: int = 200) -> HTMLResponse:
    limits = engine.ctx.upload_limits or UploadLimits()
    catalogue = engine.ctx.catalogue
    return render(request, "apply/documents.html", {
        "application_id": view.id, "documents": checklist(engine, principal, view.id),
        "exchanged": obtained_by_exchange(engine, view),
        "licence_names": {code: catalogue.licence(code) for code in catalogue.licences},
        "file_limit": size_text(limits.file_bytes), "size_text": size_text, "errors": summary(errors),
        "field_errors": by_field(errors)},
        lang, status_code=status_code, principal=principal)


@router.get("/apply/{application_id}/documents", response_class=HTMLResponse)
def documents_page(application_id: str, request: Request, engine: EngineDep, principal: DraftPage,
                   lang: PageLang) -> Response:
    view = open_draft(engine, principal, application_id)
    return _page(request, engine, lang, principal, view, [])


@router.post("/apply/{application_id}/documents", response_class=HTMLResponse)
def upload(application_id: str, request: Request, engine: EngineDep, principal: DraftPage, lang: PageLang,
           background: BackgroundTasks, document: Annotated[str, line(100, min_length=1), Form()],
           file: Annotated[UploadFile | None, File()] = None) -> Response:
    """One file for one document code; a refusal is shown beside that document's file field."""
    view = open_draft(engine, principal, application_id)
    labels = LABELS[lang]
    where = f"file-{document}"
    if file is None or not file.filename:
        return _page(request, engine, lang, principal, view, [FieldError(where, labels["apply_error_no_file"])], 400)
    limits = engine.ctx.upload_limits or UploadLimits()
    try:
        with command(engine, background) as session:
            documents.upload(engine.ctx, session, principal, application_id, document, file.filename, file.file)
    except PayloadTooLarge:
        return _page(request, engine, lang, principal, view,
                     [FieldError(where, labels["apply_error_too_big"] % size_text(limits.file_bytes))], 413)
    except UnsupportedMediaType:
        return _page(request, engine, lang, principal, view, [FieldError(where, labels["apply_error_file_type"])],
                     415)
    except InvalidInput as err:
        return _page(request, engine, lang, principal, view,
                     [FieldError(where, labels["apply_error_file_bad"] % err.message)], 422)
    return RedirectResponse(f"/apply/{application_id}/documents#doc-{document}", status_code=303)


@router.post("/apply/{application_id}/documents/{upload_id}/remove", response_class=HTMLResponse)
def remove(application_id: str, upload_id: str, engine: EngineDep, principal: DraftPage,
           background: BackgroundTasks) -> Response:
    """Remove an upload (the engine keeps what it was in the audit trail); back to the checklist."""
    with command(engine, background) as session:
        documents.delete_upload(engine.ctx, session, principal, upload_id)
    return RedirectResponse(f"/apply/{application_id}/documents", status_code=303)
