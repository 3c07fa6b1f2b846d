"""Who may use the /apply pages, how the engine's refusals become pages, and the draft a page works on.

The pages after the draft exists take anyone the engine lets read and change it: its applicant, and a counter
officer filing for them under a consent (the /counter pages create such drafts and send the officer here). The
engine decides ownership: another person's draft is its NotFound, shown as the 404 page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from bizportal.api.deps import query
from bizportal.api.errors import STATUS
from bizportal.api.pages.page_route import PageRoute
from bizportal.api.pages.rendering import render, request_lang
from bizportal.api.pages.signin import page_for
from bizportal.engine.applications import applications
from bizportal.engine.applications.applications import ApplicationView
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import BizPortalError
from bizportal.engine.principal import Principal, Role
from bizportal.engine.statuses import Status

DraftPage = Annotated[Principal, Depends(page_for(Role.APPLICANT, Role.COUNTER_OFFICER))]


@dataclass(frozen=True)
class FieldError:
    """One error of a form: the id of the field it belongs to, and the message beside it."""

    field: str
    message: str


def summary(errors: list[FieldError]) -> list[tuple[str, str]]:
    """The error summary's lines (message, link to the field), in the macro's shape."""
    return [(error.message, error.field if error.field.startswith("/") else f"#{error.field}") for error in errors]


def by_field(errors: list[FieldError]) -> dict[str, str]:
    """The message beside each field (the first one, when a field has several)."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.field, error.message)
    return found


class ApplyRoute(PageRoute):
    """`PageRoute` (a NotFound or bad input is the error page), and every other refusal of the engine (a draft
    already submitted, a sign-in below a licence's assurance level, an officer who may read but not act) as a page
    in the layout with the engine's message, never the API's JSON body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def apply_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Submitted as moved:
                return RedirectResponse(f"/applications/{moved.application_id}", status_code=303)
            except BizPortalError as err:
                status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 400)
                return render(request, "apply/problem.html", {"status": status, "message": err.message},
                              request_lang(request), status_code=status)

        return apply_handler


def read_draft(engine: LicensingEngine, principal: Principal, application_id: str) -> ApplicationView:
    """The application as its API shows it (the engine checks the caller may read it: NotFound otherwise)."""
    with query(engine) as session:
        return applications.view(engine.ctx, session, principal, application_id)


class Submitted(Exception):
    """Raised by `open_draft`: the application is submitted, and is followed on its tracking page, not changed here
    (`ApplyRoute` redirects there)."""

    def __init__(self, application_id: str) -> None:
        super().__init__(f"application {application_id} is submitted")
        self.application_id = application_id


def open_draft(engine: LicensingEngine, principal: Principal, application_id: str) -> ApplicationView:
    """The draft a page shows or changes.

    Raises:
        NotFound: not the caller's to see (the engine's rule).
        Submitted: it is no longer a draft.
    """
    view = read_draft(engine, principal, application_id)
    if view.status != Status.DRAFT:
        raise Submitted(view.id)
    return view
