"""A local stand-in for the registry gateway (population and company data), served over real HTTP.

It speaks the API :class:`bizportal.adapters.registries.http_lookup.HttpRegistryLookup` expects, so tests go
through sockets, headers and JSON exactly as against the real gateway. Tests can make it fail
(``app.state.fail_status``) or slow (``app.state.delay_seconds``) and read what it received
(``app.state.seen``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from support.local_server import serve_in_thread

API_KEY = "test-registry-key"
_STARTUP_TIMEOUT_S = 10.0

COMPANY = "0105556123453"  # บริษัท ตัวอย่าง จำกัด, active
CLOSED_PARTNERSHIP = "0105537012340"  # closed
PERSON = "1101700203395"  # สมหญิง ใจดี, with a house-registration address
PERSON_WITHOUT_ADDRESS = "3100600123450"
DECEASED_PERSON = "3509900123450"
UNREGISTERED_PERSON = "1100500123451"  # a valid number nobody holds
UNREGISTERED_COMPANY = "0105561000011"

PERSONS: dict[str, dict[str, Any]] = {
    PERSON: {"id_number": PERSON, "name_th": "สมหญิง ใจดี", "name_en": "Somying Jaidee",
             "address": "99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110", "alive": True},
    PERSON_WITHOUT_ADDRESS: {"id_number": PERSON_WITHOUT_ADDRESS, "name_th": "สมชาย รักไทย", "name_en": None,
                             "address": None, "alive": True},
    DECEASED_PERSON: {"id_number": DECEASED_PERSON, "name_th": "บุญมี ศรีสุข", "name_en": "Boonmee Srisuk",
                      "address": "12 หมู่ 3 ตำบลสุเทพ อำเภอเมืองเชียงใหม่ จังหวัดเชียงใหม่ 50200", "alive": False},
}

JURISTIC_PERSONS: dict[str, dict[str, Any]] = {
    COMPANY: {"registration_number": COMPANY, "name_th": "บริษัท ตัวอย่าง จำกัด",
              "name_en": "Example Company Limited",
              "registered_address": "1 อาคารตัวอย่าง ถนนพระราม 4 แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110",
              "status": "active", "directors": ["สมหญิง ใจดี", "สมชาย รักไทย"], "registered_on": "2013-05-10",
              "director_id_numbers": [PERSON, PERSON_WITHOUT_ADDRESS]},
    CLOSED_PARTNERSHIP: {"registration_number": CLOSED_PARTNERSHIP, "name_th": "ห้างหุ้นส่วนจำกัด เก่าแก่การค้า",
                         "name_en": None, "registered_address": "5 ถนนเจริญกรุง แขวงบางรัก เขตบางรัก กรุงเทพมหานคร 10500",
                         "status": "closed", "directors": ["บุญมี ศรีสุข"], "registered_on": "1994-02-01"},
}


def create_registry_app(api_key: str = API_KEY) -> FastAPI:
    """The fake gateway: ``GET /persons/{id}``, ``GET /juristic-persons/{id}``, ``GET /health``."""
    app = FastAPI(title="fake registry gateway")
    app.state.seen = []  # one dict per look-up: path, headers and the decoded purpose
    app.state.fail_status = None  # set to e.g. 503 to make every look-up fail
    app.state.delay_seconds = 0.0  # set to make every look-up slow

    async def guarded(request: Request, table: dict[str, dict[str, Any]], number: str) -> JSONResponse:
        purpose = unquote(request.headers.get("x-purpose", ""))
        app.state.seen.append({"path": request.url.path, "headers": dict(request.headers), "purpose": purpose})
        if app.state.delay_seconds:
            await asyncio.sleep(app.state.delay_seconds)
        if app.state.fail_status is not None:
            return JSONResponse({"error": "registry back end down"}, status_code=app.state.fail_status)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), api_key.encode()):
            return JSONResponse({"error": "invalid API key"}, status_code=401)
        if not purpose.strip():
            # A gateway refuses look-ups without a stated purpose (PDPA).
            return JSONResponse({"error": "X-Purpose is required"}, status_code=400)
        record = table.get(number)
        if record is None:
            return JSONResponse({"error": "not registered"}, status_code=404)
        return JSONResponse(record)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/persons/{number}")
    async def person(number: str, request: Request) -> JSONResponse:
        return await guarded(request, PERSONS, number)

    @app.get("/juristic-persons/{number}")
    async def juristic_person(number: str, request: Request) -> JSONResponse:
        return await guarded(request, JURISTIC_PERSONS, number)

    return app


def start_registry_server(app: FastAPI | None = None) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` (default: a fresh fake registry) with uvicorn on 127.0.0.1 in a background thread.

    Returns:
        ``(base_url, stop)``; ``stop()`` shuts the server down and frees the port (idempotent).

    Raises:
        RuntimeError: if the server does not answer within ~10 seconds.
    """
    app = app if app is not None else create_registry_app()
    base_url, stop = serve_in_thread(app, "fake-registry")
    return base_url, stop

