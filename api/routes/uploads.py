"""Documents the applicant uploads: upload, list the versions, stream one, a signed link to one, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, decode, limit_param, paged_responses, with_next
from bizportal.api.routes.downloads import DownloadLink, content_disposition, link_to
from bizportal.engine.input_text import line
from bizportal.engine.uploads import documents
from bizportal.engine.uploads.documents import DocumentVersions, UploadedDocument

router = APIRouter(tags=["documents"])


@router.post("/api/v1/applications/{application_id}/documents", status_code=201, response_model=UploadedDocument,
             summary="Upload a document the licence's manual asks for (PDF, JPEG or PNG) to a draft application",
             description="Multipart: `document` is a document code of one of the application's licences' manuals "
                         "(GET .../documents lists them), `file` the file. The type is recognised from the content; "
                         "a PDF must parse, an image is stored re-encoded without its metadata. 413: the file or the "
                         "application's documents together are too large; 415: not a PDF, JPEG or PNG; 422: an "
                         "unknown document code, a damaged file, or the scanner refused it.")
def upload_document(application_id: str, engine: EngineDep, principal: PrincipalDep, background: BackgroundTasks,
                    document: Annotated[str, line(100, min_length=1),
                                        Form(description="a document code of the licence's manual")],
                    file: Annotated[UploadFile, File(description="the document: PDF, JPEG or PNG")]
                    ) -> UploadedDocument:
    with command(engine, background) as session:
        return documents.upload(engine.ctx, session, principal, application_id, document, file.filename, file.file)


@router.get("/api/v1/applications/{application_id}/documents", response_model=list[DocumentVersions],
            summary="The documents to upload for the application, each with its current and earlier uploads",
            responses=paged_responses())
def list_documents(application_id: str, request: Request, response: Response, engine: EngineDep,
                   principal: PrincipalDep, limit: Annotated[int, limit_param(500)] = 200,
                   cursor: Cursor = None) -> list[DocumentVersions]:
    with query(engine) as session:
        return with_next(request, response, documents.document_page(engine.ctx, session, principal,
                                                                     application_id, limit, decode(cursor)))


@router.get("/api/v1/documents/{document_id}/content", response_class=StreamingResponse,
            summary="The uploaded file (the applicant, the counter that filed, officers of the case; audited)",
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}})
def document_content(document_id: str, engine: EngineDep, principal: PrincipalDep,
                     background: BackgroundTasks) -> StreamingResponse:
    with command(engine, background) as session:  # a write: the read is audited
        row = documents.readable_upload(engine.ctx, session, principal, document_id)
        chunks = documents.content_of(engine.ctx, row)
        filename, content_type = row.filename, row.content_type
    return StreamingResponse(chunks, media_type=content_type, headers={
        "Content-Disposition": content_disposition(filename), "Cache-Control": "private, no-store"})


@router.post("/api/v1/documents/{document_id}/download-link", response_model=DownloadLink,
             summary="A link that downloads the uploaded file without signing in, valid for 5 minutes (audited)")
def document_download_link(document_id: str, request: Request, engine: EngineDep, principal: PrincipalDep,
                           background: BackgroundTasks) -> DownloadLink:
    with command(engine, background) as session:
        row = documents.readable_upload(engine.ctx, session, principal, document_id, via="link")
        return link_to(request, engine, row.object_key, row.filename, row.content_type, document=row.id)


@router.delete("/api/v1/documents/{document_id}", status_code=204, response_class=Response,
               summary="Delete an upload of a draft application")
def delete_document(document_id: str, engine: EngineDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> Response:
    with command(engine, background) as session:
        documents.delete_upload(engine.ctx, session, principal, document_id)
    return Response(status_code=204)
