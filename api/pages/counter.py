"""The counter officer's pages (`/counter`): find the entrepreneur by ID number, see what this office holds for
them, and what the office filed. Filing on their behalf is counter_filing.py; the cash desk is counter_cash.py
(their routers are included in this one).

Every page calls the use case of the JSON API: the registry look-up of GET /api/v1/entrepreneurs/{id} (a command,
so the look-up is audited), the consents of GET /api/v1/consents and the application of
GET /api/v1/applications/{id}. What a counter reaches follows engine/access.py: the applications its office
filed, while the entrepreneur's consent holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages import counter_cash, counter_filing
from bizportal.api.pages.counter_people import (
    CounterPage,
    IdNumberPath,
    counter_context,
    holder_kind,
    id_number_error,
)
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.engine.applications import applications, consents, entrepreneurs
from bizportal.engine.applications.applications import ApplicationView
from bizportal.engine.applications.consents import ConsentView
from bizportal.engine.applications.entrepreneurs import Entrepreneur
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import InvalidInput, NotFound, Unavailable
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)
FILED_PAGE_SIZE = 20
PERSON_CONSENTS = 50  # one entrepreneur's filings at one office: a handful in practice


@dataclass(frozen=True)
class Filing:
    """One counter filing: the consent the office took, and the application while the office still reaches it."""

    consent: ConsentView
    application: ApplicationView | None


def filings(engine: LicensingEngine, principal: Principal, limit: int, offset: int = 0,
            entrepreneur: str | None = None) -> list[Filing]:
    """The office's filings, newest first: each counter filing carries one consent, taken at the filing office
    (so the consents the office took are the applications it filed, ApplicationRow.filed_at_office). Once the
    consent is withdrawn or over, the office no longer reads the application: only the consent is shown."""
    with query(engine) as session:
        now = engine.ctx.clock.now()
        found = []
        for row in consents.consents_for(engine.ctx, session, principal, limit, offset,
                                        entrepreneur=entrepreneur).items:
            consent = ConsentView.of(row, now)
            application = None
            if consent.in_force:
                try:
                    application = applications.view(engine.ctx, session, principal, row.application_id)
                except NotFound:  # filed at this office by a colleague without an office: not ours to read
                    application = None
            found.append(Filing(consent, application))
        return found


def _find_page(request: Request, engine: LicensingEngine, lang: Lang, principal: Principal, typed: str,
               error: str | None, status_code: int, detail: str | None = None) -> HTMLResponse:
    errors = [(LABELS[lang][error], "#id_number")] if error else []
    return render(request, "counter/find.html", {**counter_context(engine, principal), "typed": typed,
                                                 "errors": errors, "detail": detail}, lang,
                  status_code=status_code, principal=principal)


@router.get("/counter", response_class=HTMLResponse)
def counter_find(request: Request, engine: EngineDep, principal: CounterPage, lang: PageLang,
                 id_number: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """The counter's start: the ID number from the card (a person's, or a company's registration number)."""
    if id_number is None:
        return _find_page(request, engine, lang, principal, "", None, 200)
    digits, error = id_number_error(id_number)
    if error is not None:
        return _find_page(request, engine, lang, principal, id_number, error, 400)
    return RedirectResponse(f"/counter/entrepreneurs/{digits}", status_code=303)


@router.get("/counter/entrepreneurs/{id_number}", response_class=HTMLResponse)
def counter_entrepreneur(request: Request, id_number: IdNumberPath, engine: EngineDep, principal: CounterPage,
                         background: BackgroundTasks, lang: PageLang) -> HTMLResponse:
    """The registry's record (the look-up of GET /api/v1/entrepreneurs/{id}, audited with its purpose), the
    consents this office took from them, and their applications the office reaches."""
    _, error = id_number_error(id_number)
    if error is not None:
        return _find_page(request, engine, lang, principal, id_number, error, 400)
    kind: Literal["individual", "juristic"] = holder_kind(id_number)
    found: Entrepreneur | None = None
    try:
        with command(engine, background) as session:
            found = entrepreneurs.look_up(engine.ctx, session, principal, kind, id_number)
    except NotFound:  # no registry on this server: the officer types the name from the card
        found = None
    except InvalidInput as err:  # not registered, deceased, or a closed company
        return _find_page(request, engine, lang, principal, id_number, "counter_error_unknown", 404, err.message)
    except Unavailable as err:
        return _find_page(request, engine, lang, principal, id_number, "counter_error_registry_down", 503, err.message)
    return render(request, "counter/entrepreneur.html", {
        **counter_context(engine, principal), "id_number": id_number, "masked": mask_thai_id(id_number),
        "kind": kind, "found": found,
        "filings": filings(engine, principal, PERSON_CONSENTS, entrepreneur=id_number)}, lang, principal=principal)


@router.get("/counter/filed", response_class=HTMLResponse)
def counter_filed(request: Request, engine: EngineDep, principal: CounterPage, lang: PageLang,
                  page: Annotated[int, Query(ge=1, le=1000)] = 1) -> HTMLResponse:
    """What this office filed, newest first, with each application's status and its consent's state."""
    found = filings(engine, principal, FILED_PAGE_SIZE + 1, (page - 1) * FILED_PAGE_SIZE)
    return render(request, "counter/filed.html", {
        **counter_context(engine, principal), "filings": found[:FILED_PAGE_SIZE], "page": page,
        "next_url": f"/counter/filed?page={page + 1}" if len(found) > FILED_PAGE_SIZE else None,
        "previous_url": f"/counter/filed?page={page - 1}" if page > 1 else None}, lang, principal=principal)


router.include_router(counter_filing.router)
router.include_router(counter_cash.router)
