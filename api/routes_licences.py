"""The public licence catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from bizportal.api.deps import PortalDep

router = APIRouter(prefix="/api/v1/licences", tags=["licences"])


class LicenceSummary(BaseModel):
    code: str
    name_th: str
    name_en: str
    agency: str
    total_working_days: int
    fee_min_satang: int | None
    fee_max_satang: int | None
    elicence: bool


@router.get("", summary="Every licence on the platform", response_model=list[LicenceSummary])
def list_licences(portal: PortalDep) -> list[LicenceSummary]:
    return [LicenceSummary(code=m.code, name_th=m.name_th, name_en=m.name_en, agency=m.agency,
                           total_working_days=m.total_working_days, fee_min_satang=m.fee.min_satang,
                           fee_max_satang=m.fee.max_satang, elicence=m.elicence)
            for m in sorted(portal.ctx.catalogue.licences.values(), key=lambda m: m.code)]


@router.get("/{code}", summary="One licence's citizen's manual (steps, documents, fees)")
def get_licence(code: str, portal: PortalDep) -> dict[str, Any]:
    manual = portal.ctx.catalogue.licence(code)
    agency = portal.ctx.catalogue.agency(manual.agency)
    return {**manual.model_dump(mode="json"), "agency_detail": agency.model_dump()}
