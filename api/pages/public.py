"""The pages for everyone: the start page, the licence finder, the public register, the performance figures, and
the signed-in person's own account page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bizportal.api.deps import EngineDep, query
from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.pages.finder_flow import AnswerError, FinderState, parse_answer, read_state
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import PageLang, render
from bizportal.api.pages.signin import SignedInPage
from bizportal.api.routes.business_types import FinderDep
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.errors import InvalidInput
from bizportal.engine.licences import public_register
from bizportal.engine.reporting.kpis import KpiRow, kpis

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

REGISTER_PAGE_SIZE = 20


@router.get("/", response_class=HTMLResponse)
def home(request: Request, engine: EngineDep, finder: FinderDep, lang: PageLang) -> HTMLResponse:
    return render(request, "home.html", {"licence_count": len(engine.ctx.catalogue.licences),
                                         "business_type_count": len(finder.business_types())}, lang)


@router.get("/finder", response_class=HTMLResponse)
def finder_page(request: Request, finder: FinderDep, engine: EngineDep, lang: PageLang,
                type: Annotated[str | None, Query(max_length=100)] = None,
                at: Annotated[str | None, Query(max_length=100)] = None,
                was: Annotated[str | None, Query(max_length=100)] = None,
                chose: Annotated[str | None, Query(max_length=10)] = None) -> HTMLResponse:
    """No `type`: which business (`was` preselects one, for the back link; `chose`: the form was sent). Then one
    question per page, then the licences. The query carries everything (finder_flow.py), so the browser's back
    button and a bookmark work."""
    types = sorted(finder.business_types(), key=lambda b: _sort_key(getattr(b, f"name_{lang}")))
    if type is None or type not in finder.types:
        errors = _errors([AnswerError("type", "finder_error_type")], f"type-{types[0].code}", lang) \
            if type or chose else []
        return render(request, "finder_type.html", {"types": types, "selected": was or type, "errors": errors}, lang,
                      status_code=400 if errors else 200)
    business = finder.business_type(type)
    state = read_state(business, request.query_params)
    if at is not None and at not in state.asked:
        question = next((q for q in business.questions if q.id == at), None)
        if question is not None and question == state.next_question():
            answer, error = parse_answer(question, request.query_params)
            if error is not None:
                return _question(request, state, question.id, lang, [error])
            state.asked.append(question.id)
            if answer is not None:
                state.answers[question.id] = answer
    upcoming = state.next_question()
    if upcoming is not None:
        return _question(request, state, upcoming.id, lang, [])
    try:
        found = finder.find(business.code, state.finder_answers())
    except InvalidInput:  # the URL was edited into answers that contradict each other: start again
        return render(request, "finder_type.html", {"types": types, "selected": business.code,
                                                    "errors": _errors([AnswerError("type", "finder_error_restart")],
                                                                      f"type-{types[0].code}", lang)},
                      lang, status_code=400)
    catalogue = engine.ctx.catalogue
    results = [{"found": item, "manual": catalogue.licences.get(item.code)} for item in found]
    apply_url = "/apply?" + urlencode({"licences": ",".join(item.code for item in found),
                                       "business_type": business.code})
    questions = {q.id: q for q in business.questions}
    summary = [{"question": questions[qid], "answer": state.answers.get(qid), "change": state.url(index, qid)}
               for index, qid in enumerate(state.asked)]
    return render(request, "finder_result.html", {"business": business, "results": results, "apply_url": apply_url,
                                                  "summary": summary,
                                                  "back": state.url(len(state.asked) - 1, state.asked[-1])
                                                  if state.asked else f"/finder?was={business.code}"}, lang)


THAI_LEADING_VOWELS = "เแโใไ"


def _sort_key(text: str) -> str:
    """Alphabetical order in Thai too: a leading vowel is written before its consonant but sorted after it."""
    if len(text) > 1 and text[0] in THAI_LEADING_VOWELS:
        return text[1] + text[0] + text[2:]
    return text.casefold()


def _question(request: Request, state: FinderState, question_id: str, lang: Lang,
              errors: list[AnswerError]) -> HTMLResponse:
    business = state.business
    question = next(q for q in business.questions if q.id == question_id)
    raw = request.query_params
    name = "q_" + question.id
    prefill = raw.getlist(name) if question.type == "multi" else raw.get(name, "")
    field_id = name + (f"-{question.choices[0].id}" if question.choices else "")
    back = (state.url(len(state.asked) - 1, state.asked[-1]) if state.asked
            else f"/finder?{urlencode({'was': business.code})}")
    return render(request, "finder_question.html", {
        "business": business, "question": question, "hidden": state.params(), "prefill": prefill,
        "errors": _errors(errors, field_id, lang), "field_id": field_id, "back": back,
        "number": len(state.asked) + 1}, lang, status_code=400 if errors else 200)


def _errors(errors: list[AnswerError], field_id: str, lang: Lang) -> list[tuple[str, str]]:
    """The error summary's lines: (message, link to the field)."""
    return [(LABELS[lang][error.label], f"#{field_id}") for error in errors]


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, engine: EngineDep, lang: PageLang,
                  q: Annotated[str | None, Query(max_length=200)] = None,
                  province: Annotated[str | None, Query(max_length=100)] = None,
                  district: Annotated[str | None, Query(max_length=100)] = None,
                  page: Annotated[int, Query(ge=1, le=1000)] = 1) -> HTMLResponse:
    """The public register (the same search as GET /api/v1/register): licences the law requires to be displayed,
    without personal data."""
    q, province, district = (value.strip() or None if value else None for value in (q, province, district))
    with query(engine) as session:
        entries = public_register.search(session, engine.ctx.catalogue, q, province, district,
                                         REGISTER_PAGE_SIZE + 1, (page - 1) * REGISTER_PAGE_SIZE).items
    more = len(entries) > REGISTER_PAGE_SIZE
    search = {key: value for key, value in (("q", q), ("province", province), ("district", district)) if value}
    return render(request, "register.html", {
        "entries": entries[:REGISTER_PAGE_SIZE], "q": q or "", "province": province or "",
        "district": district or "", "searched": bool(search), "page": page,
        "next_url": f"/register?{urlencode({**search, 'page': page + 1})}" if more else None,
        "previous_url": f"/register?{urlencode({**search, 'page': page - 1})}" if page > 1 else None}, lang)


@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, engine: EngineDep, lang: PageLang) -> HTMLResponse:
    """The performance figures: aggregates only (no case, no person), so the page is public; the JSON of
    GET /api/v1/kpis stays for signed-in callers."""
    with query(engine) as session:
        report = kpis(session, engine.ctx.catalogue, engine.ctx.clock.now())
    agencies = [row for row in report.agencies if row.applications]
    licences = [row for row in report.licences if row.applications]
    return render(request, "kpis.html", {
        "report": report, "agencies": agencies, "licences": licences,
        "chart": _bars(agencies), "longest": max((row.median_working_days or 0 for row in licences), default=0)},
        lang)


def _bars(rows: list[KpiRow]) -> list[dict[str, Any]]:
    """One bar per agency with decisions: its share decided on time, as a percentage."""
    return [{"row": row, "percent": round((row.on_time_share or 0) * 100)} for row in rows if row.decided]


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, principal: SignedInPage, lang: PageLang) -> HTMLResponse:
    """Who is signed in, as the service knows them (the ID number masked)."""
    return render(request, "account.html", {
        "masked_id": mask_thai_id(principal.id_number) if principal.id_number else None}, lang, principal=principal)
