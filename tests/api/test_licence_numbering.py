"""A licence's number is taken by a job of its own, and its PDF rendered by the next one.

The agency's yearly counter row stays locked until the numbering job commits, so rendering under it made every
other licence of the agency wait for the one being drawn. The number is taken once per case and its rendering
retried until it succeeds (the numbering stays gap-free); a case withdrawn between the two jobs leaves its
number unused, and the audit trail says so.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.licences.issuing import RENDER_LICENCE
from bizportal.engine.outbox import InProcessQueue
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.counters import CounterRow
from bizportal.storage.database import transaction
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.outbox import OutboxRow
from support.helpers import Journey


class HeldQueue:
    """A job queue that runs nothing: the test runs each job itself."""

    def submit(self, outbox_ids: list[str]) -> None:
        pass

    def close(self) -> None:
        """Nothing to release."""


def _paid_and_held(journey: Journey, engine: LicensingEngine) -> str:
    """Pay the sample licence with the queue held: the id of its numbering job."""
    journey.create()
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    engine.queue = HeldQueue()
    assert journey.pay().status_code == 200
    with transaction(engine.db) as session:
        [job] = session.exec(select(OutboxRow).where(OutboxRow.job == "issue_licence")).all()
        return job.id


def _rendering(engine: LicensingEngine) -> OutboxRow:
    with transaction(engine.db) as session:
        [job] = session.exec(select(OutboxRow).where(OutboxRow.job == RENDER_LICENCE)).all()
        return job


def test_the_number_is_taken_first_and_the_licence_rendered_under_it_by_the_next_job(
        journey: Journey, engine: LicensingEngine, client: TestClient) -> None:
    numbering = _paid_and_held(journey, engine)
    assert engine.outbox.run_job(numbering)

    rendering = _rendering(engine)
    number = rendering.payload["number"]
    with transaction(engine.db) as session:
        # Numbered and committed; nothing rendered or issued yet, and the case still waits for its licence.
        assert session.exec(select(IssuedLicenceRow)).all() == []
        counter = session.get(CounterRow, f"licence:LAO:{number.split('-')[1]}")
        assert counter is not None and number.endswith(f"-{counter.value:06d}")
    assert journey.view()["status"] == "issuing"

    assert engine.outbox.run_job(rendering.id)
    view = journey.view()
    assert view["status"] == "issued" and view["licences"][0]["licence_number"] == number
    assert client.get(f"/api/v1/issued-licences/{number}/pdf", headers=journey.applicant).status_code == 200

    # Delivered again, either job: still one licence, and no number taken again.
    assert engine.outbox.run_job(numbering) and engine.outbox.run_job(rendering.id)
    engine.queue = InProcessQueue(engine.outbox)
    engine.dispatch()
    with transaction(engine.db) as session:
        assert [issued.number for issued in session.exec(select(IssuedLicenceRow))] == [number]
        assert len(session.exec(select(OutboxRow).where(OutboxRow.job == RENDER_LICENCE)).all()) == 1


def test_a_case_withdrawn_between_numbering_and_rendering_leaves_its_number_unused_and_audited(
        journey: Journey, engine: LicensingEngine, client: TestClient) -> None:
    assert engine.outbox.run_job(_paid_and_held(journey, engine))
    rendering = _rendering(engine)

    withdrawn = client.post(f"/api/v1/applications/{journey.id}/withdrawal", json={"reason": "closing down"},
                            headers=journey.applicant)
    assert withdrawn.status_code == 200, withdrawn.text
    assert engine.outbox.run_job(rendering.id)  # done: nothing left to issue

    with transaction(engine.db) as session:
        assert session.exec(select(IssuedLicenceRow)).all() == []
        [unused] = session.exec(select(AuditEventRow).where(AuditEventRow.event == "licence.number_unused")).all()
        assert unused.application_id == journey.id and unused.detail["licence_number"] == rendering.payload["number"]
