"""Assembles the engine from its parts. The composition roots (HTTP app, worker) call `build_portal`
with concrete adapters and settings values; nothing below reads configuration itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy.engine import Engine

from bizportal.adapters.notifications.base import NotificationChannel
from bizportal.adapters.notifications.log import LogNotificationChannel
from bizportal.adapters.registries.base import RegistryLookup
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
from bizportal.engine.licences.issuing import issue_licence_job, request_issue
from bizportal.engine.licences.renewal_reminders import send_due_reminders
from bizportal.engine.notices.notifier import SEND_JOB, notify, send_notification_job
from bizportal.engine.outbox import InProcessQueue, JobQueue, Outbox, dispatch_pending
from bizportal.engine.payments.invoices import create_invoice, expire_invoice, settle_waived_invoice_job
from bizportal.engine.payments.providers import PaymentProviders
from bizportal.engine.payments.receipts import ISSUE_RECEIPT, issue_receipt_job
from bizportal.engine.payments.refunds import REFUND_JOB, refund_payment_job
from bizportal.engine.workflow.definitions import DefinitionRegistry
from bizportal.engine.workflow.runtime import ProcessRuntime
from bizportal.storage.database import transaction
from bizportal.storage.object_store import ObjectStore


@dataclass
class LicensingEngine:
    """The running engine: use cases take `ctx`; jobs run through `outbox`; `queue` runs them."""

    db: Engine
    ctx: EngineContext
    definitions: DefinitionRegistry
    outbox: Outbox
    queue: JobQueue
    finder: Finder
    opdc_email: str | None = None
    payments: PaymentProviders = field(default_factory=PaymentProviders)  # every Section 10 notice is copied to OPDC

    def dispatch(self) -> int:
        """Hand committed side effects to the job queue (call after every committing command)."""
        return dispatch_pending(self.outbox, self.queue)

    def fire_due_timers(self) -> int:
        """Fire the due BPMN timers, then send the due Section 10 notices and renewal reminders; returns how
        many of all three."""
        fired = fire_due_timers(self.ctx, self.db)
        with transaction(self.db) as session:
            fired += fire_section10(session, self.ctx.clock, notify, self.ctx.clock.now(),
                                    catalogue=self.ctx.catalogue, opdc_email=self.opdc_email,
                                    application_url=self.application_url)
        with transaction(self.db) as session:
            fired += send_due_reminders(self.ctx, session, notify)
        return fired

    def application_url(self, application_id: str) -> str:
        return f"{self.ctx.public_base_url.rstrip('/')}/api/v1/applications/{application_id}"


def build_engine(db: Engine, bpmn_dir: Path, object_store: ObjectStore, clock: Clock, public_base_url: str,
                 queue: JobQueue | None = None, registry: RegistryLookup | None = None,
                 channel: NotificationChannel | None = None, opdc_email: str | None = None,
                 agency_adapters: Callable[[Iterable[str]], AgencyAdapters] | None = None,
                 payments: PaymentProviders | None = None, signing: LicenceSigning | None = None) -> LicensingEngine:
    """Load and validate every definition, record them, and wire the use cases together.

    Args:
        agency_adapters: builds the adapter of every agency from the catalogue's agency codes
            (default: every agency works in the inbox).

    Raises:
        DefinitionError: a BPMN or manual file is unusable (the message names file and element), or an
            agency adapter is missing or broken (the message names agency and adapter).
    """
    ctx: EngineContext  # bound below; the operators only run once it is
    operators = {
        "create_invoice": lambda session, instance, call: create_invoice(ctx, session, instance, call),
        "expire_invoice": lambda session, instance, call: expire_invoice(ctx, session, instance, call),
        "issue_licence": lambda session, instance, call: request_issue(ctx, session, instance, call),
        "record_overdue": lambda session, instance, call: record_overdue(ctx, session, instance, call),
        "cancel_licence": lambda session, instance, call: cancel_licence(ctx, session, instance, call),
    }
    definitions = DefinitionRegistry(functions=ProcessRuntime.FUNCTIONS, operators=operators)
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
    runtime = ProcessRuntime(definitions, clock, operators,
                             on_tasks_opened=lambda session, task_ids: on_tasks_opened(ctx, session, task_ids))
    ctx = EngineContext(catalogue=catalogue, runtime=runtime, clock=clock, object_store=object_store,
                        offices=offices, public_base_url=public_base_url, registry=registry, agencies=agencies,
                        signing=signing)
    payments = payments or PaymentProviders()
    outbox = Outbox(db, clock, {
        "start_licence_case": partial(start_case_job, ctx),
        "issue_licence": partial(issue_licence_job, ctx),
        "settle_waived_invoice": partial(settle_waived_invoice_job, ctx),
        SEND_JOB: partial(send_notification_job, channel or LogNotificationChannel(), clock=clock),
        DELIVER_TASK: partial(deliver_task_job, ctx),
        ISSUE_RECEIPT: partial(issue_receipt_job, ctx),
        REFUND_JOB: partial(refund_payment_job, ctx, payments),
    })
    with transaction(db) as session:
        definitions.record(session)
    return LicensingEngine(db=db, ctx=ctx, definitions=definitions, outbox=outbox,
                           queue=queue or InProcessQueue(outbox), finder=finder, opdc_email=opdc_email,
                           payments=payments)
