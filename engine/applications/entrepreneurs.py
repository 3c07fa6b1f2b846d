"""Finding the entrepreneur at a counter: the officer types the ID number from the card and the registry
gives the name and address to file with (PDPA: the look-up states its purpose and is audited)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlmodel import Session

from bizportal.engine import audit
from bizportal.engine.applications.prefill import prefill
from bizportal.engine.applications.thai_id import mask_thai_id
from bizportal.engine.context import EngineContext
from bizportal.engine.errors import Forbidden, NotFound
from bizportal.engine.principal import Principal, Role

PURPOSE = "one-stop counter: identify the entrepreneur filing in person"


class Entrepreneur(BaseModel):
    kind: Literal["individual", "juristic"]
    id_number: str
    name: str
    address: str | None


def look_up(ctx: EngineContext, session: Session, principal: Principal, kind: Literal["individual", "juristic"],
            id_number: str) -> Entrepreneur:
    """The registry's name and address for the ID number a counter officer typed from the card.

    Raises:
        Forbidden: not a counter officer (or admin). NotFound: no registry is configured here.
        InvalidInput: the number is not registered, or belongs to a deceased person or a closed company.
        Unavailable: the registry cannot answer now.
    """
    if principal.role not in (Role.COUNTER_OFFICER, Role.ADMIN):
        raise Forbidden("looking people up in the registry is for counter officers filing for them",
                        hint="applicants are looked up when they file in their own name")
    if ctx.registry is None:
        raise NotFound("no population or company registry is configured on this server",
                       hint="type the name and address from the ID card or the company certificate")
    found = prefill(ctx.registry, kind, id_number, purpose=PURPOSE)
    audit.record(session, principal, "registry.looked_up", ctx.clock.now(), source=found.source,
                 id_number=mask_thai_id(id_number), purpose=PURPOSE, office=principal.office)
    return Entrepreneur(kind=kind, id_number=id_number, name=found.name, address=found.address)
