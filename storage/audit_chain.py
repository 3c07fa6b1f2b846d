"""The audit trail's hash chain: each entry carries the hash of the one before, sealed as its transaction commits.

An entry is inserted like any row (so the rest of its transaction reads it back), without its place in the chain.
When the unit of work commits (`storage.database.transaction`, a `before_commit` hook), `seal` locks the one-row
chain head, gives the transaction's new entries the next positions in id order, their `prev_hash` and `hash`, and
moves the head: three statements per committing transaction that wrote entries, whatever their number.

Why at commit, and not when the row is inserted: ids come from a sequence in insert order, and on PostgreSQL two
transactions interleave, so id order is not the order in which entries become visible. Positions given under the
head's lock follow commit order, with no gap and no duplicate. The lock (`SELECT ... FOR UPDATE` of the head) is
taken as late as possible, after the unit of work's last flush, so it is held only for the commit itself. SQLite
needs nothing more: a `transaction` takes its single write lock when it begins.

An entry's hash is the sha256 (hex) of the canonical JSON (sorted keys, no spaces, UTF-8) of every field of the
entry (`id`, `position`, `application_id`, `at` as an exact UTC ISO string with microseconds, `actor`,
`actor_role`, `event`, `detail` as the database gives it back) and `prev_hash`. The first entry's `prev_hash` is
`GENESIS_HASH`. The values hashed are those reading the row back gives, so `audit_verification` recomputes the
same hash from the stored row on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Table, bindparam, event, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Field, Session, SQLModel

from bizportal.storage.audit_events import AuditEventRow

# The `prev_hash` of the first entry: no entry came before it.
GENESIS_HASH = "0" * 64
HEAD_ID = 1  # the chain head's one row

_NEW_ENTRIES = "bizportal.new_audit_entries"  # session.info: the audit rows flushed since the last seal


class AuditChainHeadRow(SQLModel, table=True):
    """The end of the chain: how many entries it holds (the last position) and the last entry's hash.

    One row (`id` 1), written by the migration that added the chain and by `seal` only."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=HEAD_ID, primary_key=True)
    position: int = 0
    hash: str = Field(default=GENESIS_HASH, max_length=64)


def _create_the_head(table: Table, connection: Connection, **_: Any) -> None:
    # Databases built from the tables (metadata.create_all, as some tests do) get the head the migration writes.
    connection.execute(table.insert().values(id=HEAD_ID, position=0, hash=GENESIS_HASH))


event.listen(AuditChainHeadRow.__table__, "after_create", _create_the_head)  # type: ignore[attr-defined]


class AuditEntry(Protocol):
    """The fields of an entry that its hash covers (an `AuditEventRow`, or a row read with those columns)."""

    @property
    def id(self) -> int | None: ...
    @property
    def application_id(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def actor_role(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def detail(self) -> dict[str, Any]: ...


def entry_hash(entry: AuditEntry, position: int, prev_hash: str) -> str:
    """The hash of `entry` at `position` after the entry whose hash is `prev_hash` (see the module's docstring)."""
    if entry.at.tzinfo is None:
        raise ValueError("an audit entry's time must be timezone-aware")
    fields = {
        "id": entry.id, "position": position, "application_id": entry.application_id,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"), "actor": entry.actor,
        "actor_role": entry.actor_role, "event": entry.event,
        # What the JSON column gives back (tuples become lists, keys strings), so a freshly written entry hashes
        # as it reads; the round trip changes nothing in a detail read from the database.
        "detail": json.loads(json.dumps(entry.detail)), "prev_hash": prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def track_new_entry(session: Session, instance: object) -> None:
    """Remember an audit row the session has just inserted (a `pending_to_persistent` hook), for `seal`."""
    if isinstance(instance, AuditEventRow):
        session.info.setdefault(_NEW_ENTRIES, []).append(instance)


def seal(session: Session) -> None:
    """Chain the entries this session inserted: called just before its outermost transaction commits.

    A savepoint's release seals nothing (the rows wait for the real commit); rows of a savepoint rolled back are
    gone from the session and skipped.
    """
    if session.in_nested_transaction():
        return
    session.flush()  # the last inserts: after this the transaction writes nothing but the chain
    new: list[AuditEventRow] = session.info.pop(_NEW_ENTRIES, [])
    entries = sorted((row for row in new if inspect(row).persistent and row.position is None),
                     key=lambda row: row.id or 0)
    if not entries:
        return
    head_table = AuditChainHeadRow.__table__  # type: ignore[attr-defined]
    head = session.execute(select(head_table.c.position, head_table.c.hash).where(head_table.c.id == HEAD_ID)
                           .with_for_update()).one_or_none()
    if head is None:
        raise RuntimeError("the audit chain has no head row (table audit_chain_head): run `bizportal migrate`")
    position, prev_hash = head.position, head.hash
    chained = []
    for row in entries:
        position += 1
        digest = entry_hash(row, position, prev_hash)
        chained.append({"entry_id": row.id, "new_position": position, "new_prev_hash": prev_hash,
                        "new_hash": digest})
        for name, value in (("position", position), ("prev_hash", prev_hash), ("hash", digest)):
            set_committed_value(row, name, value)  # what was written: nothing left for the ORM to flush
        prev_hash = digest
    table = AuditEventRow.__table__  # type: ignore[attr-defined]
    session.execute(update(table).where(table.c.id == bindparam("entry_id")).values(
        position=bindparam("new_position"), prev_hash=bindparam("new_prev_hash"), hash=bindparam("new_hash")),
        chained)
    session.execute(update(head_table).where(head_table.c.id == HEAD_ID).values(position=position, hash=prev_hash))
