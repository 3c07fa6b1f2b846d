"""Anyone can check an e-licence: by the QR's link, or by uploading the PDF."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from bizportal.api.deps import EngineDep, query
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import InvalidInput, Unavailable
from bizportal.engine.licences.verification import verify_number, verify_pdf, with_licence_names

router = APIRouter(tags=["verification"])
page_router = APIRouter(tags=["verification"], include_in_schema=False, route_class=PageRoute)
MAX_PDF_BYTES = 10 * 1024 * 1024


def _signing(engine: LicensingEngine) -> Any:
    if engine.ctx.signing is None:
        raise Unavailable("licence verification is not configured on this server")
    return engine.ctx.signing


def _check(engine: LicensingEngine, number: str, signature: str) -> dict[str, Any]:
    with query(engine) as session:
        result = verify_number(session, number, signature, _signing(engine).qr, engine.ctx.clock.now())
    return asdict(with_licence_names(result, engine.ctx.catalogue))


@router.get("/api/v1/verify/{number}", summary="Check a licence from its QR code (public)")
def verify_json(number: str, engine: EngineDep, s: Annotated[str, Query(max_length=200)] = "") -> dict[str, Any]:
    return _check(engine, number, s)


@page_router.get("/verify/{number}", response_class=HTMLResponse)
def verify_page(number: str, request: Request, engine: EngineDep, lang: PageLang,
                s: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    return render(request, "verify.html", {"result": _check(engine, number, s)}, lang)


@router.post("/api/v1/verify", summary="Upload a PDF: is it an authentic e-licence issued here?")
def verify_upload(engine: EngineDep, file: Annotated[UploadFile, File(description="the e-licence PDF")]
                  ) -> dict[str, Any]:
    pdf = file.file.read(MAX_PDF_BYTES + 1)
    if len(pdf) > MAX_PDF_BYTES:
        raise InvalidInput("the file is larger than 10 MB: an e-licence is far smaller", details={"field": "file"})
    with query(engine) as session:
        result = verify_pdf(session, pdf, _signing(engine).trust_roots, now=engine.ctx.clock.now())
    return asdict(result)
