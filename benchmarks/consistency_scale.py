"""How long the invariants checker (engine/reporting/consistency.py, `bizportal check`) takes at scale.

A fresh database is filled directly with SQL (one INSERT ... SELECT per table over a generated series, no API) with
N cases in the shapes a run leaves: half issued (paid at a counter: invoice, payment, receipt, licence), a fifth
awaiting payment (an open invoice, a waiting payment timer), the rest in consideration (an open task); each with
the audit entries, done outbox jobs and sent notifications the engine records for those steps (about 8 audit
entries, 3 jobs and 1-2 notifications a case). Then `check_consistency` runs (median of --repeat runs after a
warm-up), and each invariant alone; the check must find nothing (a violation here is a false alarm).

    .venv/bin/python benchmarks/consistency_scale.py [--cases 100000] [--repeat 3] [--database-url URL]

Without a URL: a SQLite file in a temporary folder. With a PostgreSQL URL: a schema of its own, dropped afterwards
(storage/scratch_schema.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bizportal.engine.reporting import consistency
from bizportal.storage.database import make_engine, read_session
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.scratch_schema import scratch_schema

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
# i % 10 picks the shape: 0-4 issued, 5-6 awaiting payment, 7-9 in consideration.
_STATUS = ("CASE WHEN i % 10 < 5 THEN 'issued' WHEN i % 10 < 7 THEN 'awaiting_payment' "
           "ELSE 'under_consideration' END")


def _fill_sql(json: Callable[[str], str]) -> list[str]:
    """The INSERTs, over `s(i)` (1..:n); `json` wraps a text expression into the JSON column's type."""
    issued, unpaid, pending, invoiced = "i % 10 < 5", "i % 10 IN (5, 6)", "i % 10 >= 7", "i % 10 < 7"
    paid_fields = "'p' || i, 'a' || i, 100000, 'THB'"
    no_object, no_list = json("'{}'"), json("'[]'")
    return [
        "INSERT INTO process_definition (spec_hash, process_id, source_name, bpmn_xml, deployed_at) "
        "VALUES ('spec', 'licence', 'licence.bpmn', '<definitions/>', :now)",
        "INSERT INTO application (id, owner, created_by, created_by_role, applicant_kind, applicant_id_number, "
        "applicant_name, business_name, business_address, business_province, business_area_m2, form, status, "
        "tracking_number, created_at, updated_at, submitted_at) SELECT 'a' || i, 'o' || (i % 5000), 'u', "
        f"'applicant', 'individual', '1101700203395', 'name', 'shop', 'addr', 'Bangkok', 80, {no_object}, "
        f"{_STATUS}, 'BP-' || i, :now, :now, :now FROM s",
        "INSERT INTO workflow_instance (id, spec_hash, process_id, document, completed, status, waiting_messages, "
        f"context, version, created_at, updated_at) SELECT 'w' || i, 'spec', 'licence', '{{}}', {issued}, "
        f"{_STATUS}, '', {no_object}, 1, :now, :now FROM s",
        "INSERT INTO licence_case (id, application_id, licence_code, agency, instance_id, status, updated_at, kind) "
        f"SELECT 'c' || i, 'a' || i, 'shop', 'LAO', 'w' || i, {_STATUS}, :now, 'new' FROM s",
        "INSERT INTO case_clock (case_id, started_at, budget_working_days, paused_working_days, due_at, notices_sent, "
        f"decided_at) SELECT 'c' || i, :now, 30, 0, :later, 0, CASE WHEN {invoiced} THEN :now END FROM s",
        # Tasks: document_check done by every case; consideration done (issued, unpaid) or open (pending).
        "INSERT INTO human_task (id, instance_id, step, title, lane, actions, state, overdue, opened_at) "
        "SELECT 't1-' || i, 'w' || i, 'document_check', 'check', 'agency', 'approve', 'completed', false, :now "
        "FROM s",
        "INSERT INTO human_task (id, instance_id, step, title, lane, actions, state, overdue, opened_at) "
        f"SELECT 't2-' || i, 'w' || i, 'consideration', 'consider', 'agency', 'approve', CASE WHEN {pending} "
        "THEN 'open' ELSE 'completed' END, false, :now FROM s",
        f"INSERT INTO workflow_timer (id, instance_id, due_at, state) SELECT 'tm' || i, 'w' || i, :later, "
        f"'waiting' FROM s WHERE {unpaid}",
        "INSERT INTO invoice (id, application_id, licence_case_id, agency, amount_satang, currency, status, "
        f"created_at, due_at, paid_at) SELECT 'v' || i, 'a' || i, 'c' || i, 'LAO', 100000, 'THB', CASE WHEN "
        f"{issued} THEN 'paid' ELSE 'open' END, :now, :later, CASE WHEN {issued} THEN :now END FROM s "
        f"WHERE {invoiced}",
        "INSERT INTO payment (id, invoice_id, provider, amount_satang, currency, recorded_by, created_at) "
        f"SELECT 'p' || i, 'v' || i, 'counter', 100000, 'THB', 'carl', :now FROM s WHERE {issued}",
        "INSERT INTO receipt (number, source, payment_id, application_id, amount_satang, currency, pdf_key, "
        f"pdf_sha256, pdf_size, issued_at) SELECT 'R' || i, 'counter', {paid_fields}, 'k', 'h', 1, :now FROM s "
        f"WHERE {issued}",
        "INSERT INTO issued_licence (number, licence_case_id, application_id, licence_code, agency, holder_name, "
        "holder_id_number, business_name, issued_on, status, pdf_key, pdf_sha256, pdf_size, created_at) "
        "SELECT 'L' || i, 'c' || i, 'a' || i, 'shop', 'LAO', 'name', '1101700203395', 'shop', :day, 'valid', "
        f"'k', 'h', 1, :now FROM s WHERE {issued}",
        *(f"INSERT INTO audit_event (application_id, at, actor, actor_role, event, detail) SELECT 'a' || i, :now, "
          f"'system', 'system', '{event}', {json(detail)} FROM s WHERE {where}" for event, detail, where in (
              ("application.submitted", "'{}'", "1 = 1"),
              ("licence.status_changed", """'{"licence": "shop", "to": "' || """ + _STATUS + """ || '"}'""", "1 = 1"),
              ("task.completed", """'{"licence": "shop", "step": "document_check"}'""", "1 = 1"),
              ("task.completed", """'{"licence": "shop", "step": "consideration"}'""", invoiced),
              ("invoice.created", """'{"licence": "shop", "invoice_id": "v' || i || '"}'""", invoiced),
              ("payment.recorded", """'{"licence": "shop", "invoice_id": "v' || i || '"}'""", issued),
              ("receipt.issued", """'{"receipt_number": "R' || i || '"}'""", issued),
              ("licence.issued", """'{"licence": "shop", "licence_number": "L' || i || '"}'""", issued))),
        *(f"INSERT INTO outbox (id, job, payload, state, attempts, created_at, available_at, done_at) SELECT "
          f"'{job}-' || i, '{job}', {json(payload)}, 'done', 1, :now, :now, :now FROM s WHERE {where}"
          for job, payload, where in (
              ("start_licence_case", """'{"case_id": "c' || i || '"}'""", "1 = 1"),
              ("issue_licence", """'{"case_id": "c' || i || '"}'""", issued),
              ("send_notification", """'{"notification_id": "n' || i || '"}'""", invoiced))),
        "INSERT INTO notification (id, application_id, event, lang, channel, recipients, cc, subject, body, links, "
        f"state, attempts, outbox_id, created_at) SELECT 'n' || i, 'a' || i, 'status', 'th', 'email', "
        f"{no_list}, {no_list}, 'subject', 'body ' || i, {no_list}, 'sent', 1, 'send_notification-' || i, :now "
        f"FROM s WHERE {invoiced}",
    ]


def fill(db: Engine, cases: int) -> None:
    """N cases in one transaction; each INSERT reads the series from a recursive CTE (SQLite and PostgreSQL)."""
    postgres = db.dialect.name == "postgresql"

    def json(expression: str) -> str:
        return f"CAST({expression} AS json)" if postgres else expression

    params = {"n": cases, "now": NOW, "later": NOW + timedelta(days=30), "day": NOW.date()}
    series = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
    with db.begin() as connection:
        for statement in _fill_sql(json):
            if statement.startswith("INSERT INTO") and " FROM s" in statement:
                columns, _, select = statement.partition(") SELECT ")
                connection.execute(text(f"{columns}) {series}SELECT {select}"), params)
            else:
                connection.execute(text(statement), params)
    with db.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def _all(check: Callable[[Session, datetime], Iterable[consistency.Violation]], session: Session) -> list[Any]:
    return list(check(session, NOW))


def timed(run: Callable[[], Any], repeat: int) -> float:
    """Median wall-clock seconds of `run` after a warm-up call."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'scale.db'}"
    else:
        with scratch_schema(url, "consistency_") as scratch:
            yield scratch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a scratch schema); default a SQLite file")
    args = parser.parse_args()
    with database(args.database_url) as url:
        db = make_engine(url)
        upgrade_to_head(db)
        started = time.perf_counter()
        fill(db, args.cases)
        print(f"{db.dialect.name}: {args.cases:,} cases filled in {time.perf_counter() - started:.1f} s")
        with read_session(db) as session:
            violations = consistency.check_consistency(session, NOW)
            for violation in violations[:10]:
                print(f"  {violation}")
            checks: dict[str, Callable[[], object]] = {
                "all invariants": partial(consistency.check_consistency, session, NOW)}
            for name in ("one_licence", "one_receipt", "charged_once", "payment_recorded", "outbox_ended",
                         "notification_once", "not_stuck", "audit_complete"):
                checks[name] = partial(_all, getattr(consistency, name), session)
            for name, run in checks.items():
                print(f"  {name:<20} {timed(run, args.repeat):7.2f} s")
        db.dispose()
    if violations:
        print(f"{len(violations)} violations on a consistent database: false alarms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
