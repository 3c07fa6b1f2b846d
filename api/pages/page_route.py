"""`PageRoute`: the route class of page routers. A page answers a person, so the errors people meet (an unknown
licence or business type in the address, a query parameter that is not valid) come back as a page in the
layout, with the engine's message, instead of the API's JSON error body. Other errors keep the API's handling
(errors.py), and the JSON routes are untouched: only routers made with `route_class=PageRoute` are affected.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from bizportal.engine.errors import InvalidInput, NotFound


def error_page(request: Request, status_code: int, message: str | None, back: str | None = None) -> Response:
    """The error page in the layout; `back`: a path of this service to offer as the way back."""
    from bizportal.api.pages.rendering import render, request_lang

    request.state.chosen_lang = None  # a bad ?lang= is not remembered
    return render(request, "error.html", {"status": status_code, "message": message, "back": back},
                  request_lang(request), status_code=status_code)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except NotFound as err:
                return error_page(request, 404, err.message)
            except InvalidInput as err:
                return error_page(request, 400, err.message)
            except RequestValidationError:
                return error_page(request, 422, None)

        return page_handler
