"""My data (PDPA s.30, the right of access): everything the platform holds about me, as GET /api/v1/me/data
gathers it (`engine/privacy/personal_data.py`), shown in readable sections, and the whole of it as a JSON
download. Each look is an export, and goes on the audit trail as the API's does."""

from __future__ import annotations

import json

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response

from bizportal.api.deps import EngineDep, command
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import CitizenPage
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.principal import Principal
from bizportal.engine.privacy import personal_data
from bizportal.engine.privacy.personal_data import PersonalData

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)


def _export(engine: EngineDep, principal: Principal, background: BackgroundTasks) -> PersonalData:
    with command(engine, background) as session:  # a command: each export is audited
        return personal_data.export(engine.ctx, session, principal)


@router.get("/account/data", response_class=HTMLResponse)
def my_data_page(request: Request, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                 background: BackgroundTasks) -> HTMLResponse:
    data = _export(engine, principal, background)
    return render(request, "account/my_data.html", {
        "data": data, "masked_id": mask_thai_id(principal.id_number) if principal.id_number else None,
        "catalogue": engine.ctx.catalogue}, lang, principal=principal)


@router.get("/account/data/download")
def download_my_data(engine: EngineDep, principal: CitizenPage, background: BackgroundTasks) -> Response:
    """The whole export as one JSON file (the API's body, as an attachment)."""
    data = _export(engine, principal, background)
    day = data.exported_at.date().isoformat()
    body = json.dumps(data.model_dump(mode="json"), ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="bizportal-my-data-{day}.json"', "Cache-Control": "no-store"})
