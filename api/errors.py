"""One place maps engine errors to HTTP; every error body says what was wrong and how to fix it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bizportal.engine import errors
from bizportal.storage.object_store import ObjectNotFound, ObjectStoreUnavailable

STATUS = {
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Unauthenticated: 401,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.Unavailable: 503,
    errors.ProviderRefused: 502,
    errors.Expired: 410,
    errors.DefinitionError: 500,
}


def error_body(code: str, message: str, hint: str | None = None, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if hint:
        body["error"]["hint"] = hint
    if details is not None:
        body["error"]["details"] = details
    return body


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

    @app.exception_handler(ObjectNotFound)
    async def _object_missing(_: Request, err: ObjectNotFound) -> JSONResponse:
        return JSONResponse(error_body("NotFound", "the stored file is missing", "contact the issuing agency"),
                            status_code=404)

    @app.exception_handler(ObjectStoreUnavailable)
    async def _object_store_down(_: Request, err: ObjectStoreUnavailable) -> JSONResponse:
        return JSONResponse(error_body("Unavailable", "file storage is unavailable right now", "try again shortly"),
                            status_code=503)
