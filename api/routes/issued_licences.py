"""Issued e-licences: the record and the PDF, for the holder and the issuing agency; the holder's renewal,
amendment and cancellation requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.engine.applications import applications
from bizportal.engine.applications.applications import ApplicationView
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.licences import issuing, requests
from bizportal.engine.licences.amendment import AmendmentInput
from bizportal.engine.licences.cancellation import CancellationInput
from bizportal.engine.licences.renewal import RenewalInput
from bizportal.engine.principal import Principal

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
    predecessor: str | None = None  # the licence this one renewed or replaced
    successor: str | None = None  # the licence that renewed or replaced this one


@router.get("/{number}", response_model=IssuedLicenceOut, summary="An issued licence's record")
def get_issued_licence(number: str, engine: EngineDep, principal: PrincipalDep) -> IssuedLicenceOut:
    with query(engine) as session:
        issued = issuing.readable_issued_licence(engine.ctx, session, principal, number)
    return IssuedLicenceOut(number=issued.number, licence=issued.licence_code, agency=issued.agency,
                            holder=issued.holder_name, business_name=issued.business_name,
                            issued_on=issued.issued_on, valid_until=issued.valid_until, status=issued.status,
                            sha256=issued.pdf_sha256, size=issued.pdf_size, predecessor=issued.predecessor_number,
                            successor=issued.successor_number)


@router.get("/{number}/pdf", response_class=StreamingResponse, summary="Download the e-licence PDF",
            responses={200: {"content": {"application/pdf": {}}}})
def get_issued_licence_pdf(number: str, engine: EngineDep, principal: PrincipalDep) -> StreamingResponse:
    with query(engine) as session:
        issued = issuing.downloadable_issued_licence(engine.ctx, session, principal, number)
    chunks = issuing.licence_pdf_chunks(engine.ctx, issued)
    return StreamingResponse(chunks, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{issued.number}.pdf"',
        "Content-Length": str(issued.pdf_size), "ETag": f'"{issued.pdf_sha256}"'})


# --- requests about an issued licence --------------------------------------------------------------

IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"description": "replay of an earlier request with the same Idempotency-Key"}}


def _open(engine: LicensingEngine, principal: Principal, background: BackgroundTasks, response: Response,
          request: Callable[..., tuple[Any, bool]], number: str, body: Any, key: str | None) -> ApplicationView:
    with command(engine, background) as session:
        application, created = request(engine.ctx, session, principal, number, body, key)
        if not created:
            response.status_code = 200
        return applications.view(engine.ctx, session, principal, application.id)


@router.post("/{number}/renewals", status_code=201, response_model=ApplicationView, responses=_REPLAY,
             summary="Renew a licence (its holder): from 90 days before expiry to 30 days after")
def request_renewal(number: str, body: RenewalInput, engine: EngineDep, principal: PrincipalDep,
                    background: BackgroundTasks, response: Response,
                    idempotency_key: IdempotencyKey = None) -> ApplicationView:
    return _open(engine, principal, background, response, requests.request_renewal, number, body,
                 idempotency_key)


@router.post("/{number}/amendments", status_code=201, response_model=ApplicationView, responses=_REPLAY,
             summary="Amend a licence's printed details (its holder), with a reason")
def request_amendment(number: str, body: AmendmentInput, engine: EngineDep, principal: PrincipalDep,
                      background: BackgroundTasks, response: Response,
                      idempotency_key: IdempotencyKey = None) -> ApplicationView:
    return _open(engine, principal, background, response, requests.request_amendment, number, body,
                 idempotency_key)


@router.post("/{number}/cancellations", status_code=201, response_model=ApplicationView, responses=_REPLAY,
             summary="Give a licence up (its holder), with a reason; the agency acknowledges")
def request_cancellation(number: str, body: CancellationInput, engine: EngineDep, principal: PrincipalDep,
                         background: BackgroundTasks, response: Response,
                         idempotency_key: IdempotencyKey = None) -> ApplicationView:
    return _open(engine, principal, background, response, requests.request_cancellation, number, body,
                 idempotency_key)
