"""The satisfaction survey of a decided licence: a 1-5 rating and a comment, once per licence case, through the
use cases of /api/v1/applications/{id}/licences/{code}/survey (`engine/applications/surveys.py`). After sending,
the page thanks and shows the answer; coming back (or sending twice) shows the answer given. Before the licence
is decided the page says so, and a refused answer (out of range, rated already, not decided) comes back in the
error summary with nothing written."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bizportal.api.deps import EngineDep, command, query
from bizportal.api.page_labels import Lang
from bizportal.api.pages.form_input import FormErrors, checked, engine_refused, form_fields
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import CitizenPage
from bizportal.engine.applications import applications, surveys
from bizportal.engine.applications.surveys import DECIDED, SurveyAnswer
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import BizPortalError, NotFound
from bizportal.engine.principal import Principal

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)
Licence = Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9_]+$")]  # as the API's
SURVEY_PAGE = "/applications/{application_id}/licences/{licence}/survey"
RATINGS = (5, 4, 3, 2, 1)


def _page(request: Request, engine: LicensingEngine, principal: Principal, application_id: str, licence: str,
          lang: Lang, errors: FormErrors | None = None, sent: dict[str, str] | None = None,
          status_code: int = 200, thanks: bool = False) -> HTMLResponse:
    with query(engine) as session:
        view = applications.view(engine.ctx, session, principal, application_id)
        answer = surveys.answered(engine.ctx, session, principal, application_id, licence)
    case = next(item for item in view.licences if item.code == licence)  # `answered` found it
    context: dict[str, Any] = {
        "view": view, "case": case, "manual": engine.ctx.catalogue.licence(licence), "answer": answer,
        "decided": case.status in DECIDED, "ratings": RATINGS, "thanks": thanks, "sent": sent or {},
        "errors": errors.summary if errors else [], "field_errors": errors.fields if errors else {},
        "action": SURVEY_PAGE.format(application_id=application_id, licence=licence)}
    return render(request, "account/survey.html", context, lang, status_code=status_code, principal=principal)


@router.get(SURVEY_PAGE, response_class=HTMLResponse)
def survey_page(request: Request, application_id: str, licence: Licence, engine: EngineDep,
                principal: CitizenPage, lang: PageLang, sent: str | None = None) -> HTMLResponse:
    return _page(request, engine, principal, application_id, licence, lang, thanks=sent == "1")


@router.post(SURVEY_PAGE)
async def answer_survey(request: Request, application_id: str, licence: Licence, engine: EngineDep,
                        principal: CitizenPage, lang: PageLang, background: BackgroundTasks) -> Response:
    sent = await form_fields(request)
    errors = FormErrors("survey", "rating")
    answer = checked(SurveyAnswer, {"rating": sent.get("rating", ""), "comment": sent.get("comment", "")}, lang,
                     errors)
    if answer is None:
        return _page(request, engine, principal, application_id, licence, lang, errors, sent, 400)
    try:
        with command(engine, background) as session:
            surveys.answer(engine.ctx, session, principal, application_id, licence, answer)
    except NotFound:
        raise
    except BizPortalError as err:
        engine_refused(err, errors)
        return _page(request, engine, principal, application_id, licence, lang, errors, sent, 409)
    url = SURVEY_PAGE.format(application_id=application_id, licence=licence)
    return RedirectResponse(f"{url}?lang={lang}&sent=1", status_code=303)
