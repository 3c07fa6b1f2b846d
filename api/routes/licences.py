"""The public licence catalogue: the API, the open-data downloads and the manual pages (in the layout of
api/pages)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from bizportal.api.deps import EngineDep
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pagination import Cursor, catalogue_page, limit_param, paged_responses, with_next
from bizportal.engine.catalogue.manual import LicenceManual

router = APIRouter(prefix="/api/v1/licences", tags=["licences"])
open_data = APIRouter(prefix="/api/v1/catalogue", tags=["licences"])
pages = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

CSV_COLUMNS = ["code", "name_th", "name_en", "agency", "agency_name_th", "agency_name_en", "routing",
               "total_working_days", "fee_type", "fee_min_thb", "fee_max_thb", "fee_parameter",
               "must_file_at_counter", "elicence", "public_display_required", "ial", "aal",
               "validity_years",
               "validity_note", "prerequisites", "variants", "business_types", "legal_basis", "manual_url",
               "unverified"]


class LicenceSummary(BaseModel):
    code: str
    name_th: str
    name_en: str
    agency: str
    total_working_days: int
    fee_min_satang: int | None
    fee_max_satang: int | None
    elicence: bool


@router.get("", summary="Every licence on the platform, by code", response_model=list[LicenceSummary],
            responses=paged_responses())
def list_licences(request: Request, response: Response, engine: EngineDep,
                  limit: Annotated[int, limit_param(500)] = 500, cursor: Cursor = None) -> list[LicenceSummary]:
    manuals = sorted(engine.ctx.catalogue.licences.values(), key=lambda m: m.code)
    return with_next(request, response, catalogue_page("licences", manuals, lambda m: m.code, limit, cursor).map(
        lambda m: LicenceSummary(code=m.code, name_th=m.name_th, name_en=m.name_en, agency=m.agency,
                                 total_working_days=m.total_working_days, fee_min_satang=m.fee.min_satang,
                                 fee_max_satang=m.fee.max_satang, elicence=m.elicence)))


@router.get("/{code}", summary="One licence's citizen's manual (steps, documents, fees)")
def get_licence(code: str, engine: EngineDep) -> dict[str, Any]:
    manual = engine.ctx.catalogue.licence(code)
    agency = engine.ctx.catalogue.agency(manual.agency)
    return {**manual.model_dump(mode="json"), "agency_detail": agency.model_dump()}


def _manuals(engine: Any) -> list[LicenceManual]:
    return sorted(engine.ctx.catalogue.licences.values(), key=lambda m: m.code)


@open_data.get(".json", summary="The whole catalogue as open data (every manual, every field)")
def catalogue_json(engine: EngineDep) -> dict[str, Any]:
    catalogue = engine.ctx.catalogue
    return {"licences": [m.model_dump(mode="json") for m in _manuals(engine)],
            "agencies": [a.model_dump() for a in sorted(catalogue.agencies.values(), key=lambda a: a.code)]}


@open_data.get(".csv", summary="The whole catalogue as CSV, one licence per row",
               response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def catalogue_csv(engine: EngineDep) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for m in _manuals(engine):
        agency = engine.ctx.catalogue.agency(m.agency)
        writer.writerow({
            "code": m.code, "name_th": m.name_th, "name_en": m.name_en, "agency": m.agency,
            "agency_name_th": agency.name_th, "agency_name_en": agency.name_en, "routing": m.routing,
            "total_working_days": m.total_working_days, "fee_type": m.fee.type,
            "fee_min_thb": _thb(m.fee.min_satang), "fee_max_thb": _thb(m.fee.max_satang),
            "fee_parameter": m.fee.parameter or "", "must_file_at_counter": m.must_file_at_counter,
            "elicence": m.elicence, "public_display_required": m.public_display_required, "ial": m.ial,
            "aal": m.aal,
            "validity_years": m.validity_years or "", "validity_note": m.validity_note or "",
            "prerequisites": ";".join(m.prerequisites), "variants": ";".join(m.variants),
            "business_types": ";".join(m.business_types), "legal_basis": m.legal_basis,
            "manual_url": m.manual_url or "", "unverified": ";".join(m.unverified)})
    # UTF-8 with a byte-order mark so spreadsheet programs show the Thai text correctly.
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="bizportal-licences.csv"'})


def _thb(satang: int | None) -> str:
    return "" if satang is None else f"{satang // 100}.{satang % 100:02d}"


@pages.get("/licences", response_class=HTMLResponse)
def licence_list_page(request: Request, engine: EngineDep, lang: PageLang) -> HTMLResponse:
    return render(request, "licence_list.html", {
        "licences": _manuals(engine),
        "agencies": {code: a.model_dump() for code, a in engine.ctx.catalogue.agencies.items()}}, lang)


@pages.get("/licences/{code}", response_class=HTMLResponse)
def licence_manual_page(code: str, request: Request, engine: EngineDep,
                        lang: PageLang) -> HTMLResponse:
    catalogue = engine.ctx.catalogue
    manual = catalogue.licence(code)
    return render(request, "licence_manual.html", {
        "m": manual, "agency": catalogue.agency(manual.agency).model_dump(),
        "prerequisites": [catalogue.licence(p) for p in manual.prerequisites],
        "step_split_unverified": any(p.startswith("steps") for p in manual.unverified)}, lang)
