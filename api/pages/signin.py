"""Who is signed in on a page, and pages that need someone signed in.

Pages read the session cookie as the API's own dependency does (`api/deps.principal_of`), so a staff member
is looked up in the staff register on every page as on every API call. A page that needs a signed-in person
takes `CitizenPage` or `staff_page(...)`: a visitor who is not signed in is sent to `/auth/login?next=<this page>`
(staff pages: `/auth/staff/login?next=...`) and comes back after signing in; someone signed in with another role
gets a page that says whose page it is (403), not a JSON error.

Signing out is a form (`POST /sign-out`) under the session cookie's CSRF rule (api/sessions.py): it must come
from this service's pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from bizportal.api.deps import principal_of
from bizportal.api.page_labels import LABELS
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import render, request_lang
from bizportal.api.sessions import SESSION_COOKIE, check_same_origin, secure_cookies
from bizportal.engine.errors import Forbidden, Unauthenticated
from bizportal.engine.principal import Principal, Role

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

CITIZEN_LOGIN = "/auth/login"
STAFF_LOGIN = "/auth/staff/login"
STAFF_ROLES = frozenset({Role.COUNTER_OFFICER, Role.AGENCY_OFFICER, Role.AGENCY_SUPERVISOR, Role.ADMIN})


class SignInRequired(Exception):
    """Raised by a page's dependency: send the browser to `login` and back to `next_path`; `login` None: the page
    is for citizens and staff alike, and the visitor chooses how to sign in."""

    def __init__(self, login: str | None, next_path: str) -> None:
        super().__init__(f"sign in at {login or 'the sign-in of their choice'}")
        self.login, self.next_path = login, next_path


class WrongRole(Exception):
    """Raised by a page's dependency: the person signed in may not see this page."""

    def __init__(self, principal: Principal, roles: frozenset[Role]) -> None:
        super().__init__(f"{principal.role} may not see this page")
        self.principal, self.roles = principal, roles


def signed_in(request: Request) -> Principal | None:
    """The person of the session cookie, or None (no cookie, an expired or foreign one, or staff no longer in the
    register). Cached on the request: the layout and the route ask once between them."""
    if hasattr(request.state, "page_principal"):
        cached: Principal | None = request.state.page_principal
        return cached
    cookie = request.cookies.get(SESSION_COOKIE)
    principal: Principal | None = None
    if cookie:
        try:
            principal = principal_of(request, None, cookie)
        except (Unauthenticated, Forbidden):
            principal = None
    request.state.page_principal = principal
    return principal


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _requiring(roles: frozenset[Role], login: str | None) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = signed_in(request)
        if principal is None:
            raise SignInRequired(login, _here(request))
        if principal.role not in roles:
            raise WrongRole(principal, roles)
        return principal

    return dependency


def citizen_page() -> Callable[[Request], Principal]:
    """A page for an entrepreneur signed in with Digital ID."""
    return _requiring(frozenset({Role.APPLICANT}), CITIZEN_LOGIN)


def staff_page(*roles: Role) -> Callable[[Request], Principal]:
    """A page for staff with one of `roles` (all staff roles when none are given), signed in at the staff
    provider."""
    return _requiring(frozenset(roles) or STAFF_ROLES, STAFF_LOGIN)


def page_for(*roles: Role) -> Callable[[Request], Principal]:
    """A page for people signed in with one of `roles` (citizens and staff alike, e.g. a draft an entrepreneur or
    the counter that files for them completes); a visitor chooses the citizens' or the staff's sign-in. The engine
    still decides which objects each may see."""
    allowed = frozenset(roles)
    login = CITIZEN_LOGIN if allowed <= {Role.APPLICANT} else STAFF_LOGIN if Role.APPLICANT not in allowed else None
    return _requiring(allowed, login)


def anyone_signed_in() -> Callable[[Request], Principal]:
    """A page for anyone signed in (a citizen or staff); a visitor is sent to the citizens' sign-in."""
    return _requiring(frozenset(Role), CITIZEN_LOGIN)


CitizenPage = Annotated[Principal, Depends(citizen_page())]
SignedInPage = Annotated[Principal, Depends(anyone_signed_in())]


def login_url(login: str, next_path: str) -> str:
    return f"{login}?{urlencode({'next': next_path})}"


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    """To the provider's sign-in and back. A page for citizens and staff alike offers both sign-ins (or goes
    straight to the only one configured). When this server has no provider for it, a page that says so (503: the
    service cannot sign anyone in now) instead of a redirect to the API's JSON 404."""
    assert isinstance(exc, SignInRequired)
    configured = {login: provider is not None for login, provider in
                  ((CITIZEN_LOGIN, request.app.state.oidc), (STAFF_LOGIN, request.app.state.staff_oidc))}
    choices = [exc.login] if exc.login else [login for login, on in configured.items() if on]
    if not choices or not configured[choices[0]]:
        return render(request, "sign_in_unavailable.html", {"staff": exc.login == STAFF_LOGIN}, request_lang(request),
                      status_code=503)
    if len(choices) == 1:
        return RedirectResponse(login_url(choices[0], exc.next_path), status_code=303)
    return render(request, "sign_in_choice.html", {
        "citizen_url": login_url(CITIZEN_LOGIN, exc.next_path), "staff_url": login_url(STAFF_LOGIN, exc.next_path)},
        request_lang(request))


async def _wrong_role(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WrongRole)
    lang = request_lang(request)
    names = [LABELS[lang][f"role_{role.value}"] for role in sorted(exc.roles)]
    return render(request, "forbidden.html", {"role_names": names}, lang, status_code=403,
                  principal=exc.principal)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(WrongRole, _wrong_role)


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    """The header's sign-out button: clears the session cookie and returns to the home page."""
    if request.cookies.get(SESSION_COOKIE):
        check_same_origin(request, request.app.state.public_base_url)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookies(request.app.state.public_base_url),
                           httponly=True, samesite="lax")
    return response
