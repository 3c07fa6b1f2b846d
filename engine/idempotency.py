"""Idempotency-Key: the same request sent again returns its first result; another request with the key is refused.

A key is kept with the request's fingerprint: the sha256 of its canonical JSON (the validated body with
sorted keys, and what the request is about). A repeat with the same fingerprint is a retry and gets the
first result; a different one is a client bug (a key reused for a new request), answered 409 rather than
silently with the first request's result.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel
from sqlmodel import Session, select

from bizportal.engine.errors import Conflict
from bizportal.engine.principal import Principal
from bizportal.storage.applications import ApplicationRow


def fingerprint(operation: str, body: BaseModel) -> str:
    """The sha256 (hex) of `operation` and `body` as canonical JSON: defaults filled in, keys sorted."""
    canonical = json.dumps({"operation": operation, "body": body.model_dump(mode="json")}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replayed(session: Session, principal: Principal, key: str, request_fingerprint: str) -> ApplicationRow | None:
    """The application the caller first created with `key`, if any.

    Raises:
        Conflict: the key was first used with a different request.
    """
    # The key's sender is the role and the subject: the same `sub` in another role is someone else.
    existing = session.exec(select(ApplicationRow).where(ApplicationRow.created_by_role == principal.role.value,
                                                         ApplicationRow.created_by == principal.subject,
                                                         ApplicationRow.idempotency_key == key)).first()
    if existing is None:
        return None
    # Rows stored before fingerprints were kept have none: their key still returns the first result.
    if existing.idempotency_fingerprint not in (None, request_fingerprint):
        raise key_reused(key)
    return existing


def key_reused(key: str) -> Conflict:
    return Conflict(f"Idempotency-Key {key!r} was already used for a different request",
                    hint="send a new Idempotency-Key with each new request; to repeat a request, send exactly the "
                         "same body with its key", details={"header": "Idempotency-Key"})
