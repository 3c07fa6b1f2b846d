"""The periodic timer scan: fires only the instances whose timers are due."""

from __future__ import annotations

import logging
from datetime import datetime
from itertools import groupby

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bizportal.engine.cases.case import fire_timers
from bizportal.engine.context import EngineContext
from bizportal.storage.database import transaction
from bizportal.storage.workflow_tables import TimerRow, TimerState

log = logging.getLogger(__name__)


def fire_due_timers(ctx: EngineContext, db: Engine, limit: int = 500) -> int:
    """Fire every due timer, one instance per transaction so one failure blocks nobody else.

    Returns the number of timers fired.
    """
    now = ctx.clock.now()
    with transaction(db) as session:
        due = due_timers(session, now, limit)
    fired = 0
    for instance_id, rows in groupby(due, key=lambda r: r[0]):
        try:
            with transaction(db) as session:
                # Re-claim under lock: another scanner may have fired them meanwhile.
                claimed = {t.id for t in ctx.runtime.due_timers(session, now, instance_id)}
                wanted = [timer_id for _, timer_id in rows if timer_id in claimed]
                if not wanted:
                    continue
                fire_timers(ctx, session, instance_id, wanted)
                fired += len(wanted)
        except Exception:  # logged and retried on the next scan; other instances go on
            log.exception("firing timers of instance %s failed", instance_id)
    return fired


def due_timers(session: Session, now: datetime, limit: int) -> list[tuple[str, str]]:
    """The `limit` longest-due waiting timers, as (instance id, timer id) grouped by instance: one range of
    `ix_workflow_timer_due` (state, due_at, then the two ids: the index alone answers) read in its order, so the
    scan costs `limit` entries however many timers wait (ordering by instance instead sorted every due timer
    first), and the oldest go first."""
    due = session.exec(select(TimerRow.instance_id, TimerRow.id)
                       .where(TimerRow.state == TimerState.WAITING, col(TimerRow.due_at) <= now)
                       .order_by(col(TimerRow.due_at)).limit(limit)).all()
    return sorted((instance_id, timer_id) for instance_id, timer_id in due)
