"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from bizportal.api.deps import EngineDep
from bizportal.storage.object_store import ObjectStoreError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


class Readiness(BaseModel):
    status: str  # ready | not_ready
    checks: dict[str, str]  # each dependency: ok, or why it is unavailable


@router.get("/readyz", summary="The database and the object store are reachable", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "not ready: `checks` says which dependency is down"}})
def readyz(engine: EngineDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with engine.db.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as err:  # report, never crash the probe
        checks["database"] = f"unavailable: {type(err).__name__}"
    try:
        engine.ctx.object_store.check()
        checks["object_store"] = "ok"
    except ObjectStoreError as err:
        checks["object_store"] = f"unavailable: {err}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                        status_code=200 if ready else 503)
