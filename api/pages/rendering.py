"""The layout every page shares: labels in the page's language, who is signed in, the navigation, static links.

The language: `?lang=th|en` on any page (remembered in the `bizportal_lang` cookie for a year), else the cookie,
else Thai. An unknown `lang` is a 422 like any bad query parameter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bizportal.api.page_labels import LABELS, Lang
from bizportal.api.sessions import secure_cookies, set_cookie
from bizportal.engine.catalogue.manual import FeeRule
from bizportal.engine.clock import BANGKOK
from bizportal.engine.principal import Principal, Role
from bizportal.engine.uploads.limits import MB

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
STATIC_DIR = Path(__file__).parent.parent / "static"
LANG_COOKIE = "bizportal_lang"
LANG_LIFETIME = timedelta(days=365)
LANGS: tuple[Lang, ...] = ("th", "en")
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

templates = Jinja2Templates(directory=TEMPLATES_DIR)


@dataclass(frozen=True)
class NavItem:
    """A link of the header's navigation; `roles` None: for everyone, else only for people signed in with one."""

    path: str
    label: str  # a key of page_labels.LABELS
    roles: frozenset[Role] | None = None


# The work of the person signed in comes first, after the start page: on a phone the menu is one row that scrolls
# sideways, and what a person comes for must be in sight without scrolling it.
NAV: list[NavItem] = [
    NavItem("/", "nav_home"),
    NavItem("/applications", "nav_applications", frozenset({Role.APPLICANT})),
    NavItem("/my-licences", "nav_my_licences", roles=frozenset({Role.APPLICANT})),
    NavItem("/inbox", "inbox_nav", frozenset({Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR})),
    NavItem("/escalations", "inbox_nav_escalations", frozenset({Role.AGENCY_SUPERVISOR})),
    NavItem("/counter", "nav_counter", frozenset({Role.COUNTER_OFFICER})),
    NavItem("/finder", "nav_finder"),
    NavItem("/licences", "nav_licences"),
    NavItem("/register", "nav_register"),
    NavItem("/kpis", "nav_kpis"),
]


def page_lang(request: Request, lang: Annotated[Lang | None, Query()] = None) -> Lang:
    """The page's language (see the module's docstring); a `?lang=` is remembered by `render`."""
    if lang is not None:
        request.state.chosen_lang = lang
        return lang
    remembered = request.cookies.get(LANG_COOKIE)
    return "en" if remembered == "en" else "th"


PageLang = Annotated[Lang, Depends(page_lang)]


def request_lang(request: Request) -> Lang:
    """The page's language where no route's `PageLang` ran (an error page, a sign-in redirect): a valid `?lang=`,
    else the cookie, else Thai; an invalid `?lang=` is ignored rather than refused."""
    asked = request.query_params.get("lang")
    return page_lang(request, "en" if asked == "en" else "th" if asked == "th" else None)


def static_url(name: str) -> str:
    """`/static/<name>?v=<content hash>`: a new deploy's file gets a new URL, so the file may be cached for a year."""
    return f"/static/{name}?v={_version(name)}"


_versions: dict[str, str] = {}


def _version(name: str) -> str:
    if name not in _versions:
        _versions[name] = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return _versions[name]


def size_text(size: int) -> str:
    """A file's size as people read it: KB below a megabyte (at least 1), else MB with at most one decimal."""
    return f"{max(1, round(size / 1024))} KB" if size < MB else f"{size / MB:.1f}".removesuffix(".0") + " MB"


def working_days(count: int | float, lang: Lang) -> str:
    """`1 working day`, `3 working days` (`1 วันทำการ`, `3 วันทำการ`)."""
    labels = LABELS[lang]
    return labels["working_day_one"] if count == 1 else labels["working_days_count"] % f"{count:,.4g}"


def page_helpers(lang: Lang) -> dict[str, Any]:
    """Labels and formatters of one language, for templates."""
    labels = LABELS[lang]

    def baht(satang: int) -> str:
        return labels["baht"] % f"{satang / 100:,.2f}".removesuffix(".00")

    def fee_text(fee: FeeRule, table_below: bool = False) -> str:
        """`table_below`: the page shows the fee's bands under the text (the manual), else it points to the manual."""
        if fee.type == "none":
            return labels["fee_none"]
        if fee.type == "fixed":
            return baht(fee.min_satang or 0)
        if fee.type == "from" or fee.max_satang is None:
            return labels["fee_from"] % baht(fee.min_satang or 0)
        template = (labels["fee_range_rule"] if table_below else labels["fee_range_manual"]) if fee.bands \
            else labels["fee_range"]
        return template % (baht(fee.min_satang or 0), baht(fee.max_satang))

    def number(value: float) -> str:
        return f"{value:,.2f}".rstrip("0").rstrip(".")

    def date_text(value: date | datetime | str | None, with_time: bool = False) -> str:
        """A date as people read it: Thai months and the Buddhist era in Thai (1 ธ.ค. 2569), `1 Dec 2026` in English;
        a date-time in Bangkok time."""
        if value is None or value == "":
            return "-"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        moment = value.astimezone(BANGKOK) if isinstance(value, datetime) else None
        day = moment.date() if moment is not None else value
        text = (f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + 543}" if lang == "th"
                else f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}")
        if with_time and moment is not None:
            text += f" {moment:%H:%M}" + (" น." if lang == "th" else "")
        return text

    def days(count: int | float) -> str:
        return working_days(count, lang)

    def name(item: Any, field: str = "name") -> str:
        """The `<field>_th` / `<field>_en` of a model or mapping, in the page's language."""
        key = f"{field}_{lang}"
        return str(item[key] if isinstance(item, dict) else getattr(item, key))

    return {"t": labels, "lang": lang, "other": "en" if lang == "th" else "th", "baht": baht, "fee_text": fee_text,
            "number": number, "name": name, "date_text": date_text, "working_days": days}


def render(request: Request, template: str, context: dict[str, Any], lang: Lang, *, status_code: int = 200,
           principal: Principal | None = None) -> HTMLResponse:
    """A page in the layout of `base.html`. `principal`: who is signed in, when the route already knows (else it
    is read from the session cookie). A page shown to a signed-in person is never stored by caches."""
    from bizportal.api.pages.signin import signed_in  # signin renders its refusal page with `render`

    who = principal or signed_in(request)
    nav = [item for item in NAV if item.roles is None or (who is not None and who.role in item.roles)]
    response = templates.TemplateResponse(request, template, {
        **page_helpers(lang), "principal": who, "nav": nav, "static_url": static_url, "path": request.url.path,
        "here": _here(request), "citizen_sign_in": request.app.state.oidc is not None,
        "staff_sign_in": request.app.state.staff_oidc is not None, **context}, status_code=status_code)
    chosen = getattr(request.state, "chosen_lang", None)
    if chosen is not None and request.cookies.get(LANG_COOKIE) != chosen:
        set_cookie(response, LANG_COOKIE, chosen, LANG_LIFETIME, secure_cookies(request.app.state.public_base_url))
    if who is not None:
        response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie"
    return response


def _here(request: Request) -> str:
    """This page's path and query: where sign-in returns to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
