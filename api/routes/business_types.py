"""The public licence finder: pick a business type, answer its questions, learn which licences it needs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from bizportal.api.pagination import Cursor, catalogue_page, limit_param, paged_responses, with_next
from bizportal.engine.catalogue.finder import Finder, Question
from bizportal.engine.errors import Unavailable
from bizportal.engine.input_text import line

router = APIRouter(prefix="/api/v1/business-types", tags=["licence finder"])


def get_finder(request: Request) -> Finder:
    finder = getattr(request.app.state, "finder", None)
    if finder is None:
        raise Unavailable("the licence finder is not loaded", hint="try again shortly")
    return finder


FinderDep = Annotated[Finder, Depends(get_finder)]


class BusinessTypeSummary(BaseModel):
    code: str
    name_th: str
    name_en: str
    question_count: int


class BusinessTypeDetail(BaseModel):
    code: str
    name_th: str
    name_en: str
    questions: list[Question]


class FinderRequest(BaseModel):
    """Answers keyed by question id: a choice id (single), a list of choice ids (multi) or a number."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"answers": {"sells_alcohol": "yes", "floor_area_m2": 120, "entertainment_services": ["karaoke"]}},
    ]})

    # The engine checks each answer against its question, so its messages name the question and choice.
    answers: dict[Annotated[str, line(100)], Any] = Field(default_factory=dict, max_length=200)


class FoundLicence(BaseModel):
    code: str
    name_th: str | None
    name_en: str | None
    reason: str = Field(description="why the licence applies (English)")
    reason_th: str
    reason_en: str
    required: bool = Field(description="listed for every business of this type, whatever the answers")
    sub_types: list[str] = Field(description="the trades of a licence family that apply, e.g. hh_food_meatballs")
    inferred: bool = Field(description="the link was inferred, not taken from the source questionnaire")


class FinderResponse(BaseModel):
    licences: list[FoundLicence]


@router.get("", summary="Every business type with a licence-finder questionnaire",
            response_model=list[BusinessTypeSummary], responses=paged_responses())
def list_business_types(request: Request, response: Response, finder: FinderDep,
                        limit: Annotated[int, limit_param(500)] = 500,
                        cursor: Cursor = None) -> list[BusinessTypeSummary]:
    page = catalogue_page("business_types", finder.business_types(), lambda b: b.code, limit, cursor)
    return with_next(request, response, page.map(lambda b: BusinessTypeSummary(
        code=b.code, name_th=b.name_th, name_en=b.name_en, question_count=len(b.questions))))


@router.get("/{code}", summary="One business type and its questions", response_model=BusinessTypeDetail,
            response_model_exclude_none=True)
def get_business_type(code: str, finder: FinderDep) -> BusinessTypeDetail:
    business = finder.business_type(code)
    return BusinessTypeDetail(code=business.code, name_th=business.name_th, name_en=business.name_en,
                              questions=business.questions)


@router.post("/{code}/finder", summary="The licences a business of this type needs, given its answers",
             response_model=FinderResponse)
def find_licences(code: str, body: FinderRequest, request: Request, finder: FinderDep) -> FinderResponse:
    licences = []
    for found in finder.find(code, body.answers):
        name_th, name_en = _licence_names(request, found.code)
        licences.append(FoundLicence(code=found.code, name_th=name_th, name_en=name_en, reason=found.reason_en,
                                     reason_th=found.reason_th, reason_en=found.reason_en, required=found.required,
                                     sub_types=found.sub_types, inferred=found.inferred))
    return FinderResponse(licences=licences)


def _licence_names(request: Request, code: str) -> tuple[str | None, str | None]:
    """Names from the licence catalogue when the app has one; the finder itself only knows codes."""
    engine = getattr(request.app.state, "engine", None)
    licences = engine.ctx.catalogue.licences if engine is not None else {}
    manual = licences.get(code)
    return (manual.name_th, manual.name_en) if manual is not None else (None, None)
