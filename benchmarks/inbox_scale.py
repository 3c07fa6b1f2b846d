"""How the inbox's queries grow with the number of open tasks (issue 14's scale target, in small).

For each size (10,000 and 100,000 open tasks by default) a fresh database is filled directly with SQL (not
through the API, benchmarks/parked_cases.py): copies of one case parked at `document_check` as the engine stores
it (application, licence case, workflow instance with its real workflow document, open task, deadline timer),
spread over 20 offices of one agency (an officer sees a twentieth), about 10% overdue, 5% without a deadline.
Then the queries the /inbox page and GET /api/v1/tasks run are timed (median of --repeat runs after a warm-up, in
wall clock and in CPU time: `cpu_clock`, which a loaded machine disturbs far less) as an officer of one office
and as an admin (everything):

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
to benchmarks/results/inbox_scale.json (git-ignored), with what a parked case stores at each size.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.api.links import PublicLinks
from bizportal.engine.applications import status
from bizportal.engine.assembly import LicensingEngine, build_engine
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskFilter
from bizportal.engine.cases.timer_scan import due_timers
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.database import make_engine
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.scratch_schema import scratch_schema
from bizportal.storage.workflow_tables import ProcessDefinitionRow
from parked_cases import AGENCY, LICENCE, NOW, OFFICES, FixedClock, Template, fill, stored_size, template

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "inbox_scale.json"


def cpu_clock(session: Session) -> tuple[Callable[[], int], str]:
    """A clock of the CPU time (ns) spent on the session's queries: this process's, plus on PostgreSQL the time its
    server process has run (/proc/<pid>/schedstat, when the server runs on this machine). CPU time, unlike the
    wall clock, does not count the time spent waiting for a core, so the sizes compare on a loaded machine."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        server = Path(f"/proc/{connection.exec_driver_sql('SELECT pg_backend_pid()').scalar_one()}/schedstat")
        if server.exists():
            return (lambda: time.process_time_ns() + int(server.read_text().split()[0])), "client + server CPU"
        return time.process_time_ns, "client CPU only (the server is not on this machine)"
    return time.process_time_ns, "CPU (SQLite runs in this process)"


def timed(run: Callable[[], Any], repeat: int, cpu: Callable[[], int]) -> dict[str, float]:
    """Median wall and CPU milliseconds of `run` after two warm-up calls."""
    run()
    run()
    wall, used = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), cpu()
        run()
        used.append((cpu() - cpu_started) / 1e6)
        wall.append((time.perf_counter() - started) * 1000)
    return {"wall_ms": statistics.median(wall), "cpu_ms": statistics.median(used)}


def measure(engine: LicensingEngine, repeat: int) -> tuple[dict[str, dict[str, float]], str]:
    """Each query's median wall and CPU ms (see `cpu_clock`), and what the CPU clock counts."""
    ctx = engine.ctx
    officer = Principal("o1", Role.AGENCY_OFFICER, agency=AGENCY, office="OFFICE-00")
    admin = Principal("root", Role.ADMIN)
    filters = TaskFilter(step="document_check", assigned="unassigned")
    results = {}
    with Session(engine.db) as session:  # one connection (one server process) throughout: it never commits
        clock, counted = cpu_clock(session)

        def time_it(run: Callable[[], Any]) -> dict[str, float]:
            return timed(run, repeat, clock)

        for who, principal in (("officer", officer), ("admin", admin)):
            cursor = None
            for _ in range(9):
                cursor = tasks.inbox(ctx, session, principal, None, 20, cursor).next
            deep = cursor
            inbox = partial(tasks.inbox, ctx, session, principal)
            results[f"{who}: first page"] = time_it(partial(inbox, None, 20))
            results[f"{who}: page 10"] = time_it(partial(inbox, None, 20, deep))
            results[f"{who}: filtered first page"] = time_it(partial(inbox, filters, 20))
            results[f"{who}: overdue only, first page"] = time_it(partial(inbox, TaskFilter(overdue=True), 20))
            results[f"{who}: counts"] = time_it(partial(tasks.inbox_counts, ctx, session, principal, None))
            results[f"{who}: filter choices"] = time_it(partial(tasks.inbox_choices, ctx, session, principal))
            results[f"{who}: number filter, first page"] = time_it(partial(inbox, TaskFilter(number="bp-2026-000012"),
                                                                           20))
        results["due-timer scan (500)"] = time_it(partial(due_timers, session, NOW, 500))
        applicant = Principal("a1", Role.APPLICANT, id_number="1" * 13)
        application_id = session.exec(select(ApplicationRow.id).where(
            ApplicationRow.tracking_number == "BP-2026-0005000")).one()
        results["status read (applicant)"] = time_it(partial(status.snapshot, ctx, session, applicant,
                                                             application_id))
    return results, counted


@contextmanager
def database(url: str | None, workdir: Path, size: int) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""
    if url is None:
        yield f"sqlite:///{workdir / f'inbox-{size}.db'}"
        return
    with scratch_schema(url, "bench_inbox_") as schema_url:
        yield schema_url


def run(size: int, url: str | None, repeat: int, workdir: Path,
        shape: Template) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Fill a fresh database with `size` parked cases, time the queries, and say what the fill took and stores."""
    with database(url, workdir, size) as database_url:
        db = make_engine(database_url)
        try:
            upgrade_to_head(db)
            engine = build_engine(db, ROOT / "bpmn", LocalObjectStore(workdir / "objects"), FixedClock(),
                                  PublicLinks("http://127.0.0.1:8000"), LogNotificationChannel())
            with Session(db) as session:  # the template's definition, deployed here by build_engine
                assert session.get(ProcessDefinitionRow, shape.rows["workflow_instance"]["spec_hash"]), (
                    f"the template's {LICENCE} is not the deployed one")
            started = time.perf_counter()
            fill(db, size, shape)
            facts: dict[str, Any] = {"fill_seconds": time.perf_counter() - started, **stored_size(db, size)}
            print(f"  filled in {facts['fill_seconds']:.1f} s; workflow document {facts['document_bytes']:,.0f} B "
                  f"({facts['document_stored_bytes']:,.0f} B stored), {facts['bytes_per_case']:,.0f} B per case "
                  "with indexes", file=sys.stderr, flush=True)
            timings, facts["cpu_clock"] = measure(engine, repeat)
            return timings, facts
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
        shape = template(ROOT, Path(tmp))
        timings, facts = {}, {}
        for size in (small, large):
            print(f"filling {size:,} open tasks ...", file=sys.stderr, flush=True)
            timings[size], facts[size] = run(size, args.database_url, args.repeat, Path(tmp), shape)
    database_kind = "postgresql" if args.database_url else "sqlite"
    print(f"\ninbox queries, {database_kind}, median ms of {args.repeat} (officer sees 1/{OFFICES}); "
          f"CPU: {facts[large]['cpu_clock']}")
    print(f"{'query':<36}{'CPU ms':>10}{'':>10}{'ratio':>8}{'wall ms':>10}{'':>10}{'ratio':>8}")
    print(f"{'':<36}{small:>10,}{large:>10,}{'':>8}{small:>10,}{large:>10,}")
    rows = []
    for name in timings[small]:
        row: dict[str, Any] = {"query": name}
        line = f"{name:<36}"
        for clock in ("cpu_ms", "wall_ms"):
            a, b = timings[small][name][clock], timings[large][name][clock]
            row[clock] = {"small": round(a, 3), "large": round(b, 3), "ratio": round(b / a, 2)}
            line += f"{a:>10.2f}{b:>10.2f}{b / a:>7.2f}x"
        rows.append(row)
        print(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"database": database_kind, "sizes": [small, large], "repeat": args.repeat,
                                   "python": platform.python_version(), "machine": platform.machine(),
                                   "stored": {str(size): facts[size] for size in (small, large)},
                                   "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
