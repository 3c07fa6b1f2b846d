"""The web pages: server-rendered Jinja2 on the same app and the same use cases as the JSON API.

- `rendering.py`: `render` (the layout's context: labels, language, who is signed in, navigation), the language
  rule (`?lang=` then the `bizportal_lang` cookie then Thai), `static_url`.
- `signin.py`: who is signed in on a page (the API's own dependency, `api/deps.principal_of`, on the
  session cookie), `citizen_page` / `staff_page` dependencies that send a visitor through sign-in and back,
  and the sign-out form's route.
- `static.py`: `/static/` (the stylesheet) and `/static/fonts/` (Noto Sans Thai), with cache headers.
- `public.py`: the pages for everyone (`/`, `/finder`, `/register`, `/kpis`, `/account`);
  `finder_flow.py`: the finder's one-question-per-page state, carried in the query string.

Adding a page: a route in a module of this package that returns `render(request, "<name>.html", {...}, lang)`
with `lang: PageLang`; a page for signed-in people takes `principal: CitizenPage` (or `staff_page(...)`); its
labels go in a module of `api/page_labels/` (both languages: a test checks they have the same keys); its template
extends `base.html`; include the router in `ROUTERS` below.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from bizportal.api.pages import (
    apply,
    consents,
    counter,
    escalations,
    held_licences,
    inbox,
    my_data,
    payment,
    public,
    signin,
    static,
    surveys,
    task_page,
    tracking,
)


def install(app: FastAPI) -> None:
    """Mount the static files, the pages' routers and the sign-in redirect."""
    for router in ROUTERS:
        app.include_router(router)
    signin.install(app)
    static.install(app)


ROUTERS: tuple[APIRouter, ...] = (
    public.router, signin.router,
    *apply.ROUTERS, tracking.router, payment.router, held_licences.router, consents.router, surveys.router,
    my_data.router,  # entrepreneurs
    inbox.router, task_page.router, escalations.router,  # agency officers and supervisors
    counter.router,  # counter officers
)
