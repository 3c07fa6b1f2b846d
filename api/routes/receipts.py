"""E-receipts: the receipts of an application, and each receipt's signed PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from bizportal.api.deps import EngineDep, PrincipalDep, query
from bizportal.api.pagination import Cursor, decode, limit_param, paged_responses, with_next
from bizportal.engine.payments import receipts
from bizportal.storage.receipts import ReceiptRow

router = APIRouter(prefix="/api/v1", tags=["receipts"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such receipt or application, or not the caller's to read"}}


class ReceiptOut(BaseModel):
    number: str = Field(description="BP-R-<B.E. year>-<sequence>")
    source: str = Field(description="counter (cash recorded by an officer) or online (Stripe, PromptPay)")
    payment_id: str
    amount_satang: int
    currency: str
    issued_at: datetime
    sha256: str = Field(description="of the signed PDF")
    size: int
    pdf_url: str


def _out(receipt: ReceiptRow) -> ReceiptOut:
    return ReceiptOut(number=receipt.number, source=receipt.source, payment_id=receipt.payment_id,
                      amount_satang=receipt.amount_satang, currency=receipt.currency, issued_at=receipt.issued_at,
                      sha256=receipt.pdf_sha256, size=receipt.pdf_size,
                      pdf_url=f"/api/v1/receipts/{receipt.number}/pdf")


@router.get("/applications/{application_id}/receipts", response_model=list[ReceiptOut],
            responses=paged_responses(_NOT_FOUND),
            summary="The e-receipts of an application's payments",
            description="One receipt per payment, oldest first; created shortly after the payment is recorded. "
                        "Readable by whoever may read the application.")
def list_receipts(application_id: str, request: Request, response: Response, engine: EngineDep,
                  principal: PrincipalDep, limit: Annotated[int, limit_param(500)] = 200,
                  cursor: Cursor = None) -> list[ReceiptOut]:
    with query(engine) as session:
        page = receipts.receipt_page(engine.ctx, session, principal, application_id, limit, decode(cursor))
        return with_next(request, response, page.map(_out))


@router.get("/receipts/{number}/pdf", response_class=StreamingResponse, summary="Download an e-receipt PDF",
            description="The signed PDF (PAdES), streamed. Readable by whoever may read the receipt's application.",
            responses={200: {"content": {"application/pdf": {}}}, **_NOT_FOUND})
def get_receipt_pdf(number: str, engine: EngineDep, principal: PrincipalDep) -> StreamingResponse:
    with query(engine) as session:
        receipt = receipts.readable_receipt(engine.ctx, session, principal, number)
    chunks = receipts.receipt_pdf_chunks(engine.ctx, receipt)
    return StreamingResponse(chunks, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{receipt.number}.pdf"',
        "Content-Length": str(receipt.pdf_size), "ETag": f'"{receipt.pdf_sha256}"'})
