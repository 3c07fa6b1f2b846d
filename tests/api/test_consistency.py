"""The invariants checker (engine/reporting/consistency.py) and `bizportal check`, on SQLite and PostgreSQL.

Real journeys through the API leave a database on which every invariant holds; then each fault is imitated by
breaking the database as it would (a licence or receipt missing, a second charge kept, a job that gave up
silently, a case with nothing open, an audit entry deleted...), each in a transaction rolled back afterwards,
and the checker must name it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bizportal.api.cli import app
from bizportal.api.settings import Settings
from bizportal.engine import outbox
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.reporting.consistency import Violation, check_consistency
from bizportal.storage.agency_tables import IncidentRow
from bizportal.storage.applications import LicenceCaseRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import transaction
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.notifications import NotificationRow
from bizportal.storage.online_payments import OnlinePaymentRow, OnlinePaymentState, PaymentEventRow, PaymentInvoiceRow
from bizportal.storage.outbox import JobState, OutboxRow
from bizportal.storage.payments import InvoiceRow, InvoiceStatus
from bizportal.storage.receipts import ReceiptRow
from bizportal.storage.statutory_clocks import CaseClockRow
from bizportal.storage.workflow_tables import HumanTaskRow, HumanTaskState, TimerRow, TimerState
from support.clock import MovableClock
from support.helpers import VALID_IDS, Auth, Journey

APPLICANT = {"kind": "individual", "id_number": VALID_IDS[0], "name": "สมหญิง ใจดี", "email": "somying@example.co.th"}


@dataclass
class Cases:
    """The cases the journeys left: one issued (paid at a counter), one withdrawn awaiting payment (its invoice
    cancelled), one awaiting payment, one at its document check."""

    issued: LicenceCaseRow
    withdrawn: LicenceCaseRow
    awaiting_payment: LicenceCaseRow
    in_check: LicenceCaseRow


def _case(engine: LicensingEngine, application_id: str) -> LicenceCaseRow:
    with transaction(engine.db) as session:
        return session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == application_id)).one()


def _journeys(journey: Journey, client: TestClient, engine: LicensingEngine) -> Cases:
    journey.create(applicant=APPLICANT)  # with an address: the steps send her notifications
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    assert journey.pay().status_code == 200
    issued = _case(engine, journey.id)
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    withdrawn = client.post(f"/api/v1/applications/{journey.id}/withdrawal", json={"reason": "changed plans"},
                            headers=journey.applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    cancelled = _case(engine, journey.id)
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    awaiting_payment = _case(engine, journey.id)
    journey.create()
    journey.submit()
    return Cases(issued, cancelled, awaiting_payment, _case(engine, journey.id))


def _check(engine: LicensingEngine, clock: MovableClock, session: Session | None = None) -> list[Violation]:
    if session is not None:
        session.flush()
        return check_consistency(session, clock.now())
    with transaction(engine.db) as own:
        return check_consistency(own, clock.now())


def test_after_real_journeys_every_invariant_holds(journey: Journey, client: TestClient, engine: LicensingEngine,
                                                   clock: MovableClock, settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cases = _journeys(journey, client, engine)
    assert cases.issued.status == "issued" and cases.withdrawn.status == "cancelled"
    assert (cases.awaiting_payment.status, cases.in_check.status) == ("awaiting_payment", "document_check")
    assert _check(engine, clock) == []
    clock.advance(days=2)  # nothing in flight: time passing breaks nothing
    assert _check(engine, clock) == []

    monkeypatch.setenv("BIZPORTAL_DATABASE_URL", settings.resolved_database_url())
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "every invariant holds" in result.output


def _add_licence(session: Session, cases: Cases) -> None:
    issued = session.exec(select(IssuedLicenceRow).where(IssuedLicenceRow.licence_case_id == cases.issued.id)).one()
    session.add(IssuedLicenceRow(**{**issued.model_dump(), "number": "X-" + issued.number,
                                    "licence_case_id": cases.in_check.id}))


def _charge_twice(session: Session, cases: Cases) -> None:
    """A second payment of the paid invoice, marked a duplicate but never refunded."""
    invoice = session.exec(select(InvoiceRow).where(InvoiceRow.licence_case_id == cases.issued.id)).one()
    payment = OnlinePaymentRow(id=str(uuid.uuid4()), application_id=invoice.application_id, provider="stripe",
                               provider_reference="pi_twice", reference="BPTWICE0001",
                               amount_satang=invoice.amount_satang, state=OnlinePaymentState.DUPLICATE,
                               created_by="test")
    session.add(payment)
    session.flush()
    session.add(PaymentInvoiceRow(payment_id=payment.id, invoice_id=invoice.id))


def _lose_payment(session: Session, cases: Cases) -> None:
    invoice = session.exec(select(InvoiceRow).where(InvoiceRow.licence_case_id == cases.awaiting_payment.id)).one()
    payment = OnlinePaymentRow(id="lost-payment", application_id=invoice.application_id, provider="stripe",
                               provider_reference="pi_lost", reference="BPLOST00001",
                               amount_satang=invoice.amount_satang, state=OnlinePaymentState.FAILED, created_by="test")
    session.add(payment)
    session.flush()
    session.add(PaymentInvoiceRow(payment_id=payment.id, invoice_id=invoice.id))
    session.add(PaymentEventRow(provider="stripe", event_id="evt_lost", kind="succeeded", payment_id=payment.id,
                                amount_satang=invoice.amount_satang, currency="THB", outcome="already_settled"))


def _fail_a_job(session: Session, cases: Cases) -> str:
    job = session.exec(select(OutboxRow).where(OutboxRow.job == "issue_licence")).first()
    assert job is not None
    job.state, job.last_error = JobState.FAILED, "RuntimeError: boom"
    return job.id


def _leave_a_job_pending(session: Session, cases: Cases, clock: MovableClock) -> str:
    job = session.exec(select(OutboxRow).where(OutboxRow.job == "issue_licence")).first()
    assert job is not None
    job.state, job.available_at = JobState.PENDING, clock.now() - timedelta(hours=1)
    return job.id


def _duplicate_notification(session: Session, cases: Cases) -> str:
    sent = session.exec(select(NotificationRow).where(
        NotificationRow.application_id == cases.issued.application_id)).first()
    assert sent is not None
    session.add(NotificationRow(**{**sent.model_dump(), "id": str(uuid.uuid4())}))
    return cases.issued.application_id


def _close_everything(session: Session, cases: Cases) -> None:
    for task in session.exec(select(HumanTaskRow).where(HumanTaskRow.instance_id == cases.in_check.instance_id)):
        task.state = HumanTaskState.CANCELLED
    for timer in session.exec(select(TimerRow).where(TimerRow.instance_id == cases.in_check.instance_id)):
        timer.state = TimerState.CANCELLED


def _delete_audit(session: Session, event: str, application_id: str) -> None:
    session.execute(delete(AuditEventRow).where(col(AuditEventRow.event) == event,
                                                col(AuditEventRow.application_id) == application_id))


def test_each_broken_invariant_is_named(journey: Journey, client: TestClient, engine: LicensingEngine,
                                        clock: MovableClock, settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cases = _journeys(journey, client, engine)
    with transaction(engine.db) as session:
        number = session.exec(select(IssuedLicenceRow.number)
                              .where(IssuedLicenceRow.licence_case_id == cases.issued.id)).one()
        receipt = session.exec(select(ReceiptRow).where(
            ReceiptRow.application_id == cases.issued.application_id)).one()
        paid_invoice = session.exec(select(InvoiceRow.id).where(InvoiceRow.licence_case_id == cases.issued.id)).one()
        open_invoice = session.exec(select(InvoiceRow.id)
                                    .where(InvoiceRow.licence_case_id == cases.awaiting_payment.id)).one()
    faults: list[tuple[str, Callable[[Session], object], str, str]] = [
        ("licence missing", lambda s: s.execute(delete(IssuedLicenceRow).where(
            col(IssuedLicenceRow.number) == number)), "one_licence", cases.issued.id),
        # (a licence nobody issued has no 'licence.issued' entry either)
        ("a licence for a case not issued", lambda s: _add_licence(s, cases), "one_licence audit_complete",
         cases.in_check.id),
        ("paid, never issued", lambda s: s.execute(update(InvoiceRow).where(col(InvoiceRow.id) == open_invoice)
                                                   .values(status=InvoiceStatus.PAID)),
         "one_licence one_receipt", cases.awaiting_payment.id),
        ("receipt missing", lambda s: s.execute(delete(ReceiptRow).where(col(ReceiptRow.number) == receipt.number)),
         "one_receipt", paid_invoice),
        ("charged twice", lambda s: _charge_twice(s, cases), "charged_once", paid_invoice),
        ("money taken, payment failed", lambda s: _lose_payment(s, cases), "payment_recorded", "lost-payment"),
        ("a job that gave up silently", lambda s: _fail_a_job(s, cases), "outbox_ended", ""),
        ("a job never run", lambda s: _leave_a_job_pending(s, cases, clock), "outbox_ended", ""),
        ("a message stored twice", lambda s: _duplicate_notification(s, cases), "notification_once",
         cases.issued.application_id),
        ("a case with nothing open", lambda s: _close_everything(s, cases), "not_stuck", cases.in_check.id),
        ("submission unaudited", lambda s: _delete_audit(s, "application.submitted", cases.in_check.application_id),
         "audit_complete", cases.in_check.application_id),
        ("issue unaudited", lambda s: _delete_audit(s, "licence.issued", cases.issued.application_id),
         "audit_complete", number),
        ("status change unaudited", lambda s: _delete_audit(s, "licence.status_changed",
                                                             cases.awaiting_payment.application_id),
         "audit_complete", cases.awaiting_payment.id),
        ("task completion unaudited", lambda s: _delete_audit(s, "task.completed", cases.issued.application_id),
         "audit_complete", cases.issued.id),
        ("receipt unaudited", lambda s: _delete_audit(s, "receipt.issued", cases.issued.application_id),
         "audit_complete", receipt.number),
        ("payment unaudited", lambda s: _delete_audit(s, "payment.recorded", cases.issued.application_id),
         "audit_complete", ""),
        ("invoice unaudited", lambda s: _delete_audit(s, "invoice.created", cases.awaiting_payment.application_id),
         "audit_complete", open_invoice),
        ("a notice uncounted", lambda s: s.execute(update(CaseClockRow).where(
            col(CaseClockRow.case_id) == cases.in_check.id).values(notices_sent=1)),
         "audit_complete", cases.in_check.id),
    ]
    for name, fault, invariant, subject in faults:
        session = Session(engine.db)
        try:
            fault(session)
            found = _check(engine, clock, session)
        finally:
            session.rollback()
            session.close()
        assert found, f"{name}: not found"
        assert {v.invariant for v in found} == set(invariant.split()), f"{name}: {found}"
        assert not subject or subject in {v.subject for v in found if v.invariant == invariant.split()[0]}, \
            f"{name}: {found}"
    assert _check(engine, clock) == []  # every fault was rolled back

    with transaction(engine.db) as session:  # one left in, for the command line
        session.execute(delete(ReceiptRow).where(col(ReceiptRow.number) == receipt.number))
    monkeypatch.setenv("BIZPORTAL_DATABASE_URL", settings.resolved_database_url())
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert f"one_receipt: {paid_invoice}: paid invoice with 0 receipts" in result.output
    assert "1 violations: one_receipt 1" in result.output


def test_a_job_that_gives_up_opens_an_incident_an_administrator_can_retry(
        client: TestClient, engine: LicensingEngine, clock: MovableClock, auth: Auth) -> None:
    admin = auth("admin", "ada")
    with transaction(engine.db) as session:  # a job without a handler fails each time it runs, until it gives up
        job = OutboxRow(id=str(uuid.uuid4()), job="no_such_job", payload={}, created_at=clock.now(),
                        available_at=clock.now())
        session.add(job)
    for _ in range(outbox.MAX_ATTEMPTS):
        assert engine.outbox.run_job(job.id) is False
        clock.advance(minutes=1)
    with transaction(engine.db) as session:
        failed = session.get(OutboxRow, job.id)
        assert failed is not None and failed.state == JobState.FAILED
    assert _check(engine, clock) == []  # failed, but in sight: an incident is open

    incidents = client.get("/api/v1/incidents", headers=admin).json()
    assert [(i["kind"], i["reference"], i["state"]) for i in incidents] == [("outbox_job", job.id, "open")]
    assert "no handler for job 'no_such_job'" in incidents[0]["message"]
    retried = client.post(f"/api/v1/incidents/{incidents[0]['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["state"] == "retried", retried.text
    with transaction(engine.db) as session:
        requeued = session.get(OutboxRow, job.id)
        # Run again at once (the dispatch after the command polls it), failing its first attempt of a fresh series.
        assert requeued is not None and (requeued.state, requeued.attempts) == (JobState.PENDING, 1)
    assert client.post(f"/api/v1/incidents/{incidents[0]['id']}/retry", headers=admin).status_code == 409

    with transaction(engine.db) as session:  # the same failure without its incident: out of sight, a violation
        session.execute(update(OutboxRow).where(col(OutboxRow.id) == job.id).values(state=JobState.FAILED))
        session.execute(delete(IncidentRow))
    assert [(v.invariant, v.subject) for v in _check(engine, clock)] == [("outbox_ended", job.id)]
