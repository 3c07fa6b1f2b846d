"""The audit trail's hash chain: sealed at commit in commit order, hashed as the rows read back, and every kind of
tampering found by the verification (storage/audit_chain.py, storage/audit_verification.py), on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bizportal.storage.audit_chain import GENESIS_HASH, AuditChainHeadRow, entry_hash
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.audit_verification import verify_chain
from bizportal.storage.database import make_engine, transaction
from bizportal.storage.migrate import alembic_config, upgrade_to_head

AT = datetime(2026, 12, 5, 10, 30, 15, 123456, tzinfo=UTC)
BANGKOK = timezone(timedelta(hours=7))


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def entry(event: str, at: datetime = AT, application_id: str | None = "app-1", **detail: Any) -> AuditEventRow:
    return AuditEventRow(application_id=application_id, at=at, actor="applicant:alice", actor_role="applicant",
                         event=event, detail=detail)


def write(db: Engine, *events: str) -> None:
    with transaction(db) as session:
        for name in events:
            session.add(entry(name))


def chain(db: Engine) -> list[AuditEventRow]:
    with Session(db) as session:
        return list(session.exec(select(AuditEventRow).order_by(col(AuditEventRow.position))).all())


def tamper(db: Engine, sql: str, **params: Any) -> None:
    with db.begin() as connection:
        connection.execute(sa.text(sql), params)


def test_entries_are_chained_in_commit_order_and_hash_as_they_read_back(db: Engine) -> None:
    with transaction(db) as session:
        # What the round trips could change: a time in another zone with microseconds, a tuple, an int key,
        # a float, Thai text, nesting, no application.
        session.add(entry("application.created", at=AT.astimezone(BANGKOK), fee=1234.5, items=("a", "b"),
                          name="ร้านอาหาร สมชาย", nested={"z": 1, "a": [None, True, {"k": "v"}]}))
        keyed = entry("staff.added", application_id=None)
        keyed.detail = {"by_number": {1: "one"}}  # JSON makes the key a string
        session.add(keyed)
        session.flush()
        assert session.exec(select(AuditEventRow)).all()  # the transaction reads its own entries before commit
    write(db, "application.submitted")
    rows = chain(db)
    assert [(row.position, row.event) for row in rows] == [
        (1, "application.created"), (2, "staff.added"), (3, "application.submitted")]
    assert [row.prev_hash for row in rows] == [GENESIS_HASH, rows[0].hash, rows[1].hash]
    for row in rows:  # recomputed from the row as read: the same hash
        assert row.position is not None and row.prev_hash is not None
        assert row.hash == entry_hash(row, row.position, row.prev_hash)
    with Session(db) as session:
        head = session.exec(select(AuditChainHeadRow)).one()
    assert (head.position, head.hash) == (3, rows[2].hash)
    report = verify_chain(db)
    assert (report.intact, report.entries, report.head_hash) == (True, 3, rows[2].hash)


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    base = entry("x", note="a")
    digest = entry_hash(base, 1, GENESIS_HASH)
    assert len(digest) == 64 and digest == entry_hash(entry("x", note="a"), 1, GENESIS_HASH)
    changed = [entry("y", note="a"), entry("x", note="b"), entry("x", at=AT + timedelta(microseconds=1), note="a"),
               entry("x", application_id="app-2", note="a"), entry("x", application_id=None, note="a")]
    assert all(entry_hash(other, 1, GENESIS_HASH) != digest for other in changed)
    assert entry_hash(base, 2, GENESIS_HASH) != digest and entry_hash(base, 1, "1" * 64) != digest
    base.id = 7
    assert entry_hash(base, 1, GENESIS_HASH) != digest
    with pytest.raises(ValueError, match="timezone"):
        entry_hash(entry("x", at=datetime(2026, 1, 1)), 1, GENESIS_HASH)


def test_rolled_back_work_leaves_no_link(db: Engine) -> None:
    write(db, "first")
    with pytest.raises(RuntimeError), transaction(db) as session:
        session.add(entry("never"))
        session.flush()
        raise RuntimeError("half-way")
    with transaction(db) as session:
        session.add(entry("kept.before"))
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(entry("rolled.back"))
            session.flush()
            raise RuntimeError("savepoint")
        with session.begin_nested():  # a released savepoint's entry waits for the real commit
            session.add(entry("kept.in.savepoint"))
    assert [(row.position, row.event) for row in chain(db)] == [
        (1, "first"), (2, "kept.before"), (3, "kept.in.savepoint")]
    assert verify_chain(db).intact


@pytest.fixture
def five(db: Engine) -> list[AuditEventRow]:
    write(db, "one", "two")
    write(db, "three")
    write(db, "four", "five")
    return chain(db)


def test_a_changed_entry_is_found(db: Engine, five: list[AuditEventRow]) -> None:
    tamper(db, "UPDATE audit_event SET actor = 'someone:else' WHERE id = :id", id=five[2].id)
    report = verify_chain(db)
    assert report.broken is not None and report.entries == 2
    assert (report.broken.position, report.broken.entry_id, report.broken.event) == (3, five[2].id, "three")
    assert "changed" in report.broken.problem


def test_a_changed_entry_whose_hash_was_recomputed_is_found_at_the_next(db: Engine, five: list[AuditEventRow]) -> None:
    forged = entry("three", note="forged")
    forged.id = five[2].id
    tamper(db, "UPDATE audit_event SET detail = :detail, hash = :hash WHERE id = :id", id=five[2].id,
           detail='{"note": "forged"}', hash=entry_hash(forged, 3, five[1].hash or ""))
    report = verify_chain(db)
    assert report.broken is not None and report.entries == 3
    assert (report.broken.position, report.broken.event) == (4, "four") and "prev_hash" in report.broken.problem


def test_a_removed_entry_is_found(db: Engine, five: list[AuditEventRow]) -> None:
    tamper(db, "DELETE FROM audit_event WHERE id = :id", id=five[1].id)
    report = verify_chain(db)
    assert report.broken is not None and report.entries == 1
    assert (report.broken.position, report.broken.entry_id, report.broken.event) == (3, five[2].id, "three")
    assert "missing" in report.broken.problem and "position 2" in report.broken.problem


def test_a_removed_entry_with_the_rest_renumbered_is_found(db: Engine, five: list[AuditEventRow]) -> None:
    tamper(db, "DELETE FROM audit_event WHERE id = :id", id=five[0].id)
    tamper(db, "UPDATE audit_event SET position = position - 1")
    report = verify_chain(db)
    assert report.broken is not None and report.entries == 0
    assert (report.broken.position, report.broken.event) == (1, "two") and "prev_hash" in report.broken.problem


def test_a_truncated_tail_is_found(db: Engine, five: list[AuditEventRow]) -> None:
    tamper(db, "DELETE FROM audit_event WHERE position > 3")
    report = verify_chain(db)
    assert report.broken is not None and report.entries == 3
    assert (report.broken.position, report.broken.event) == (3, "three")
    assert "head counts 5 entries but the chain ends at 3" in report.broken.problem


@pytest.mark.parametrize(("change", "found"), [
    ("UPDATE audit_chain_head SET hash = :other", "head's hash"),
    ("UPDATE audit_chain_head SET position = 4", "head counts 4 entries but the chain holds 5"),
    ("DELETE FROM audit_chain_head", "head (table audit_chain_head) is missing"),
])
def test_a_changed_head_is_found(db: Engine, five: list[AuditEventRow], change: str, found: str) -> None:
    tamper(db, change, **({"other": "f" * 64} if ":other" in change else {}))
    report = verify_chain(db)
    assert report.broken is not None and found in report.broken.problem and report.entries == 5


def test_an_unchained_entry_is_found(db: Engine, five: list[AuditEventRow]) -> None:
    with Session(db) as session:  # a plain session: around the unit of work, so never sealed
        session.add(entry("around"))
        session.commit()
        around = session.exec(select(AuditEventRow).where(AuditEventRow.event == "around")).one()
    assert around.position is None
    report = verify_chain(db)
    assert report.broken is not None and report.entries == 5
    assert (report.broken.entry_id, report.broken.event) == (around.id, "around")
    assert "not in the chain" in report.broken.problem


def test_the_walk_goes_page_by_page(db: Engine, five: list[AuditEventRow]) -> None:
    pages: list[int] = []

    def count_pages(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM audit_event" in statement and "ORDER BY audit_event.position" in statement:
            pages.append(1)

    sa.event.listen(db, "before_cursor_execute", count_pages)
    assert verify_chain(db, page_size=2) == verify_chain(db)
    assert len(pages) == 3 + 1  # 2 + 2 + 1 entries, then the default page size reads all 5 at once
    sa.event.remove(db, "before_cursor_execute", count_pages)
    assert verify_chain(db, page_size=2).entries == 5
    tamper(db, "UPDATE audit_event SET event = 'renamed' WHERE position = 5")  # on the last page
    report = verify_chain(db, page_size=2)
    assert report.broken is not None and report.broken.position == 5 and report.entries == 4


def test_the_migration_chains_the_entries_written_before_it(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0022_timer_scan_covering_index")
        for number, detail in enumerate(['{"b": 1, "a": "ก"}', '{}', '{"x": [1.5, null]}']):
            connection.execute(sa.text(
                "INSERT INTO audit_event (application_id, at, actor, actor_role, event, detail) "
                "VALUES ('app-1', :at, 'system', 'system', :event, :detail)"),
                {"at": AT + timedelta(seconds=number), "event": f"old.{number}", "detail": detail})
    upgrade_to_head(engine)
    write(engine, "new")
    assert [(row.position, row.event) for row in chain(engine)] == [
        (1, "old.0"), (2, "old.1"), (3, "old.2"), (4, "new")]
    report = verify_chain(engine)
    engine.dispose()
    assert report.intact and report.entries == 4


@pytest.mark.postgres
def test_positions_follow_commit_order_not_id_order(database_url: str, db: Engine) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's write lock lets one transaction in at a time")
    first_flushed, second_committed = threading.Event(), threading.Event()

    def early_writer_late_committer() -> None:
        with transaction(db) as session:
            session.add(entry("inserted.first"))
            session.flush()
            first_flushed.set()
            assert second_committed.wait(30)

    thread = threading.Thread(target=early_writer_late_committer)
    thread.start()
    assert first_flushed.wait(30)
    write(db, "committed.first")
    second_committed.set()
    thread.join(30)
    rows = chain(db)
    assert [(row.position, row.event) for row in rows] == [(1, "committed.first"), (2, "inserted.first")]
    assert rows[0].id is not None and rows[1].id is not None and rows[0].id > rows[1].id
    assert verify_chain(db).intact


@pytest.mark.postgres
def test_concurrent_writers_make_one_unbroken_chain(database_url: str, db: Engine) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's write lock lets one transaction in at a time")
    threads, rounds, per_transaction = 6, 5, 3
    all_flushed = threading.Barrier(threads, timeout=30)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for round_ in range(rounds):
                with transaction(db) as session:
                    for index in range(per_transaction):
                        session.add(entry(f"w{number}.r{round_}.e{index}", writer=number))
                    session.flush()
                    all_flushed.wait()  # every writer holds uncommitted entries: the commits race
        except BaseException as err:  # reported by the test's thread
            failures.append(err)

    workers = [threading.Thread(target=writer, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert failures == []
    rows = chain(db)
    total = threads * rounds * per_transaction
    assert [row.position for row in rows] == list(range(1, total + 1))
    assert len({row.event for row in rows}) == total
    report = verify_chain(db)
    assert report.intact and report.entries == total
