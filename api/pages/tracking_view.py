"""What the tracking page shows of one application, read from the engine's own views in one read session.

Everything here is the engine's data arranged for a page: `applications.view` (statuses, deadlines, requests,
invoices, timeline), `case_diagram` (the steps done and the current one), the applicant's own open steps
(`tasks.open_tasks`: the answer to a request for documents) and the receipts. No rule is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bizportal.api.page_labels import Lang
from bizportal.engine.applications import applications, status
from bizportal.engine.applications.applications import ApplicationView, InvoiceView, LicenceView, TimelineEntry
from bizportal.engine.cases import tasks
from bizportal.engine.cases.diagram import case_diagram
from bizportal.engine.catalogue.manual import LicenceManual
from bizportal.engine.context import EngineContext
from bizportal.engine.payments import receipts
from bizportal.engine.principal import SYSTEM, Principal, Role
from bizportal.engine.statuses import TERMINAL, Status
from bizportal.storage.receipts import ReceiptRow

# Statuses after a decision on the licence: the service survey asks about it from then on.
DECIDED = frozenset({Status.AWAITING_PAYMENT, Status.ISSUING, Status.ISSUED, Status.REJECTED,
                     Status.PAYMENT_EXPIRED})


@dataclass(frozen=True)
class Step:
    """A line of the steps list: `state` is done, current or next."""

    id: str
    name: str
    state: str


@dataclass
class TrackedLicence:
    view: LicenceView
    manual: LicenceManual
    agency_name: str
    steps: list[Step]
    current_names: list[str]
    answer_task: str | None = None  # the applicant's open step that sends the answer to a request for documents
    invoices: list[InvoiceView] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return self.view.status in DECIDED


@dataclass
class Tracking:
    application: ApplicationView
    licences: list[TrackedLicence]
    receipts: list[ReceiptRow]
    status_version: str  # the live stream's `version` of what the page shows

    @property
    def open_invoices(self) -> list[tuple[TrackedLicence, InvoiceView]]:
        return [(licence, invoice) for licence in self.licences for invoice in licence.invoices
                if invoice.status == "open"]

    @property
    def requests(self) -> list[TrackedLicence]:
        return [licence for licence in self.licences if licence.view.status == Status.DOCUMENTS_REQUESTED
                and licence.view.document_request is not None]

    @property
    def withdrawable(self) -> bool:
        return self.application.status != Status.DRAFT and any(
            licence.view.status not in TERMINAL for licence in self.licences)


def tracking(ctx: EngineContext, session: Session, principal: Principal, application_id: str,
             labels: dict[str, str], lang: Lang) -> Tracking:
    """The tracking page's data. Raises NotFound (the engine's) for an application the caller may not read."""
    view = applications.view(ctx, session, principal, application_id)
    snapshot = status.snapshot(ctx, session, principal, application_id)
    own_steps = {task.licence: task.id for task in tasks.open_tasks(ctx, session, principal)
                 if task.application_id == view.id and task.lane == "applicant" and "submit" in task.actions}
    licences = []
    for licence in view.licences:
        manual = ctx.catalogue.licence(licence.code)
        diagram = case_diagram(ctx, session, principal, view.id, licence.code)
        steps = steps_of(manual, diagram.done, diagram.current, licence.status, labels, lang)
        licences.append(TrackedLicence(
            view=licence, manual=manual, agency_name=getattr(ctx.catalogue.agency(licence.agency), f"name_{lang}"),
            steps=steps, current_names=[step.name for step in steps if step.state == "current"],
            answer_task=own_steps.get(licence.code),
            invoices=[invoice for invoice in view.invoices if invoice.licence == licence.code]))
    return Tracking(application=view, licences=licences,
                    receipts=receipts.receipts_of(ctx, session, principal, view.id),
                    status_version=snapshot.version)


def step_name(manual: LicenceManual, step_id: str, labels: dict[str, str], lang: Lang) -> str:
    """A step in words: the manual's step, else a step of the process the labels name, else its id."""
    for step in manual.steps:
        if step.id == step_id:
            return str(getattr(step, f"name_{lang}"))
    return labels.get(f"trk_step_{step_id}", step_id.replace("_", " "))


def steps_of(manual: LicenceManual, done: list[str], current: list[str], licence_status: str,
             labels: dict[str, str], lang: Lang) -> list[Step]:
    """The manual's steps, each done, current or next; a current step the manual does not list (sending more
    documents, paying) comes right after the last step done. An issued licence has done every step."""
    finished = licence_status == Status.ISSUED
    steps = [Step(step.id, step_name(manual, step.id, labels, lang),
                  "done" if finished or step.id in done else "current" if step.id in current else "next")
             for step in manual.steps]
    known = {step.id for step in manual.steps}
    extra = [Step(step_id, step_name(manual, step_id, labels, lang), "current")
             for step_id in current if step_id not in known]
    if extra:
        last_done = max((index for index, step in enumerate(steps) if step.state == "done"), default=-1)
        steps[last_done + 1:last_done + 1] = extra
    return steps


def actor_label(entry: TimelineEntry, principal: Principal, labels: dict[str, str]) -> str:
    """Who did it, as the applicant reads it: you, an officer, or the system (no officer's name is shown)."""
    if entry.actor == principal.label or entry.actor.startswith(Role.APPLICANT.value + ":"):
        return labels["trk_by_you"]
    if entry.actor == SYSTEM.label:
        return labels["trk_by_system"]
    return labels["trk_by_agency"]


def event_text(entry: TimelineEntry, tracked: Tracking, labels: dict[str, str], lang: Lang) -> str:
    """A timeline line in words: the event, and for a step or a status the licence and what was decided."""
    text = labels.get("trk_event_" + entry.event.replace(".", "_"), entry.event)
    detail: dict[str, Any] = entry.detail or {}
    manuals = {licence.view.code: licence.manual for licence in tracked.licences}
    manual = manuals.get(str(detail.get("licence", "")))
    parts = []
    if manual is not None:
        if detail.get("step"):
            parts.append(step_name(manual, str(detail["step"]), labels, lang))
        elif len(manuals) > 1:
            parts.append(str(getattr(manual, f"name_{lang}")))
    document = next((d for m in manuals.values() for d in m.documents if d.id == detail.get("document")), None)
    if document is not None:
        parts.append(str(getattr(document, f"name_{lang}")))
    decision = detail.get("decision") or detail.get("action")
    if decision and f"trk_decision_{decision}" in labels:
        parts.append(labels[f"trk_decision_{decision}"])
    new_status = detail.get("status") or detail.get("to")
    if entry.event == "licence.status_changed" and new_status and f"trk_status_{new_status}" in labels:
        parts.append(labels[f"trk_status_{new_status}"])
    return text + (": " + ", ".join(parts) if parts else "")
