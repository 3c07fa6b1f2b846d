"""Checking the audit trail's hash chain (`audit_chain.py`): the first break, or the count and head of an intact one.

The walk reads the entries in position order a page at a time (keyset paging on the unique position index), so a
trail of any length is checked in constant memory, in one snapshot of the database (PostgreSQL: REPEATABLE READ;
SQLite: a read transaction of WAL) so that entries committed meanwhile do not look like a moved head.

What it finds, first in position order:
- a changed entry: its fields no longer give its hash;
- a removed entry: a gap in the positions, or a `prev_hash` that is not the hash of the entry before (an entry
  removed and the rest renumbered, or an entry changed and its own hash recomputed to hide it);
- a truncated tail or a changed head: the chain head's position and hash are not those of the last entry;
- an unchained entry: a row without a position or hash (written around the unit of work, or its chain erased).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bizportal.storage.audit_chain import GENESIS_HASH, HEAD_ID, AuditChainHeadRow, entry_hash
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import read_session

PAGE_SIZE = 1000


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain breaks first: the entry at or after the break (None where there is no such entry)."""

    problem: str
    position: int | None = None
    entry_id: int | None = None
    event: str | None = None


@dataclass(frozen=True)
class ChainReport:
    """`entries` checked in order before the first break (all of them when intact), the last one's hash."""

    entries: int
    head_hash: str
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(engine: Engine, page_size: int = PAGE_SIZE) -> ChainReport:
    """Walk the whole chain of the database behind `engine` and report its first break, if any."""
    with read_session(engine) as session:
        if session.get_bind().dialect.name == "postgresql":  # one snapshot for the whole walk
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return _verify(session, page_size)


def _verify(session: Session, page_size: int) -> ChainReport:
    head_table = AuditChainHeadRow.__table__  # type: ignore[attr-defined]
    head = session.execute(select(head_table.c.position, head_table.c.hash)
                           .where(head_table.c.id == HEAD_ID)).one_or_none()
    count, prev_hash, last = 0, GENESIS_HASH, None
    for entry in _entries_in_order(session, page_size):
        found = _break_at(entry, count + 1, prev_hash)
        if found is not None:
            return ChainReport(count, prev_hash, found)
        count, prev_hash, last = count + 1, entry.hash, entry
    if head is None:
        return ChainReport(count, prev_hash, ChainBreak("the chain head (table audit_chain_head) is missing"))
    if head.position != count or head.hash != prev_hash:
        return ChainReport(count, prev_hash, _head_break(head.position, head.hash, count, prev_hash, last))
    unchained = session.execute(_columns().where(col(AuditEventRow.position).is_(None) |
                                                 col(AuditEventRow.hash).is_(None))
                                .order_by(col(AuditEventRow.id)).limit(1)).one_or_none()
    if unchained is not None:
        return ChainReport(count, prev_hash, ChainBreak(
            "an entry is not in the chain (no position or hash): written around the unit of work, or its link "
            "erased", None, unchained.id, unchained.event))
    return ChainReport(count, prev_hash)


def _columns() -> Any:
    return select(col(AuditEventRow.id), col(AuditEventRow.position), col(AuditEventRow.application_id),
                  col(AuditEventRow.at), col(AuditEventRow.actor), col(AuditEventRow.actor_role),
                  col(AuditEventRow.event), col(AuditEventRow.detail), col(AuditEventRow.prev_hash),
                  col(AuditEventRow.hash))


def _entries_in_order(session: Session, page_size: int) -> Iterator[Row[Any]]:
    """The chained entries by position, `page_size` rows at a time (only one page is held)."""
    after: int | None = None
    while True:
        query = _columns().where(col(AuditEventRow.position).is_not(None))
        if after is not None:
            query = query.where(col(AuditEventRow.position) > after)
        page = session.execute(query.order_by(col(AuditEventRow.position)).limit(page_size)).all()
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].position


def _break_at(entry: Row[Any], expected: int, prev_hash: str) -> ChainBreak | None:
    """What is wrong with `entry`, the next one of the chain after `expected - 1` entries ending in `prev_hash`."""
    where = {"position": entry.position, "entry_id": entry.id, "event": entry.event}
    if entry.position > expected:
        missing = str(expected) if entry.position == expected + 1 else f"{expected} to {entry.position - 1}"
        return ChainBreak(f"entries are missing before this one (position {missing}): removed", **where)
    if entry.position < expected:
        return ChainBreak(f"an entry at position {entry.position} where {expected} was due: renumbered", **where)
    if entry.prev_hash != prev_hash:
        return ChainBreak("its prev_hash is not the hash of the entry before: that entry was removed, or changed "
                          "and its hash recomputed", **where)
    if entry.hash != entry_hash(entry, entry.position, entry.prev_hash):
        return ChainBreak("its content does not give its hash: the entry was changed", **where)
    return None


def _head_break(head_position: int, head_hash: str, count: int, last_hash: str,
                last: Row[Any] | None) -> ChainBreak:
    where = {"position": last.position, "entry_id": last.id, "event": last.event} if last is not None else {}
    if head_position > count:
        return ChainBreak(f"the chain head counts {head_position} entries but the chain ends at {count}: the tail "
                          f"after this entry was removed (truncated)", **where)
    if head_position < count:
        return ChainBreak(f"the chain head counts {head_position} entries but the chain holds {count}: the head "
                          "was changed", **where)
    return ChainBreak(f"the chain head's hash {head_hash} is not the last entry's {last_hash}: the head was "
                      "changed", **where)
