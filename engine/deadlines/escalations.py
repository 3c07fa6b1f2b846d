"""Cases escalated to an agency's supervisor: past the manual's total time, still undecided (s.10).

Read from the `case_clock` projection; a supervisor sees the cases of their agency and, for cases routed
to local offices, of their own office only (engine/access.py); an admin sees every agency's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bizportal.engine.access import scope_filter
from bizportal.engine.deadlines.statutory_clock import SUPERVISOR_ROLE, effective_due, working_days_between
from bizportal.engine.errors import Forbidden
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.statutory_clocks import CaseClockRow


class EscalatedCase(BaseModel):
    application_id: str
    tracking_number: str | None
    case_id: str
    licence: str
    agency: str
    office: str | None
    status: str
    current_step: str | None
    started_at: datetime
    due_at: datetime
    escalated_at: datetime
    working_days_overdue: int
    notices_sent: int
    last_notice_at: datetime | None


ESCALATIONS_ORDER = Keyset("escalations", (SortKey(CaseClockRow.due_at, datetime),
                                           SortKey(CaseClockRow.case_id, str)))


def escalated_cases(session: Session, principal: Principal, now: datetime) -> list[EscalatedCase]:
    """Every escalated case still waiting for a decision, the longest overdue first (`escalations`, all)."""
    return escalations(session, principal, now, None).items


def escalations(session: Session, principal: Principal, now: datetime, limit: int | None,
                cursor: list[Any] | None = None) -> Page[EscalatedCase]:
    """Escalated cases still waiting for a decision, the longest overdue first: one page after `cursor`
    (engine/paging.py), or all (`limit=None`).

    Raises:
        Forbidden: the caller is not an agency supervisor (with an agency) or an admin.
        InvalidInput: a cursor that is not this list's.
    """
    query = (select(CaseClockRow, LicenceCaseRow, ApplicationRow.tracking_number)
             .join(LicenceCaseRow, col(LicenceCaseRow.id) == col(CaseClockRow.case_id))
             .join(ApplicationRow, col(ApplicationRow.id) == col(LicenceCaseRow.application_id))
             .where(col(CaseClockRow.decided_at).is_(None), col(CaseClockRow.escalated_at).is_not(None)))
    if principal.role == SUPERVISOR_ROLE and principal.agency:
        query = query.where(scope_filter(principal, LicenceCaseRow.agency, LicenceCaseRow.office))
    elif principal.role != Role.ADMIN:
        raise Forbidden("only an agency's supervisors (and admins) see its escalated cases",
                        hint=f"sign in with the {SUPERVISOR_ROLE} role of your agency")
    page = fetch_page(session, query, ESCALATIONS_ORDER, limit, cursor, keyed=lambda found: found[0])
    escalated = []
    for row, case, tracking_number in page.items:
        assert row.escalated_at is not None  # filtered above
        due = effective_due(row, now)
        escalated.append(EscalatedCase(
            application_id=case.application_id, tracking_number=tracking_number, case_id=case.id,
            licence=case.licence_code, agency=case.agency, office=case.office, status=case.status,
            current_step=case.current_step, started_at=row.started_at, due_at=due, escalated_at=row.escalated_at,
            working_days_overdue=working_days_between(due, now), notices_sent=row.notices_sent,
            last_notice_at=row.last_notice_at))
    return Page(escalated, page.next)
