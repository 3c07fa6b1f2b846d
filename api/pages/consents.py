"""My consents: the consents to counter filing given in my name (or my company's), as GET /api/v1/consents
lists them (who consented, how, at which office, for which licences, until when, in force or not), each in
force with "withdraw", which asks to confirm and then uses the same use case as
POST /api/v1/consents/{id}/withdraw. Someone else's consent is the 404 page. Below them, the companies I act for
and who else acts for each (api/routes/companies.py's list)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import CitizenPage
from bizportal.engine.applications import consents, representatives
from bizportal.engine.applications.consents import ConsentView
from bizportal.engine.applications.representatives import RepresentativeView
from bizportal.engine.catalogue.offices import Office
from bizportal.engine.errors import Conflict, NotFound

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)
ConsentId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]  # as the API's


def _mine(engine: EngineDep, principal: CitizenPage) -> list[ConsentView]:
    with query(engine) as session:
        now = engine.ctx.clock.now()
        return [ConsentView.of(row, now) for row in consents.consents_for(engine.ctx, session, principal, None).items]


def _offices(engine: EngineDep) -> dict[str, Office]:
    """The directory's offices by code (a consent taken at a counter that is no local office shows its code)."""
    return {office.code: office for office in engine.ctx.offices.offices()}


def _companies(engine: EngineDep, principal: CitizenPage) -> tuple[list[RepresentativeView],
                                                                   dict[str, list[RepresentativeView]]]:
    """The authorisations I hold or held to act for a company (`representatives.acting_for`), and for each company
    I act for now, the others who act for it (as GET /api/v1/companies/{number}/representatives lists them)."""
    with query(engine) as session:
        now = engine.ctx.clock.now()
        held = representatives.acting_for(session, principal)
        current = sorted({row.juristic_number for row in held if row.revoked_at is None
                          and (row.valid_until is None or row.valid_until > now)})
        others = {number: [RepresentativeView.of(row) for row in
                           representatives.representatives_of(engine.ctx, session, principal, number).items
                           if row.id_number != principal.id_number] for number in current}
    return [RepresentativeView.of(row) for row in held], others


@router.get("/account/consents", response_class=HTMLResponse)
def consents_page(request: Request, engine: EngineDep, principal: CitizenPage, lang: PageLang,
                  withdrawn: str | None = None) -> HTMLResponse:
    acting_for, others = _companies(engine, principal)
    return render(request, "account/consents.html", {"consents": _mine(engine, principal),
                                                     "just_withdrawn": withdrawn, "offices": _offices(engine),
                                                     "catalogue": engine.ctx.catalogue, "acting_for": acting_for,
                                                     "others": others}, lang, principal=principal)


@router.get("/account/consents/{consent_id}/withdraw", response_class=HTMLResponse)
def confirm_withdrawal(request: Request, consent_id: ConsentId, engine: EngineDep, principal: CitizenPage,
                       lang: PageLang) -> HTMLResponse:
    """The confirmation step: what the counter may no longer do once the consent is withdrawn."""
    consent = next((item for item in _mine(engine, principal) if item.id == consent_id), None)
    if consent is None:
        raise NotFound(f"consent {consent_id} does not exist")
    return render(request, "account/consent_withdraw.html", {"consent": consent, "offices": _offices(engine),
                                                             "catalogue": engine.ctx.catalogue}, lang,
                  principal=principal)


@router.post("/account/consents/{consent_id}/withdraw")
def withdraw(request: Request, consent_id: ConsentId, engine: EngineDep, principal: CitizenPage, lang: PageLang,
             background: BackgroundTasks) -> Response:
    try:
        with command(engine, background) as session:
            consents.withdraw(engine.ctx, session, principal, consent_id)
    except Conflict:
        pass  # withdrawn already (a second click): the list shows it withdrawn
    return RedirectResponse(f"/account/consents?lang={lang}&withdrawn={consent_id}", status_code=303)
