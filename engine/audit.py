"""Writing the audit trail; every use case records who did what in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bizportal.engine.principal import Principal
from bizportal.storage.audit_events import AuditEventRow


def record(session: Session, actor: Principal, event: str, at: datetime, application_id: str | None = None,
           **detail: Any) -> None:
    session.add(AuditEventRow(application_id=application_id, at=at, actor=actor.label,
                              actor_role=actor.role.value, event=event, detail=detail))
