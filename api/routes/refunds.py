"""Refunds of fees for licences that will not be issued."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, decode, limit_param, paged_responses, with_next
from bizportal.engine.payments import refunds
from bizportal.engine.payments.refunds import RefundPaidOut
from bizportal.storage.refunds import RefundRow

router = APIRouter(tags=["payments"])


class RefundOut(BaseModel):
    id: str
    invoice_id: str
    provider: str
    amount_satang: int
    currency: str
    state: str
    reason: str
    provider_reference: str | None
    created_at: datetime
    settled_at: datetime | None

    @classmethod
    def of(cls, row: RefundRow) -> RefundOut:
        return cls.model_validate(row, from_attributes=True)


@router.get("/api/v1/applications/{application_id}/refunds", response_model=list[RefundOut],
            summary="Refunds of an application's fees: requested, refunded, or owed by the agency; oldest first",
            responses=paged_responses())
def list_refunds(application_id: str, request: Request, response: Response, engine: EngineDep,
                 principal: PrincipalDep, limit: Annotated[int, limit_param(500)] = 200,
                 cursor: Cursor = None) -> list[RefundOut]:
    with query(engine) as session:
        page = refunds.refunds_of(engine.ctx, session, principal, application_id, limit, decode(cursor))
        return with_next(request, response, page.map(RefundOut.of))


@router.post("/api/v1/refunds/{refund_id}/paid-out", response_model=RefundOut,
             summary="Record that an owed refund was paid back (cash at the counter, or a bank transfer)")
def refund_paid_out(refund_id: str, body: RefundPaidOut, engine: EngineDep, principal: PrincipalDep,
                    background: BackgroundTasks) -> RefundOut:
    with command(engine, background) as session:
        return RefundOut.of(refunds.record_paid_out(engine.ctx, session, principal, refund_id, body))
