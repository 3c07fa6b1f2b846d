"""The periodic timer scan: fires only the instances whose timers are due."""

from __future__ import annotations

import logging
from itertools import groupby

from sqlalchemy.engine import Engine
from sqlmodel import col, select

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
        due = session.exec(select(TimerRow.instance_id, TimerRow.id)
                           .where(TimerRow.state == TimerState.WAITING, col(TimerRow.due_at) <= now)
                           .order_by(col(TimerRow.instance_id)).limit(limit)).all()
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
