"""How the inbox's queries grow with the number of open tasks (issue 14's scale target, in small).

For each size (10,000 and 100,000 open tasks by default) a fresh database is filled directly with SQL (not
through the API): one application, licence case, workflow instance and open `document_check` task per case,
spread over 20 offices of one agency (an officer sees a twentieth), about 10% overdue, 5% without a deadline.
Then the queries the /inbox page and GET /api/v1/tasks run are timed (wall clock, median of --repeat runs after a
warm-up) as an officer of one office and as an admin (everything):

- the first page (20 tasks), a page ten pages deep (its cursor fetched beforehand), and a filtered first page,
  each keyset-paged in the inbox's order (engine/cases/tasks.py `inbox`);
- the counts (total, overdue) and the filters' choices (`inbox_counts`, `inbox_choices`);
- a first page filtered by the start of an application number, typed in lower case;
- the due-timer scan's query (engine/cases/timer_scan.py `due_timers`, 500 of the ~10% timers past due: each
  instance waits on its step's deadline) and an applicant's status read (`status.snapshot`, GET .../status).

The result is the ratio of each time at the large size to the small one: keyset pages should stay near 1x;
counting grows with what it counts (it reads the matching index entries).

    .venv/bin/python benchmarks/inbox_scale.py [--sizes 10000 100000] [--repeat 15] [--database-url URL]

With a PostgreSQL URL each size gets a schema of its own, dropped afterwards. The table is printed and written
to benchmarks/results/inbox_scale.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.api.links import PublicLinks
from bizportal.engine.applications import status
from bizportal.engine.assembly import LicensingEngine, build_engine
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskFilter
from bizportal.engine.cases.timer_scan import due_timers
from bizportal.engine.clock import Clock
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.database import make_engine
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.workflow_tables import HumanTaskRow, ProcessDefinitionRow, TimerRow, WorkflowInstanceRow

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "inbox_scale.json"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LICENCE, AGENCY, OFFICES = "food_premises_notice_small", "LAO", 20
CHUNK = 5_000


class FixedClock(Clock):
    def now(self) -> datetime:
        return NOW


def _template(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """A row's columns with the model's defaults, as a dict for a bulk INSERT."""
    row = model(**values)
    return {column.name: getattr(row, column.name) for column in model.__table__.columns}  # type: ignore[attr-defined]


def fill(db: sa.Engine, size: int, spec_hash: str) -> None:
    """`size` open tasks, with their cases, applications and instances, straight into the tables."""
    rng = random.Random(size)
    application = _template(ApplicationRow, id="", owner="1" * 13, created_by="seed", created_by_role="applicant",
                            applicant_kind="person", applicant_id_number="1" * 13, applicant_name="ผู้ขอ ทดสอบ",
                            business_name="ร้านทดสอบ", business_address="1 ถนนทดสอบ",
                            business_province="Bangkok", business_area_m2=40.0, status="submitted")
    instance = _template(WorkflowInstanceRow, id="", spec_hash=spec_hash, process_id=LICENCE, document="{}",
                         status="document_check")
    case = _template(LicenceCaseRow, id="", application_id="", licence_code=LICENCE, agency=AGENCY)
    task = _template(HumanTaskRow, id="", instance_id="", step="document_check", title="Document check",
                     title_th="ตรวจเอกสาร", lane="agency", agency=AGENCY, actions="approve,reject")
    with db.begin() as connection:
        for start in range(0, size, CHUNK):
            rows: dict[str, list[dict[str, Any]]] = {"a": [], "w": [], "c": [], "t": [], "timer": []}
            for n in range(start, min(start + CHUNK, size)):
                ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(5)]
                opened = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
                late = rng.random() < 0.10
                due = None if rng.random() < 0.05 else (
                    opened + timedelta(days=rng.randint(1, 5)) if late else NOW + timedelta(days=rng.randint(0, 30)))
                office = f"OFFICE-{n % OFFICES:02d}"
                rows["a"].append({**application, "id": ids[0], "tracking_number": f"BP-2026-{n:07d}",
                                  "created_at": opened, "filed_at_office": None})
                rows["w"].append({**instance, "id": ids[1], "context": {"application_id": ids[0]},
                                  "created_at": opened, "updated_at": opened})
                rows["c"].append({**case, "id": ids[2], "application_id": ids[0], "instance_id": ids[1],
                                  "office": office})
                rows["t"].append({**task, "id": ids[3], "instance_id": ids[1], "office": office, "opened_at": opened,
                                  "due_at": due, "overdue": late and due is not None,
                                  "assignee": f"agency_officer:{AGENCY}:{office}:o{n % 7}" if n % 3 == 0 else None})
                if due is not None:  # the step's deadline timer, waiting (past due for the overdue ~10%)
                    rows["timer"].append({"id": ids[4], "instance_id": ids[1], "attached_to": "document_check",
                                          "due_at": due, "state": "waiting", "fired_at": None})
            connection.execute(sa.insert(ApplicationRow.__table__), rows["a"])  # type: ignore[attr-defined]
            connection.execute(sa.insert(WorkflowInstanceRow.__table__), rows["w"])  # type: ignore[attr-defined]
            connection.execute(sa.insert(LicenceCaseRow.__table__), rows["c"])  # type: ignore[attr-defined]
            connection.execute(sa.insert(HumanTaskRow.__table__), rows["t"])  # type: ignore[attr-defined]
            connection.execute(sa.insert(TimerRow.__table__), rows["timer"])  # type: ignore[attr-defined]
    with db.begin() as connection:
        connection.execute(sa.text("ANALYZE"))


def timed(run: Callable[[], Any], repeat: int) -> float:
    """Median wall milliseconds of `run` after two warm-up calls."""
    run()
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(engine: LicensingEngine, repeat: int) -> dict[str, float]:
    ctx = engine.ctx
    officer = Principal("o1", Role.AGENCY_OFFICER, agency=AGENCY, office="OFFICE-00")
    admin = Principal("root", Role.ADMIN)
    filters = TaskFilter(step="document_check", assigned="unassigned")
    results = {}
    with Session(engine.db) as session:
        for who, principal in (("officer", officer), ("admin", admin)):
            cursor = None
            for _ in range(9):
                cursor = tasks.inbox(ctx, session, principal, None, 20, cursor).next
            deep = cursor
            inbox = partial(tasks.inbox, ctx, session, principal)
            results[f"{who}: first page"] = timed(partial(inbox, None, 20), repeat)
            results[f"{who}: page 10"] = timed(partial(inbox, None, 20, deep), repeat)
            results[f"{who}: filtered first page"] = timed(partial(inbox, filters, 20), repeat)
            results[f"{who}: overdue only, first page"] = timed(partial(inbox, TaskFilter(overdue=True), 20), repeat)
            results[f"{who}: counts"] = timed(partial(tasks.inbox_counts, ctx, session, principal, None), repeat)
            results[f"{who}: filter choices"] = timed(partial(tasks.inbox_choices, ctx, session, principal), repeat)
            results[f"{who}: number filter, first page"] = timed(
                partial(inbox, TaskFilter(number="bp-2026-000012"), 20), repeat)
        results["due-timer scan (500)"] = timed(partial(due_timers, session, NOW, 500), repeat)
        applicant = Principal("a1", Role.APPLICANT, id_number="1" * 13)
        application_id = session.exec(select(ApplicationRow.id).where(
            ApplicationRow.tracking_number == "BP-2026-0005000")).one()
        results["status read (applicant)"] = timed(
            partial(status.snapshot, ctx, session, applicant, application_id), repeat)
    return results


@contextmanager
def database(url: str | None, workdir: Path, size: int) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""
    if url is None:
        yield f"sqlite:///{workdir / f'inbox-{size}.db'}"
        return
    schema = f"bench_inbox_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(size: int, url: str | None, repeat: int, workdir: Path) -> tuple[dict[str, float], float]:
    with database(url, workdir, size) as database_url:
        db = make_engine(database_url)
        try:
            upgrade_to_head(db)
            engine = build_engine(db, ROOT / "bpmn", LocalObjectStore(workdir / "objects"), FixedClock(),
                                  PublicLinks("http://127.0.0.1:8000"), LogNotificationChannel())
            with Session(db) as session:
                spec_hash = session.exec(select(ProcessDefinitionRow.spec_hash)
                                         .where(ProcessDefinitionRow.process_id == LICENCE)).first()
            assert spec_hash, f"no deployed definition of {LICENCE}"
            started = time.perf_counter()
            fill(db, size, spec_hash)
            filled_in = time.perf_counter() - started
            return measure(engine, repeat), filled_in
        finally:
            db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=None, help="postgresql://... (default: temporary SQLite files)")
    args = parser.parse_args(argv)
    small, large = args.sizes
    with tempfile.TemporaryDirectory() as tmp:
        timings = {}
        for size in (small, large):
            print(f"filling {size:,} open tasks ...", file=sys.stderr, flush=True)
            timings[size], seconds = run(size, args.database_url, args.repeat, Path(tmp))
            print(f"  filled in {seconds:.1f} s", file=sys.stderr)
    database_kind = "postgresql" if args.database_url else "sqlite"
    print(f"\ninbox queries, {database_kind}, median ms of {args.repeat} (officer sees 1/{OFFICES})")
    print(f"{'query':<36}{small:>12,}{large:>12,}{'ratio':>8}")
    rows = []
    for name in timings[small]:
        a, b = timings[small][name], timings[large][name]
        rows.append({"query": name, "small_ms": round(a, 3), "large_ms": round(b, 3), "ratio": round(b / a, 2)})
        print(f"{name:<36}{a:>12.2f}{b:>12.2f}{b / a:>7.2f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"database": database_kind, "sizes": [small, large], "repeat": args.repeat,
                                   "python": platform.python_version(), "machine": platform.machine(),
                                   "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
