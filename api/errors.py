"""One place maps engine errors to HTTP; every error body says what was wrong and how to fix it.

The whole error tree, with the status of each root and kind, is drawn in engine/errors.py.

Every error the API answers, whoever raises it (the engine, request validation, Starlette's routing or
body parsing), has the one body `{"error": {code, message, hint, details}}`, and `document` declares that
body for every status an operation can answer in the OpenAPI document.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bizportal.engine import errors
from bizportal.storage.object_store import ObjectNotFound, ObjectStoreUnavailable

log = logging.getLogger(__name__)

STATUS = {
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Unauthenticated: 401,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.Unavailable: 503,
    errors.ProviderRefused: 502,
    errors.Expired: 410,
    errors.PreconditionFailed: 412,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.StartupError: 500,  # and DefinitionError: raised at start-up, not by a request
}


class ErrorDetail(BaseModel):
    code: str = Field(description="the kind of error, e.g. InvalidInput, NotFound, Forbidden, Conflict")
    message: str = Field(description="what was wrong")
    hint: str | None = Field(default=None, description="how to fix it")
    details: Any = Field(default=None, description="machine-readable extras, e.g. the fields at fault")


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_body(code: str, message: str, hint: str | None = None, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if hint:
        body["error"]["hint"] = hint
    if details is not None:
        body["error"]["details"] = details
    return body


# Errors Starlette and FastAPI raise themselves (unknown path, wrong method, unreadable body), in our words:
# their own texts would be `{"detail": ...}` and may carry parser internals.
_HTTP_ERRORS = {
    400: ("BadRequest", "the request body could not be read",
          "send UTF-8 JSON, or multipart form data where the operation takes a file"),
    404: ("NotFound", "there is no such path", "see /docs for the paths of the API"),
    405: ("MethodNotAllowed", "this path does not take that method", "see /docs for the methods of each path"),
    413: ("PayloadTooLarge", "the request is larger than this server accepts", "send a smaller request"),
}


def _plain(status: int) -> tuple[str, str, str | None]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return phrase.replace(" ", "").replace("-", ""), phrase.lower(), None


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.BizPortalError)
    async def _engine_error(_: Request, err: errors.BizPortalError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(type(err).__name__, err.message, err.hint, err.details), status_code=status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        fields = [{"field": ".".join(str(part) for part in e["loc"] if part != "body"), "message": e["msg"],
                   "type": e["type"]} for e in err.errors()]
        summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields)
        return JSONResponse(error_body("InvalidInput", f"the request is invalid: {summary}",
                                       "fix the fields listed in details and send again", fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code, message, hint = _HTTP_ERRORS.get(err.status_code) or _plain(err.status_code)
        return JSONResponse(error_body(code, message, hint), status_code=err.status_code, headers=err.headers)

    @app.exception_handler(ObjectNotFound)
    async def _object_missing(_: Request, err: ObjectNotFound) -> JSONResponse:
        return JSONResponse(error_body("NotFound", "the stored file is missing", "contact the issuing agency"),
                            status_code=404)

    @app.exception_handler(ObjectStoreUnavailable)
    async def _object_store_down(_: Request, err: ObjectStoreUnavailable) -> JSONResponse:
        return JSONResponse(error_body("Unavailable", "file storage is unavailable right now", "try again shortly"),
                            status_code=503)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(_: Request, err: DBAPIError) -> JSONResponse:
        # The database restarting, failing over or out of connections: a 503 the client may retry, not a bug.
        # (A commit cut off may or may not have landed; commands check the state they change, and payments and
        # submissions take an Idempotency-Key, so the same request sent again does not do the thing twice.)
        log.warning("database unavailable: %s", err.orig or err)
        return JSONResponse(error_body("Unavailable", "the database is unavailable right now",
                                       "try again in a few seconds"),
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _bug(_: Request, err: Exception) -> JSONResponse:
        # Starlette logs the exception and re-raises it after sending this; the client learns nothing internal.
        return JSONResponse(error_body("InternalError", "the server failed to answer this request",
                                       "try again later; if it persists, tell the portal's operators"),
                            status_code=500)


# --- The OpenAPI document ------------------------------------------------------------------------------
# What each error status means, whichever operation answers it.
ERROR_STATUSES = {
    400: "the body could not be read (not UTF-8 JSON, or broken multipart data)",
    401: "no valid credentials: the bearer token (or the signature) is missing, expired or wrong",
    403: "the caller may not do this, or not to this object",
    404: "no such object, or not the caller's to see",
    409: "the object's state does not allow this now (a finished task, a paid invoice, a lost race)",
    410: "the link has expired: ask for a new one",
    412: "`If-Match` names a version the object has since left: read it again (GET) and retry",
    413: "the request is larger than this server accepts",
    415: "the uploaded file is not of an accepted type (recognised by its content)",
    422: "the request breaks a rule: the fields at fault are in `details`",
    429: "too many requests from this address (a public door's budget, or failed sign-ins): see `Retry-After`",
    431: "the request headers are larger than this server accepts",
    502: "the payment provider refused: its reason is in `message`",
    503: "a service it needs cannot be reached right now (file storage, a registry, a payment provider)",
}
# Statuses the rules in `_error_statuses` cannot see from an operation's shape: (method, path) -> statuses.
EXTRA_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/api/v1/applications"): (503,),  # the business registry that prefills the applicant is down
    ("patch", "/api/v1/applications/{application_id}"): (412,),  # an If-Match of an earlier version
    ("post", "/api/v1/business-types/{code}/finder"): (503,),  # the finder is not loaded
    ("post", "/api/v1/agencies/{code}/callbacks"): (401,),  # the agency's signature does not verify
    ("post", "/api/v1/payments/webhooks/{provider}"): (401, 413),  # the provider's signature; the raw body
    ("post", "/api/v1/applications/{application_id}/payments"): (502, 503),
    ("post", "/api/v1/invoices/{invoice_id}/payments"): (502, 503),
    ("get", "/api/v1/downloads/{token}"): (403, 410, 503),  # an altered link; an expired one; storage down
    ("get", "/api/v1/receipts/{number}/pdf"): (503,),  # file storage is down
    ("get", "/api/v1/issued-licences/{number}/pdf"): (503,),
    ("get", "/api/v1/verify/{number}"): (503,),  # verification is not configured
    ("post", "/api/v1/verify"): (503,),
    ("post", "/api/v1/applications/{application_id}/documents"): (415, 503),  # not PDF/JPEG/PNG; scanner down
    ("get", "/api/v1/documents/{document_id}/content"): (503,),  # file storage is down
}


def _error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from how it is called."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    signed_in = bool(operation.get("security"))
    # Any request may be refused by the middleware: a NUL in its query string (api/input_guard.py), a spent
    # budget (api/rate_limits.py), too large a head (api/request_limits.py).
    statuses = {422, 429, 431, *EXTRA_STATUSES.get((method, path), ())}
    if has_body:
        statuses |= {400, 413}
    if signed_in:
        statuses |= {401, 403}
        if method != "get":
            statuses.add(409)
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses.add(404)
    return statuses


def with_error_responses(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare every error status of every operation with `ErrorBody`, in place (idempotent)."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorBody"] = error_schema
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
            for status in _error_statuses(method, path, operation) | declared:
                response = responses.setdefault(str(status), {})
                if response.get("description") in (None, "Validation Error"):
                    response["description"] = ERROR_STATUSES.get(status, HTTPStatus(status).phrase)
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema in (None, {"$ref": "#/components/schemas/HTTPValidationError"}):  # else the route's own
                    response["content"] = content
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422 body, which we never send
        components.pop(unused, None)
    return openapi


def document(app: FastAPI) -> None:
    """Make `app.openapi()` declare the error responses (FastAPI builds the document once, then caches it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
