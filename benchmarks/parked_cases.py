"""Parked licence cases by the million, written straight into the tables (issue 14's scale target).

A case parked at its first officer step is, in the database, five rows: its application, the licence case, the
workflow instance (the serialized workflow: the bulk of it), the open human task and the step's deadline timer.
`template` makes one such case for real, as the start job makes it (engine/cases/case.py `start_case_job` on a
submitted application, in a throwaway SQLite database), so the rows written here are the engine's own: the same
columns, projections and workflow document. `fill` then copies it `size` times, each with its own ids, office,
age, deadline and claim, the document carrying the ids and deadline of its own task and timer.

The writing goes by the databases' bulk paths, not the ORM: COPY on PostgreSQL (psycopg's `cursor.copy`), one
prepared INSERT per table (`executemany`) on SQLite, with values converted as SQLAlchemy's column types convert
them. Nothing the migrations own is dropped or changed; (VACUUM) ANALYZE runs afterwards, as autovacuum would.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.api.links import PublicLinks
from bizportal.engine.assembly import build_engine
from bizportal.engine.cases.case import start_case_job
from bizportal.engine.clock import Clock
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.database import make_engine, transaction
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.workflow_tables import HumanTaskRow, TimerRow, WorkflowInstanceRow

LICENCE, AGENCY, OFFICES = "food_premises_notice_small", "LAO", 20
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
CHUNK = 10_000
# Parents before children (foreign keys), in the order each chunk is written.
TABLES: tuple[type[SQLModel], ...] = (ApplicationRow, WorkflowInstanceRow, LicenceCaseRow, HumanTaskRow, TimerRow)


class FixedClock(Clock):
    def now(self) -> datetime:
        return NOW


def _columns(row: SQLModel) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Template:
    """One parked case's rows as the engine wrote them, and its document cut around what differs per case."""

    rows: dict[str, dict[str, Any]]  # table name -> column values
    # The document split at each occurrence of the task's id, the timer's id and the deadline (`_SLOTS`): a case's
    # document is the pieces joined with its own values, at the price of a join, not of a JSON round trip.
    pieces: list[str]
    slots: list[str]

    def document(self, values: dict[str, str]) -> str:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out += (values[slot], piece)
        return "".join(out)


def template(root: Path, workdir: Path) -> Template:
    """Submit one application in a throwaway SQLite database and run its case's start job: the rows it leaves."""
    db = make_engine(f"sqlite:///{workdir / 'template.db'}")
    try:
        upgrade_to_head(db)
        engine = build_engine(db, root / "bpmn", LocalObjectStore(workdir / "template-objects"), FixedClock(),
                              PublicLinks("http://127.0.0.1:8000"), LogNotificationChannel())
        application = ApplicationRow(id=str(uuid.uuid4()), owner="1" * 13, created_by="seed",
                                     created_by_role="applicant", applicant_kind="person",
                                     applicant_id_number="1" * 13, applicant_name="ผู้ขอ ทดสอบ",
                                     business_name="ร้านทดสอบ", business_address="1 ถนนทดสอบ",
                                     business_province="Bangkok", business_area_m2=40.0, status="submitted",
                                     tracking_number="BP-2026-0000000", submitted_at=NOW, created_at=NOW,
                                     updated_at=NOW)
        case = LicenceCaseRow(id=str(uuid.uuid4()), application_id=application.id, licence_code=LICENCE,
                              agency=AGENCY, office="OFFICE-00", status="submitted", updated_at=NOW)
        with transaction(db) as session:
            session.add(application)
            session.flush()
            session.add(case)
            session.flush()
            start_case_job(engine.ctx, session, {"case_id": case.id})
        with Session(db) as session:
            rows = {ApplicationRow.__tablename__: _columns(session.exec(select(ApplicationRow)).one()),
                    LicenceCaseRow.__tablename__: _columns(session.exec(select(LicenceCaseRow)).one()),
                    WorkflowInstanceRow.__tablename__: _columns(session.exec(select(WorkflowInstanceRow)).one()),
                    HumanTaskRow.__tablename__: _columns(session.exec(select(HumanTaskRow)).one()),
                    TimerRow.__tablename__: _columns(session.exec(select(TimerRow)).one())}
    finally:
        db.dispose()
    task, timer = rows["human_task"], rows["workflow_timer"]
    assert (task["step"], timer["attached_to"], timer["due_at"]) == ("document_check", "document_check",
                                                                     task["due_at"]), "not parked at document_check"
    document = rows["workflow_instance"]["document"]
    marks = {task["id"]: "task", timer["id"]: "timer", _timer_value(task["due_at"]): "due"}
    for mark in marks:
        assert mark in document, f"{marks[mark]} ({mark}) not in the stored workflow"
    pieces, slots, rest = [], [], document
    while True:
        found = [(rest.find(mark), mark) for mark in marks if mark in rest]
        if not found:
            break
        at, mark = min(found)
        pieces.append(rest[:at])
        slots.append(marks[mark])
        rest = rest[at + len(mark):]
    pieces.append(rest)
    return Template(rows, pieces, slots)


def _timer_value(due: datetime) -> str:
    """A deadline as SpiffWorkflow keeps a timer's value in the document."""
    return due.astimezone(UTC).isoformat()


def cases(size: int, shape: Template) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """`size` parked cases in chunks of `CHUNK` (table name -> rows): 20 offices of one agency, opened over 60
    days, ~10% overdue, ~5% without a deadline (no timer: the inbox's undated part), a third claimed."""
    rng = random.Random(size)
    rows = shape.rows
    for start in range(0, size, CHUNK):
        chunk: dict[str, list[dict[str, Any]]] = {model.__tablename__: [] for model in TABLES}  # type: ignore[misc]
        for n in range(start, min(start + CHUNK, size)):
            application_id, instance_id, case_id, task_id, timer_id = (
                str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(5))
            opened = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            late = rng.random() < 0.10
            due = None if rng.random() < 0.05 else (
                opened + timedelta(days=rng.randint(1, 5)) if late else NOW + timedelta(days=rng.randint(0, 30)))
            office = f"OFFICE-{n % OFFICES:02d}"
            assignee = f"agency_officer:{AGENCY}:{office}:o{n % 7}" if n % 3 == 0 else None
            document = shape.document({"task": task_id, "timer": timer_id,
                                       "due": _timer_value(due or rows["human_task"]["due_at"])})
            chunk["application"].append({**rows["application"], "id": application_id, "created_at": opened,
                                         "updated_at": opened, "submitted_at": opened,
                                         "tracking_number": f"BP-2026-{n:07d}"})
            chunk["workflow_instance"].append({
                **rows["workflow_instance"], "id": instance_id, "document": document, "created_at": opened,
                "updated_at": opened, "context": {**rows["workflow_instance"]["context"], "office": office,
                                                  "application_id": application_id, "case_id": case_id}})
            chunk["licence_case"].append({**rows["licence_case"], "id": case_id, "application_id": application_id,
                                          "instance_id": instance_id, "office": office, "due_at": due,
                                          "updated_at": opened})
            chunk["human_task"].append({**rows["human_task"], "id": task_id, "instance_id": instance_id,
                                        "office": office, "opened_at": opened, "due_at": due,
                                        "overdue": late and due is not None, "assignee": assignee,
                                        "claimed_at": opened if assignee else None})
            if due is not None:  # the step's deadline timer, waiting (past due for the overdue ~10%)
                chunk["workflow_timer"].append({**rows["workflow_timer"], "id": timer_id,
                                                "instance_id": instance_id, "due_at": due})
        yield chunk


def fill(db: sa.Engine, size: int, shape: Template) -> None:
    """Write `size` parked cases into the (migrated, empty) database behind `db`, then (VACUUM) ANALYZE it."""
    write = _copy if db.dialect.name == "postgresql" else _insert_many
    # A transaction per chunk: SQLite's write-ahead log then stays small (checkpointed after each commit); one
    # transaction of 1,000,000 cases grows it to the whole database, and every page read searches its index.
    for chunk in cases(size, shape):
        with db.begin() as connection:
            for model in TABLES:
                table: sa.Table = model.__table__  # type: ignore[attr-defined]
                write(connection, table, chunk[table.name])
    # The statistics a planner has once autovacuum has seen the rows; on PostgreSQL its VACUUM too, which marks
    # the pages all-visible (as autovacuum does after so many inserts): until then an index-only scan still
    # reads each row's page to check it is visible, and a count of 1,001 entries reads 1,001 pages.
    if db.dialect.name == "postgresql":
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    else:  # in a transaction of its own: make_engine's SQLite begins every one itself, AUTOCOMMIT or not
        with db.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def _converters(connection: sa.Connection, table: sa.Table) -> list[Callable[[Any], Any] | None]:
    """Each column's conversion of a Python value to what the driver is given (dates, JSON, booleans)."""
    return [column.type.bind_processor(connection.dialect) for column in table.columns]


def _insert_many(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """SQLite: one prepared INSERT for the chunk, values as SQLAlchemy stores them (ISO text dates, JSON text)."""
    names = [column.name for column in table.columns]
    convert = _converters(connection, table)
    values = [tuple(value if to is None or value is None else to(value)
                    for value, to in zip((row[name] for name in names), convert, strict=True)) for row in rows]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                           values)
    finally:
        cursor.close()


def _copy(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY FROM STDIN; psycopg writes dates, booleans and NULLs itself, JSON goes as its text."""
    names = [column.name for column in table.columns]
    json_columns = {column.name for column in table.columns if isinstance(column.type, sa.JSON)}
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[name]) if name in json_columns and row[name] is not None else row[name]
                            for name in names])


def stored_size(db: sa.Engine, size: int) -> dict[str, float]:
    """What a parked case takes: its workflow document (the text, and as stored: PostgreSQL compresses it in
    TOAST) and the five tables with their indexes, per case (PostgreSQL: the relations' sizes; SQLite: the file's)."""
    with db.connect() as connection:
        text = connection.execute(sa.text("SELECT avg(length(CAST(document AS BLOB))) FROM workflow_instance")
                                  if db.dialect.name == "sqlite" else
                                  sa.text("SELECT avg(octet_length(document)) FROM workflow_instance")).scalar_one()
        if db.dialect.name == "postgresql":
            stored = connection.execute(sa.text("SELECT avg(pg_column_size(document)) FROM workflow_instance")
                                        ).scalar_one()
            total = sum(connection.execute(sa.text(f"SELECT pg_total_relation_size('{model.__tablename__}')")
                                           ).scalar_one() for model in TABLES)
        else:
            stored = text
            pages, page_size = (connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                                for name in ("page_count", "page_size"))
            total = pages * page_size
    return {"document_bytes": float(text), "document_stored_bytes": float(stored), "bytes_per_case": total / size}
