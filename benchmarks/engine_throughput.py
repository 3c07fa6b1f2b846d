"""CPU cost of driving one licence case end to end: bare SpiffWorkflow versus the engine.

Runs N instances of the food_premises_notice_small process (document check approved,
consideration approved, fee paid, licence issued) in four variants, in this one process:

1. baseline: bare SpiffWorkflow, in memory, no persistence;
2. bare SpiffWorkflow, with the stock serializer (spec embedded) load/save around every step;
3. the engine's ProcessRuntime: one transaction per command, the JSON document with the spec
   by reference, the projections (human tasks, timers); the two service operators that would
   need application rows answer with canned results;
4. the full use-case path without HTTP: applications.create/submit, tasks.complete twice,
   invoices.record_counter_payment, with engine.dispatch() after every command as the API does
   (the outbox jobs start the process and issue the PDF into a local object store). It is
   reported with and without the CPU spent rendering the PDF, which is measured in place.

Only CPU time of this process (time.process_time) is compared: setup (parsing, migrations,
build_portal) and a warm-up pass are excluded. With --database-url pointing at PostgreSQL the
server's CPU is not counted, only the client's.

    .venv/bin/python benchmarks/engine_throughput.py [--instances N] [--database-url URL] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import platform
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pypdf import PdfWriter
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import bizportal.engine.licences.issuing as issuing
import bizportal.engine.payments.receipts as receipts
from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.api.links import PublicLinks
from bizportal.engine.applications import applications
from bizportal.engine.applications.input import ApplicationInput
from bizportal.engine.assembly import LicensingEngine, build_engine
from bizportal.engine.cases import tasks
from bizportal.engine.cases.tasks import TaskCompletion
from bizportal.engine.clock import SystemClock
from bizportal.engine.deadlines.working_days import add_working_days
from bizportal.engine.payments import invoices
from bizportal.engine.payments.invoices import CounterPaymentInput
from bizportal.engine.principal import Principal, Role
from bizportal.engine.uploads import documents
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.database import make_engine, transaction
from bizportal.storage.local_object_store import LocalObjectStore
from bizportal.storage.migrate import upgrade_to_head
from bizportal.storage.payments import InvoiceRow
from bizportal.storage.workflow_tables import WorkflowInstanceRow, open_tasks

ROOT = Path(__file__).resolve().parents[1]
BPMN_DIR = ROOT / "bpmn"
CODE = "food_premises_notice_small"
BPMN_FILE = BPMN_DIR / CODE / "process.bpmn"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "engine_throughput.json"
LINKS = PublicLinks("http://127.0.0.1:8000")
DEFAULT_INSTANCES = 200
WARM_UP_INSTANCES = 5



def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


FLOOR_PLAN_PDF = _blank_pdf()  # what the applicant uploads in variant 4
APPLICANT = Principal("alice", Role.APPLICANT, id_number="1101700203395")  # the applicant the body names
OFFICER = Principal("olivia", Role.AGENCY_OFFICER, "LAO", "BKK-KHLONG-TOEI")
COUNTER = Principal("carl", Role.COUNTER_OFFICER)
APPLICATION = ApplicationInput.model_validate({
    "licences": [CODE],
    "applicant": {"kind": "individual", "id_number": "1101700203395", "name": "สมหญิง ใจดี"},
    "business": {"name": "ร้านข้าว", "address": "99 Sukhumvit", "province": "Bangkok", "district": "Khlong Toei",
                 "area_m2": 80},
    "form": {CODE: {"premises_kind": "restaurant", "seats": 20}},  # the licence's typed form (its manual's `form`)
})
APPROVE = TaskCompletion(action="approve")
# The wait states a journey passes through, in order; a document is measured at each.
STATES = ("document_check", "under_consideration", "awaiting_payment", "issuing", "issued")


@dataclass
class Measurement:
    key: str
    label: str
    instances: int
    cpu_seconds: float
    wall_seconds: float
    # Per-state document sizes (bytes) of the last instance, where the variant stores documents.
    document_bytes: dict[str, int] = field(default_factory=dict)
    notes: str = ""
    statements: int | None = None  # SQL statements sent while measured (variants on the database)
    commits: int | None = None

    @property
    def statements_per_instance(self) -> float | None:
        return None if self.statements is None else self.statements / self.instances

    @property
    def commits_per_instance(self) -> float | None:
        return None if self.commits is None else self.commits / self.instances

    @property
    def per_cpu_second(self) -> float:
        return self.instances / self.cpu_seconds

    @property
    def cpu_ms_per_instance(self) -> float:
        return 1000 * self.cpu_seconds / self.instances


class StatementCounter:
    """Counts the SQL statements and commits an engine sends (a `before_cursor_execute` listener: a few
    hundred nanoseconds per statement, well under the noise of the CPU figures). SQLite's per-transaction
    PRAGMA and BEGIN IMMEDIATE are statements too, sent by `storage.database`'s begin hook."""

    def __init__(self, db: Engine) -> None:
        self.statements = 0
        self.commits = 0
        event.listen(db, "before_cursor_execute", self._statement)
        event.listen(db, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    @contextmanager
    def into(self, result: Measurement) -> Iterator[None]:
        """Record the statements and commits sent inside the block on `result`."""
        statements, commits = self.statements, self.commits
        yield
        result.statements, result.commits = self.statements - statements, self.commits - commits


@contextmanager
def measured(key: str, label: str, instances: int, out: list[Measurement]) -> Iterator[Measurement]:
    """Time the block's CPU and wall clock; a collection before it keeps earlier garbage out."""
    gc.collect()
    result = Measurement(key, label, instances, 0.0, 0.0)
    wall, cpu = time.perf_counter(), time.process_time()
    yield result
    result.cpu_seconds = time.process_time() - cpu
    result.wall_seconds = time.perf_counter() - wall
    out.append(result)


# --- variants 1 and 2: bare SpiffWorkflow -------------------------------------------------------


class BareServices(PythonScriptEngine):
    """What a bare integration provides: the timer function and canned service results."""

    RESULTS = {
        "create_invoice": {"invoice_id": "00000000-0000-0000-0000-000000000000", "amount_satang": 50000,
                           "due_at": "2099-12-31T16:59:59+00:00"},
        "issue_licence": {"job_id": "00000000-0000-0000-0000-000000000000"},
        "record_overdue": {"overdue": True},
    }

    def __init__(self) -> None:
        # The engine's own working-day calendar, so the timer expressions cost the same everywhere.
        def due_in_working_days(days: int) -> str:
            return add_working_days(datetime.now(UTC), int(days)).isoformat()

        super().__init__(environment=TaskDataEnvironment({"due_in_working_days": due_in_working_days}))

    def call_service(self, task: Any, operation_name: str, operation_params: dict[str, Any], **_: Any) -> str:
        return json.dumps(self.RESULTS[operation_name])


def parse_spec() -> Any:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec(CODE)


def _complete(workflow: BpmnWorkflow, step: str) -> None:
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert task.task_spec.bpmn_id == step, task.task_spec.bpmn_id
    task.data.update({"decision": "approve", "comment": ""})
    task.run()
    workflow.do_engine_steps()


def _send(workflow: BpmnWorkflow, name: str, payload: Mapping[str, Any]) -> None:
    # Event definitions match by class: it must be the spiff one the parser created.
    workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=dict(payload)))
    workflow.do_engine_steps()


# The journey as steps after the start, each bringing the instance to the next state in STATES.
BARE_STEPS: tuple[Callable[[BpmnWorkflow], None], ...] = (
    lambda wf: _complete(wf, "document_check"),
    lambda wf: _complete(wf, "consideration"),
    lambda wf: _send(wf, "payment_received", {"invoice_id": "inv", "amount_satang": 50000}),
    lambda wf: _send(wf, "licence_issued", {"licence_number": "LAO-2569-000001"}),
)


def bare_instance(spec: Any) -> None:
    workflow = BpmnWorkflow(spec, script_engine=BareServices())
    workflow.do_engine_steps()
    for step in BARE_STEPS:
        step(workflow)
    assert workflow.is_completed() and workflow.data["licence"], "the bare journey did not finish"


def serialized_instance(spec: Any, serializer: BpmnWorkflowSerializer) -> dict[str, int]:
    """The bare journey as a naive engine persists it: load, move and save at every step."""
    services = BareServices()
    workflow = BpmnWorkflow(spec, script_engine=services)
    workflow.do_engine_steps()
    document = serializer.serialize_json(workflow)
    sizes = {STATES[0]: len(document.encode("utf-8"))}
    for state, step in zip(STATES[1:], BARE_STEPS, strict=True):
        workflow = serializer.deserialize_json(document)
        workflow.script_engine = services  # a restored workflow comes back with a default engine
        step(workflow)
        document = serializer.serialize_json(workflow)
        sizes[state] = len(document.encode("utf-8"))
    final = serializer.deserialize_json(document)
    assert final.is_completed() and final.data["licence"], "the serialized journey did not finish"
    return sizes


# --- variant 3: the engine's ProcessRuntime ----------------------------------------------------


def use_canned_operators(engine: LicensingEngine) -> None:
    """Replace the operators that look up application rows; the runtime itself is untouched."""
    runtime = engine.ctx.runtime
    runtime.operators["create_invoice"] = lambda ctx, session, instance, call: {
        "invoice_id": str(uuid.uuid4()), "amount_satang": 50000, "due_at": "2099-12-31T16:59:59+00:00"}
    runtime.operators["issue_licence"] = lambda ctx, session, instance, call: {"job_id": str(uuid.uuid4())}


def _open_task_id(session: Session, instance_id: str | None) -> str:
    """The driver's look-up of the task to complete (a client gets it from its inbox listing)."""
    assert instance_id is not None  # the case's process has started
    (task,) = open_tasks(session, instance_id)
    return task.id


def runtime_instance(engine: LicensingEngine) -> dict[str, int]:
    runtime, db = engine.ctx.runtime, engine.db
    rows: list[WorkflowInstanceRow] = []
    with transaction(db) as session:
        rows.append(runtime.start(session, CODE, context={"agency": "LAO", "licence": CODE}))
    instance_id = rows[0].id
    for _ in ("document_check", "consideration"):
        with transaction(db) as session:
            task_id = _open_task_id(session, instance_id)
            rows.append(runtime.complete_task(session, task_id, "approve", "", OFFICER.label).instance)
    with transaction(db) as session:
        rows.append(runtime.send_message(session, instance_id, "payment_received",
                                         {"invoice_id": "inv", "amount_satang": 50000}))
    with transaction(db) as session:
        rows.append(runtime.send_message(session, instance_id, "licence_issued", {"licence_number": "LAO-2569-0"}))
    # The rows carry the document each command wrote; reading them costs nothing extra.
    assert [row.status for row in rows] == list(STATES), [row.status for row in rows]
    return {row.status: len(row.document.encode("utf-8")) for row in rows}


# --- variant 4: the use cases as the API calls them ----------------------------------------------


def _command(engine: LicensingEngine, action: Callable[[Session], Any]) -> Any:
    """One API command: a transaction, then the dispatch of what it queued (the API's `command`)."""
    with transaction(engine.db) as session:
        result = action(session)
    engine.dispatch()
    return result


def use_case_instance(engine: LicensingEngine) -> None:
    ctx = engine.ctx
    application_id = _command(engine, lambda s: applications.create(ctx, s, APPLICANT, APPLICATION)[0].id)
    # The one document the applicant uploads (the others are looked up), then the submit.
    _command(engine, lambda s: documents.upload(ctx, s, APPLICANT, application_id, "premises_map_and_floor_plan",
                                                "plan.pdf", io.BytesIO(FLOOR_PLAN_PDF)))
    _command(engine, lambda s: applications.submit(ctx, s, APPLICANT, application_id))  # dispatch starts it
    case_instance = select(LicenceCaseRow.instance_id).where(LicenceCaseRow.application_id == application_id)
    for _ in ("document_check", "consideration"):
        _command(engine, lambda s: tasks.complete(
            ctx, s, OFFICER, _open_task_id(s, s.exec(case_instance).one()), APPROVE))

    def pay(session: Session) -> None:
        invoice = session.exec(select(InvoiceRow).where(InvoiceRow.application_id == application_id)).one()
        invoices.record_counter_payment(ctx, session, COUNTER, invoice.id,
                                        CounterPaymentInput(amount_satang=invoice.amount_satang))

    _command(engine, pay)  # its dispatch runs the issuing job: number, PDF, store, licence_issued


# Each instance renders two PDFs: the e-licence (issuing job) and the counter payment's e-receipt (receipt job).
PDF_RENDERERS = ((issuing, "render_licence_pdf"), (receipts, "render_receipt_pdf"))


@contextmanager
def replaced_renderers(wrap: Callable[[Callable[[Any], bytes]], Callable[[Any], bytes]]) -> Iterator[None]:
    """Install `wrap(real)` in place of every PDF renderer the jobs call, and put the real ones back."""
    reals = [(module, name, getattr(module, name)) for module, name in PDF_RENDERERS]
    for module, name, real in reals:
        setattr(module, name, wrap(real))
    try:
        yield
    finally:
        for module, name, real in reals:
            setattr(module, name, real)


class RenderMeter:
    """Counts the CPU spent inside the PDF renderers (licence and receipt) while installed."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0
        self.calls = 0

    @contextmanager
    def installed(self) -> Iterator[RenderMeter]:
        def wrap(real: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
            def timed(document: Any) -> bytes:
                start = time.process_time()
                try:
                    return real(document)
                finally:
                    self.cpu_seconds += time.process_time() - start
                    self.calls += 1
            return timed

        with replaced_renderers(wrap):
            yield self


# --- running ----------------------------------------------------------------------------------


def count(db: Engine, query: Any) -> int:
    with Session(db) as session:
        return session.exec(query).one()


def redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    return f"{scheme}{sep}{credentials.split(':')[0]}:***@{host}"


def run(instances: int, database_url: str | None, workdir: Path) -> tuple[list[Measurement], LicensingEngine]:
    results: list[Measurement] = []

    # 1. baseline
    spec = parse_spec()
    for _ in range(WARM_UP_INSTANCES):
        bare_instance(spec)
    with measured("bare", "1 bare SpiffWorkflow (in memory)", instances, results):
        for _ in range(instances):
            bare_instance(spec)

    # 2. naive persistence
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    for _ in range(WARM_UP_INSTANCES):
        serialized_instance(spec, serializer)
    with measured("bare_serialized", "2 bare + stock serializer per step", instances, results) as m:
        for _ in range(instances):
            m.document_bytes = serialized_instance(spec, serializer)
    m.notes = "spec embedded; JSON loaded and saved around each of the 4 steps after the start"

    # 3 and 4 share one database: a fresh SQLite file unless a URL is given.
    db = make_engine(database_url or f"sqlite:///{workdir / 'bizportal.db'}")
    upgrade_to_head(db)
    store = LocalObjectStore(workdir / "objects")
    counter = StatementCounter(db)

    runtime_portal = build_engine(db, BPMN_DIR, store, SystemClock(), LINKS, LogNotificationChannel())
    use_canned_operators(runtime_portal)
    for _ in range(WARM_UP_INSTANCES):
        runtime_instance(runtime_portal)
    with measured("runtime", "3 engine ProcessRuntime + DB", instances, results) as m, counter.into(m):
        for _ in range(instances):
            m.document_bytes = runtime_instance(runtime_portal)
    m.notes = "5 transactions; create_invoice/issue_licence operators answered with canned results"
    finished = count(db, select(func.count()).select_from(WorkflowInstanceRow)
                     .where(WorkflowInstanceRow.status == "issued", WorkflowInstanceRow.completed))
    assert finished >= instances + WARM_UP_INSTANCES, f"only {finished} runtime instances were issued"

    engine = build_engine(db, BPMN_DIR, store, SystemClock(), LINKS, LogNotificationChannel())
    for _ in range(WARM_UP_INSTANCES):
        use_case_instance(engine)
    meter = RenderMeter()
    with (meter.installed(), measured("use_cases", "4 full use-case path (no HTTP)", instances, results) as m,
          counter.into(m)):
        for _ in range(instances):
            use_case_instance(engine)
    m.notes = "5 commands + dispatch each; PDF rendered and stored"
    assert meter.calls == 2 * instances, f"{meter.calls} PDFs rendered for {instances} instances (licence, receipt)"
    issued = count(db, select(func.count()).select_from(ApplicationRow).where(ApplicationRow.status == "issued"))
    assert issued >= instances + WARM_UP_INSTANCES, f"only {issued} applications were issued"
    results.append(Measurement("use_cases_without_pdf", "4 minus PDF rendering", instances,
                               m.cpu_seconds - meter.cpu_seconds, m.wall_seconds - meter.cpu_seconds,
                               notes="variant 4 less the CPU measured inside the licence and receipt renderers "
                                     "(wall less that CPU: an estimate)"))
    results.append(Measurement("pdf_rendering", "   PDF rendering alone", instances, meter.cpu_seconds,
                               meter.cpu_seconds,
                               notes="CPU inside the licence and receipt renderers during variant 4"))
    return results, engine


@contextmanager
def precomputed_pdf() -> Iterator[None]:
    """Render the first PDF of each kind for real, then hand out its bytes plus the document's number (still
    unique content, so the store writes every one): what is left in a profile is the engine's own path."""

    def wrap(real: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
        rendered: list[bytes] = []

        def cached(document: Any) -> bytes:
            if not rendered:
                rendered.append(real(document))
            number = getattr(document, "licence_number", None) or document.receipt_number
            return rendered[0] + f"\n% {number}\n".encode()
        return cached

    with replaced_renderers(wrap):
        yield


def profile_use_cases(engine: LicensingEngine, instances: int, top: int = 15) -> dict[str, Any]:
    """cProfile variant 4 without the PDF rendering (measured above): the engine's own functions by
    cumulative time, and all functions by own time."""
    profiler = cProfile.Profile()
    with precomputed_pdf():
        use_case_instance(engine)  # the real rendering happens here, outside the profile
        profiler.enable()
        for _ in range(instances):
            use_case_instance(engine)
        profiler.disable()
    stats = pstats.Stats(profiler)
    # The strict editable install runs the packages from build/ (links to the sources).
    installed = next((ROOT / "build").glob("__editable__.bizportal-*/bizportal"), ROOT)
    own_code = tuple(str(base / folder) for base in (ROOT, installed) for folder in ("engine", "storage"))
    rows = [(file, line, name, calls, own, cumulative)
            for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items()]  # type: ignore[attr-defined]

    def describe(row: tuple[str, int, str, int, float, float]) -> dict[str, Any]:
        file, line, name, calls, own, cumulative = row
        where = file[len(str(ROOT)) + 1:] if file.startswith(str(ROOT)) else file.split("site-packages/")[-1]
        return {"function": f"{where}:{line}({name})", "calls": calls,
                "own_ms_per_instance": round(1000 * own / instances, 3),
                "cumulative_ms_per_instance": round(1000 * cumulative / instances, 3)}

    engine_rows = sorted((r for r in rows if r[0].startswith(own_code)), key=lambda r: -r[5])[:top]
    all_rows = sorted(rows, key=lambda r: -r[4])[:top]
    return {"instances": instances, "engine_by_cumulative": [describe(r) for r in engine_rows],
            "all_by_own_time": [describe(r) for r in all_rows]}


def print_table(results: list[Measurement]) -> None:
    baseline = results[0]
    print(f"\n{'variant':<38} {'CPU s':>8} {'wall s':>8} {'CPU ms/inst':>12} {'inst/CPU-s':>11} {'x baseline':>11}")
    print("-" * 92)
    for m in results:
        ratio = m.cpu_seconds / baseline.cpu_seconds
        print(f"{m.label:<38} {m.cpu_seconds:>8.2f} {m.wall_seconds:>8.2f} {m.cpu_ms_per_instance:>12.2f} "
              f"{m.per_cpu_second:>11.1f} {ratio:>10.1f}x")
    print("x baseline = CPU per instance relative to variant 1 (higher = more expensive).")
    counted = [m for m in results if m.statements is not None]
    if counted:
        print("\nSQL per instance (statements sent, commits)")
        for m in counted:
            print(f"  {m.label:<38} {m.statements_per_instance:>8.1f} {m.commits_per_instance:>6.1f}")


def document_sizes(results: list[Measurement]) -> dict[str, Any]:
    full = next(m for m in results if m.key == "bare_serialized").document_bytes
    by_reference = next(m for m in results if m.key == "runtime").document_bytes
    waits = STATES[:-1]
    largest_full, largest_ref = max(full[s] for s in waits), max(by_reference[s] for s in waits)
    print("\nStored JSON document per instance (bytes)")
    print(f"{'state':<22} {'stock, spec embedded':>21} {'engine, by reference':>21} {'ratio':>6}")
    for state in STATES:
        print(f"{state:<22} {full[state]:>21,} {by_reference[state]:>21,} {full[state] / by_reference[state]:>6.2f}")
    print(f"{'largest wait state':<22} {largest_full:>21,} {largest_ref:>21,} {largest_full / largest_ref:>6.2f}")
    return {"stock_spec_embedded": full, "engine_by_reference": by_reference,
            "largest_wait_state": {"stock_spec_embedded": largest_full, "engine_by_reference": largest_ref}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="instances per variant")
    parser.add_argument("--database-url", help="PostgreSQL URL for variants 3 and 4 (default: a temporary SQLite)")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, cProfile variant 4 (PDF rendering excluded) on min(N, 50) more instances")
    args = parser.parse_args(argv)
    if args.instances < 1:
        parser.error("--instances must be at least 1")

    meta = {
        "python": sys.version.split()[0],
        "spiffworkflow": metadata.version("SpiffWorkflow"),
        "sqlalchemy": metadata.version("SQLAlchemy"),
        "platform": platform.platform(),
        "instances": args.instances,
        "warm_up_instances": WARM_UP_INSTANCES,
        "database": redacted(args.database_url) if args.database_url else "sqlite (temporary file)",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"Python {meta['python']}, SpiffWorkflow {meta['spiffworkflow']}, SQLAlchemy {meta['sqlalchemy']}")
    print(f"{meta['platform']}; database: {meta['database']}")
    print(f"{CODE}: {args.instances} instances per variant after {WARM_UP_INSTANCES} warm-up instances")

    with tempfile.TemporaryDirectory(prefix="bizportal-bench-") as tmp:
        results, engine = run(args.instances, args.database_url, Path(tmp))
        print_table(results)
        sizes = document_sizes(results)
        profile = None
        if args.profile:
            profile = profile_use_cases(engine, min(args.instances, 50))
            print(f"\ncProfile of variant 4 without PDF rendering ({profile['instances']} instances), "
                  "engine code by cumulative time")
            for row in profile["engine_by_cumulative"]:
                print(f"  {row['cumulative_ms_per_instance']:>8.2f} ms/inst  {row['calls']:>6} calls  "
                      f"{row['function']}")
            print("all code by own time")
            for row in profile["all_by_own_time"]:
                print(f"  {row['own_ms_per_instance']:>8.2f} ms/inst  {row['calls']:>6} calls  {row['function']}")
        engine.db.dispose()

    baseline = results[0].cpu_seconds
    report = {
        "meta": meta,
        "variants": [{**asdict(m), "cpu_ms_per_instance": round(m.cpu_ms_per_instance, 3),
                      "instances_per_cpu_second": round(m.per_cpu_second, 2),
                      "cpu_ratio_to_baseline": round(m.cpu_seconds / baseline, 3),
                      "statements_per_instance": m.statements_per_instance,
                      "commits_per_instance": m.commits_per_instance} for m in results],
        "document_bytes": sizes,
        "profile": profile,
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
