"""The clock jumping forward a day, with two sweepers racing: the due timers (a payment deadline) and the Section 10
notices catch up exactly once. Two engines share one database, as two processes would (on PostgreSQL they really
overlap; SQLite takes one writer at a time), and sweep in threads released together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from bizportal.api.composition import engine_from
from bizportal.api.settings import Settings
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.clock import BANGKOK
from bizportal.storage.applications import LicenceCaseRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import read_session
from bizportal.storage.notifications import NotificationRow
from bizportal.storage.statutory_clocks import CaseClockRow
from support.clock import MovableClock
from support.helpers import VALID_IDS, Journey
from support.invariants import assert_consistent

pytestmark = pytest.mark.chaos
OPDC = "complaints@opdc.go.th.test"
APPLICANT = {"kind": "individual", "id_number": VALID_IDS[0], "name": "สมหญิง ใจดี", "email": "somying@example.test"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"opdc_email": OPDC})  # Section 10 notices are sent (and copied to OPDC)


@pytest.fixture
def second(settings: Settings, clock: MovableClock, engine: LicensingEngine) -> Iterator[LicensingEngine]:
    """Another process's engine on the same database and clock."""
    other = engine_from(settings, clock=clock, migrate=False)
    yield other
    other.db.dispose()


def bkk(month: int, day: int, hour: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BANGKOK).astimezone(UTC)


def _sweep_at_once(*engines: LicensingEngine) -> None:
    """Each engine's periodic sweep (api/app.py `_sweeper`, api/worker.py `sweep`), all released together."""
    start = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def sweep(engine: LicensingEngine) -> None:
        start.wait()
        try:
            engine.dispatch()
            engine.fire_due_timers_and_notices()
            engine.dispatch()
        except BaseException as err:  # noqa: BLE001 - reported by the test thread below
            failures.append(err)

    threads = [threading.Thread(target=sweep, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def _counts(engine: LicensingEngine, application_id: str) -> dict[str, int]:
    """What the application's trail and notification log hold, by event."""
    with read_session(engine.db) as session:
        audited = session.exec(select(AuditEventRow.event, func.count()).where(
            AuditEventRow.application_id == application_id).group_by(AuditEventRow.event)).all()
        sent = session.exec(select(NotificationRow.event, func.count()).where(
            NotificationRow.application_id == application_id).group_by(NotificationRow.event)).all()
    return {**{event: n for event, n in audited}, **{f"mail:{event}": n for event, n in sent}}


def _notices(engine: LicensingEngine, application_id: str) -> int:
    with read_session(engine.db) as session:
        return session.exec(select(CaseClockRow.notices_sent).join(
            LicenceCaseRow, LicenceCaseRow.id == CaseClockRow.case_id).where(  # type: ignore[arg-type]
            LicenceCaseRow.application_id == application_id)).one()


def test_a_day_s_jump_fires_each_timer_and_notice_once_with_two_sweepers(
        journey: Journey, client: TestClient, engine: LicensingEngine, second: LicensingEngine,
        clock: MovableClock) -> None:
    journey.create(applicant=APPLICANT)  # awaiting payment: the invoice is due at the end of 4 January
    journey.submit()
    journey.decide("document_check", "approve")
    journey.decide("consideration", "approve")
    unpaid = journey.id
    assert journey.view()["invoices"][0]["due_at"] == "2027-01-04T16:59:59Z"
    journey.create(applicant=APPLICANT)  # in consideration: the agency's time ends on 14 December
    journey.submit()
    journey.decide("document_check", "approve")
    undecided = journey.id

    clock.current = bkk(12, 14)  # the last day of the agency's time: nothing is due yet
    _sweep_at_once(engine, second)
    assert _notices(engine, undecided) == 0
    before = _counts(engine, undecided)

    clock.current = bkk(12, 15)  # a day's jump: the first Section 10 notice, once
    _sweep_at_once(engine, second)
    _sweep_at_once(engine, second)  # and the next sweeps find nothing more
    after = _counts(engine, undecided)
    assert _notices(engine, undecided) == 1
    assert after.get("section10.notice_sent") == 1 and after.get("mail:section10_notice") == 1
    assert after.get("case.escalated") == 1
    assert {k: v for k, v in after.items() if k not in before} == {
        "section10.notice_sent": 1, "mail:section10_notice": 1, "case.escalated": 1}
    assert_consistent(engine)

    clock.current = bkk(1, 4, year=2027)  # weeks later: the notices missed meanwhile are one, not a burst
    _sweep_at_once(engine, second)
    assert _notices(engine, undecided) == 2
    assert journey.view()["status"] != "payment_expired"
    paid_before = _counts(engine, unpaid)

    clock.current = bkk(1, 5, year=2027)  # a day's jump past the payment deadline: the invoice expires once
    # (and the weekly cadence kept from 15 December, 22, 29, 5 January, gives the undecided case its third notice)
    _sweep_at_once(engine, second)
    _sweep_at_once(engine, second)
    paid_after = _counts(engine, unpaid)
    assert paid_after.get("invoice.expired") == 1 and paid_after.get("mail:payment_expired") == 1
    assert paid_after["licence.status_changed"] == paid_before["licence.status_changed"] + 1
    journey.id = unpaid
    view = journey.view()
    assert view["status"] == "payment_expired" and view["invoices"][0]["status"] == "expired"
    assert _notices(engine, undecided) == 3 and _counts(engine, undecided)["mail:section10_notice"] == 3
    assert_consistent(engine)
