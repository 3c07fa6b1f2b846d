"""Assembles the engine from its parts. The composition roots (HTTP app, worker) call `build_engine`
with concrete adapters, links and settings values; nothing below reads configuration or picks an adapter.

The BPMN service operators and the outbox jobs are two typed tables of plain functions that take the
engine's context as their first parameter: the runtime and the outbox pass it when they call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bizportal.adapters.notifications.base import NotificationChannel
from bizportal.adapters.registries.base import RegistryLookup
from bizportal.adapters.scanners.base import DocumentScanner
from bizportal.engine.cases.agency_adapters import AgencyAdapters
from bizportal.engine.cases.agency_delivery import DELIVER_TASK, deliver_task_job, on_tasks_opened
from bizportal.engine.cases.case import record_overdue, start_case_job
from bizportal.engine.cases.kinds import LIFECYCLE_PROCESSES
from bizportal.engine.cases.timer_scan import fire_due_timers
from bizportal.engine.catalogue.catalogue import load_catalogue
from bizportal.engine.catalogue.finder import Finder, load_finder
from bizportal.engine.catalogue.offices import load_offices
from bizportal.engine.clock import Clock
from bizportal.engine.context import EngineContext
from bizportal.engine.deadlines.statutory_clock import fire_section10
from bizportal.engine.documents.signing import LicenceSigning
from bizportal.engine.errors import DefinitionError
from bizportal.engine.licences.cancellation import cancel_licence
from bizportal.engine.licences.issuing import RENDER_LICENCE, issue_licence_job, render_licence_job, request_issue
from bizportal.engine.licences.renewal_reminders import send_due_reminders
from bizportal.engine.links import Links
from bizportal.engine.notices.notifier import SEND_JOB, notify, send_notification_job
from bizportal.engine.outbox import (
    DEFAULT_STALE_AFTER,
    InProcessQueue,
    Job,
    JobQueue,
    Outbox,
    dispatch_committed,
    dispatch_pending,
)
from bizportal.engine.payments.invoices import create_invoice, expire_invoice, settle_waived_invoice_job
from bizportal.engine.payments.providers import PaymentProviders
from bizportal.engine.payments.receipts import ISSUE_RECEIPT, RENDER_RECEIPT, issue_receipt_job, render_receipt_job
from bizportal.engine.payments.refunds import REFUND_JOB, refund_payment_job
from bizportal.engine.uploads import retention
from bizportal.engine.uploads.limits import UploadLimits
from bizportal.engine.workflow.definitions import DefinitionRegistry
from bizportal.engine.workflow.runtime import Operator, ProcessRuntime
from bizportal.storage.database import transaction
from bizportal.storage.object_store import ObjectStore

# The service operators BPMN files may call (`serviceTaskOperator id=...`); definitions naming another are refused.
OPERATORS: dict[str, Operator] = {
    "create_invoice": create_invoice,
    "expire_invoice": expire_invoice,
    "issue_licence": request_issue,
    "record_overdue": record_overdue,
    "cancel_licence": cancel_licence,
}


def send_notification(ctx: EngineContext, session: Session, payload: Mapping[str, Any]) -> None:
    """Job: send one stored notification through the context's channel."""
    send_notification_job(ctx.notifications, session, payload, clock=ctx.clock)


# The outbox jobs by the name their rows carry.
JOBS: dict[str, Job] = {
    "start_licence_case": start_case_job,
    "issue_licence": issue_licence_job,
    RENDER_LICENCE: render_licence_job,
    "settle_waived_invoice": settle_waived_invoice_job,
    SEND_JOB: send_notification,
    DELIVER_TASK: deliver_task_job,
    ISSUE_RECEIPT: issue_receipt_job,
    RENDER_RECEIPT: render_receipt_job,
    REFUND_JOB: refund_payment_job,
}


@dataclass
class LicensingEngine:
    """The running engine: use cases take `ctx`; jobs run through `outbox`; `queue` runs them."""

    db: Engine
    ctx: EngineContext
    definitions: DefinitionRegistry
    outbox: Outbox
    queue: JobQueue
    finder: Finder
    opdc_email: str | None = None  # every Section 10 notice is copied to OPDC

    def dispatch(self) -> int:
        """Hand committed side effects to the job queue (call after every committing command): the rows this
        process committed, and those a poll of the table finds when there is reason to poll (outbox.py)."""
        return dispatch_committed(self.outbox, self.queue)

    def dispatch_pending(self) -> int:
        """Poll the table and hand the queue every row pending and due, or dispatched and lost (outbox.py): the
        workers' sweep."""
        return dispatch_pending(self.outbox, self.queue)

    def fire_due_timers_and_notices(self) -> int:
        """The periodic sweep's work: fire the due BPMN timers, send the due Section 10 notices and renewal
        reminders, and delete the documents past their retention; returns how many of all four."""
        fired = fire_due_timers(self.ctx, self.db)
        with transaction(self.db) as session:
            fired += fire_section10(session, self.ctx.clock, notify, self.ctx.clock.now(),
                                    catalogue=self.ctx.catalogue, opdc_email=self.opdc_email,
                                    application_url=self.ctx.links.application)
        with transaction(self.db) as session:
            fired += send_due_reminders(self.ctx, session, notify)
        with transaction(self.db) as session:
            purged = retention.purge_expired_documents(self.ctx, session)
        if purged:  # committed: now the bytes no record uses any more
            with transaction(self.db) as session:
                fired += retention.delete_unused(self.ctx, session, purged)
        return fired


def build_engine(db: Engine, bpmn_dir: Path, object_store: ObjectStore, clock: Clock, links: Links,
                 channel: NotificationChannel, queue: JobQueue | None = None, registry: RegistryLookup | None = None,
                 opdc_email: str | None = None,
                 agency_adapters: Callable[[Iterable[str]], AgencyAdapters] | None = None,
                 payments: PaymentProviders | None = None, signing: LicenceSigning | None = None,
                 scanner: DocumentScanner | None = None, upload_limits: UploadLimits | None = None,
                 lost_job_after: timedelta = DEFAULT_STALE_AFTER) -> LicensingEngine:
    """Load and validate every definition, record them, and wire the use cases together.

    Args:
        links: the addresses notices, documents and deliveries carry (built by the api).
        channel: how notifications are sent (chosen by the composition root: e-mail, or the log).
        agency_adapters: builds the adapter of every agency from the catalogue's agency codes
            (default: every agency works in the inbox).
        scanner: asked about every uploaded document (default: none, every document that passes the checks of
            engine/uploads/content.py is accepted).
        upload_limits: the limits of uploaded documents (default: those of engine/uploads/limits.py).
        lost_job_after: a job dispatched this long ago and not finished is dispatched again (longer than the
            workers' job timeout).

    Raises:
        DefinitionError: a BPMN or manual file is unusable (the message names file and element).
        StartupError: an agency adapter is missing or broken (the message names agency and adapter).
    """
    definitions = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS, operators=OPERATORS)
    definitions.load_directory(bpmn_dir)
    catalogue = load_catalogue(bpmn_dir)
    # Every licence has its process, and renewals, amendments and cancellations theirs (bpmn/lifecycle/).
    missing = sorted((set(catalogue.licences) | set(LIFECYCLE_PROCESSES.values()))
                     - {d.process_id for d in definitions.processes()})
    if missing:
        raise DefinitionError(f"licences or lifecycle requests without a process: {', '.join(missing)}")
    offices = load_offices(bpmn_dir / "offices.yaml", catalogue.agencies.keys())
    finder = load_finder(bpmn_dir / "finder", set(catalogue.licences),
                         {code: m.prerequisites for code, m in catalogue.licences.items()},
                         sub_types={code: [s.code for s in m.sub_types] for code, m in catalogue.licences.items()
                                    if m.sub_types})
    agencies = agency_adapters(catalogue.agencies.keys()) if agency_adapters else AgencyAdapters()
    runtime = ProcessRuntime(definitions, clock, OPERATORS, on_tasks_opened=on_tasks_opened)
    ctx = EngineContext(catalogue=catalogue, runtime=runtime, clock=clock, object_store=object_store,
                        offices=offices, links=links, notifications=channel, payments=payments or PaymentProviders(),
                        registry=registry, agencies=agencies, signing=signing, scanner=scanner,
                        upload_limits=upload_limits)
    runtime.bind(ctx)
    outbox = Outbox(db, clock, JOBS, ctx, stale_after=lost_job_after)
    with transaction(db) as session:
        definitions.record(session)
    return LicensingEngine(db=db, ctx=ctx, definitions=definitions, outbox=outbox,
                           queue=queue or InProcessQueue(outbox), finder=finder, opdc_email=opdc_email)
