"""Issued e-licences: the record and the PDF, for the holder and the issuing agency."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from bizportal.api.deps import PortalDep, PrincipalDep, query
from bizportal.engine import issuing

router = APIRouter(prefix="/api/v1/issued-licences", tags=["issued licences"])


class IssuedLicenceOut(BaseModel):
    number: str
    licence: str
    agency: str
    holder: str
    business_name: str
    issued_on: date
    valid_until: date | None
    status: str
    sha256: str
    size: int


@router.get("/{number}", response_model=IssuedLicenceOut, summary="An issued licence's record")
def get_issued_licence(number: str, portal: PortalDep, principal: PrincipalDep) -> IssuedLicenceOut:
    with query(portal) as session:
        issued = issuing.readable_issued_licence(session, principal, number)
    return IssuedLicenceOut(number=issued.number, licence=issued.licence_code, agency=issued.agency,
                            holder=issued.holder_name, business_name=issued.business_name,
                            issued_on=issued.issued_on, valid_until=issued.valid_until, status=issued.status,
                            sha256=issued.pdf_sha256, size=issued.pdf_size)


@router.get("/{number}/pdf", response_class=StreamingResponse, summary="Download the e-licence PDF",
            responses={200: {"content": {"application/pdf": {}}}})
def get_issued_licence_pdf(number: str, portal: PortalDep, principal: PrincipalDep) -> StreamingResponse:
    with query(portal) as session:
        issued = issuing.readable_issued_licence(session, principal, number)
    chunks = issuing.licence_pdf_chunks(portal.ctx, issued)
    return StreamingResponse(chunks, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{issued.number}.pdf"',
        "Content-Length": str(issued.pdf_size), "ETag": f'"{issued.pdf_sha256}"'})
