"""A licence's whole journey through the API leaves one unbroken audit chain, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import col, select

from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.audit_verification import verify_chain
from bizportal.storage.database import read_session
from support.helpers import Journey


def test_a_journey_to_an_e_licence_leaves_an_unbroken_chain(journey: Journey, engine: LicensingEngine) -> None:
    journey.issue()  # create, upload, submit, two decisions, payment, and the jobs that issue the licence
    with read_session(engine.db) as session:
        rows = session.exec(select(AuditEventRow).order_by(col(AuditEventRow.position))).all()
    events = [row.event for row in rows]
    assert {"application.submitted", "task.completed"} <= set(events)
    assert [row.position for row in rows] == list(range(1, len(rows) + 1))  # every entry chained, none missing
    report = verify_chain(engine.db)
    assert report.intact and report.entries == len(rows) and report.head_hash == rows[-1].hash
    # The timeline, a view of the same rows, is unchanged by the chain.
    assert {event["event"] for event in journey.view()["timeline"]} >= {"application.submitted"}
