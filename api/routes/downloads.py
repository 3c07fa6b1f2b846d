"""Signed download links for e-licences, e-receipts and uploaded documents, and the download itself."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, PrincipalDep, query
from bizportal.api.download_links import DEFAULT_LIFETIME, DownloadGrant, DownloadLinks
from bizportal.engine.licences import issuing, standing
from bizportal.engine.payments import receipts
from bizportal.engine.uploads import documents

router = APIRouter(tags=["downloads"])


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


def links(request: Request) -> DownloadLinks:
    return request.app.state.download_links


def link_to(request: Request, engine: EngineDep, key: str, filename: str, content_type: str,
            licence: str | None = None, document: str | None = None) -> DownloadLink:
    grant = DownloadGrant(key=key, filename=filename, content_type=content_type,
                          expires_at=engine.ctx.clock.now() + DEFAULT_LIFETIME, licence=licence, document=document)
    return DownloadLink(url=links(request).url(grant), expires_at=grant.expires_at)


@router.post("/api/v1/issued-licences/{number}/download-link", response_model=DownloadLink,
             summary="A link that downloads the e-licence PDF without signing in, valid for 5 minutes")
def licence_download_link(number: str, request: Request, engine: EngineDep, principal: PrincipalDep) -> DownloadLink:
    with query(engine) as session:
        issued = issuing.downloadable_issued_licence(engine.ctx, session, principal, number)
        return link_to(request, engine, issued.pdf_key, f"{issued.number}.pdf", "application/pdf", issued.number)


@router.post("/api/v1/receipts/{number}/download-link", response_model=DownloadLink,
             summary="A link that downloads the e-receipt PDF without signing in, valid for 5 minutes")
def receipt_download_link(number: str, request: Request, engine: EngineDep, principal: PrincipalDep) -> DownloadLink:
    with query(engine) as session:
        receipt = receipts.readable_receipt(engine.ctx, session, principal, number)
        return link_to(request, engine, receipt.pdf_key, f"{receipt.number}.pdf", "application/pdf")


@router.get("/api/v1/downloads/{token}", response_class=StreamingResponse,
            summary="Download through a signed link (no sign-in; 403 if altered, 410 once expired or once the "
                    "licence is revoked, suspended or cancelled)",
            responses={200: {"content": {"application/pdf": {}}}})
def download(token: str, request: Request, engine: EngineDep) -> StreamingResponse:
    grant = links(request).check(token, engine.ctx.clock.now())
    if grant.licence is not None:
        with query(engine) as session:
            standing.require_shareable(session, grant.licence)
    if grant.document is not None:
        with query(engine) as session:
            documents.require_current(session, grant.document)
    return StreamingResponse(engine.ctx.object_store.iter_chunks(grant.key), media_type=grant.content_type, headers={
        "Content-Disposition": content_disposition(grant.filename), "Cache-Control": "private, no-store"})


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 one (RFC 6266, 5987): uploads may have Thai names."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
