"""Agencies' systems answer their tasks here; administrators see and retry deliveries that gave up."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, decode, limit_param, paged_responses, with_next
from bizportal.engine.cases import agency_delivery, incidents
from bizportal.engine.cases.agency_delivery import CallbackOutcome
from bizportal.engine.cases.incidents import IncidentView
from bizportal.engine.errors import Forbidden, Unauthenticated
from bizportal.engine.principal import Principal, Role
from bizportal.storage.agency_tables import IncidentState

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["agencies"])
# One answer for every callback that does not authenticate: an unknown agency, an agency working in the
# inbox, a stale timestamp or a wrong signature. A different answer for each would tell anyone which
# agencies are connected to a system of their own. The reason is logged.
NOT_AUTHENTIC = "the callback is not authentic"
NOT_AUTHENTIC_HINT = ("sign 'callback.<timestamp>.' + body with the agency's shared secret (HMAC-SHA256) and send "
                      "it with a current timestamp")


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes, not a re-serialization."""
    return await request.body()


CALLBACK_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["callback_id", "task_id", "action", "officer"],
        "properties": {"callback_id": {"type": "string", "description": "unique per decision"},
                       "task_id": {"type": "string"}, "action": {"type": "string"},
                       "comment": {"type": "string"}, "fee_satang": {"type": ["integer", "null"]},
                       "officer": {"type": "string", "description": "who decided, in the agency's system"}}}}}},
    "parameters": [{"name": "X-BizPortal-Timestamp", "in": "header", "required": True, "schema": {"type": "string"},
                    "description": "unix seconds"},
                   {"name": "X-BizPortal-Signature", "in": "header", "required": True, "schema": {"type": "string"},
                    "description": "sha256=<hex HMAC-SHA256(secret, 'callback.<timestamp>.' + body)>"}],
}


@router.post("/agencies/{code}/callbacks", response_model=CallbackOutcome, openapi_extra=CALLBACK_BODY,
             summary="An agency's system decides one of its tasks (signed; the same callback_id applies once)")
def agency_callback(code: str, body: Annotated[bytes, Depends(raw_body)], request: Request, engine: EngineDep,
                    background: BackgroundTasks) -> CallbackOutcome:
    # No bearer token: the HMAC signature with the agency's shared secret is the authentication.
    if not engine.ctx.agencies.handles_tasks(code):
        log.warning("callback for agency %r refused: no agency of that code works in a system of its own", code)
        raise Unauthenticated(NOT_AUTHENTIC, hint=NOT_AUTHENTIC_HINT)
    try:
        with command(engine, background) as session:
            return agency_delivery.handle_callback(engine.ctx, session, code, dict(request.headers), body)
    except Unauthenticated as err:
        log.warning("callback for agency %s refused: %s", code, err.message)
        raise Unauthenticated(NOT_AUTHENTIC, hint=NOT_AUTHENTIC_HINT) from err


def _admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators handle incidents", hint="sign in with an admin token")


@router.get("/incidents", response_model=list[IncidentView], responses=paged_responses(),
            summary="Incidents (deliveries to agencies, and jobs, that gave up), newest first; admins only")
def list_incidents(request: Request, response: Response, engine: EngineDep, principal: PrincipalDep,
                   state: Annotated[IncidentState | None, Query(description="only incidents in this state")] = None,
                   limit: Annotated[int, limit_param(500)] = 200, cursor: Cursor = None) -> list[IncidentView]:
    _admin(principal)
    with query(engine) as session:
        return with_next(request, response, incidents.list_incidents(session, state, limit, decode(cursor)))


@router.post("/incidents/{incident_id}/retry", response_model=IncidentView,
             summary="Start a failed delivery or job over with fresh attempts; admins only")
def retry_incident(incident_id: str, engine: EngineDep, principal: PrincipalDep,
                   background: BackgroundTasks) -> IncidentView:
    _admin(principal)
    with command(engine, background) as session:
        return incidents.retry_incident(session, engine.ctx.clock, incident_id)
