"""The statutory clock (Licensing Facilitation Act ss.7, 8, 10): Thai working days, pauses while the
applicant owes documents, the Section 10 notices and escalation, deadlines, and the KPIs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

from bizportal.api.routes.kpis import router as kpis_router
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.clock import BANGKOK
from bizportal.engine.deadlines.escalations import escalated_cases
from bizportal.engine.deadlines.statutory_clock import (
    NOTICE_EVENT,
    SUPERVISOR_ROLE,
    deadlines_for,
    fire_section10,
    on_case_moved,
    working_days_between,
)
from bizportal.engine.deadlines.working_days import add_working_days, is_working_day
from bizportal.engine.errors import Forbidden
from bizportal.engine.principal import Principal, Role
from bizportal.engine.reporting.kpis import kpis
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.database import transaction
from bizportal.storage.statutory_clocks import CaseClockRow
from support.helpers import LICENCE, VALID_IDS, Auth, Journey

OFFICE = "BKK-KHLONG-TOEI"  # the district office of the sample business (as in conftest)
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # the conftest clock's start: Tue 1 Dec 2026, 09:00 Bangkok
OPDC = "complaints@opdc.go.th.test"
ALICE = "alice@example.test"
OTHER_LICENCE = "commercial_ecommerce_registration_dbd"  # issued by DBD, not LAO


class _Roles(StrEnum):
    AGENCY_SUPERVISOR = "agency_supervisor"


# The lead adds Role.AGENCY_SUPERVISOR; until then a StrEnum with the same value stands in.
SUPERVISOR: Any = getattr(Role, "AGENCY_SUPERVISOR", _Roles.AGENCY_SUPERVISOR)


def bkk(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    """A Bangkok wall-clock time as the UTC instant the engine stores."""
    return datetime(year, month, day, hour, minute, tzinfo=BANGKOK).astimezone(UTC)


def end_of(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=BANGKOK).astimezone(UTC)


class FakeNotifier:
    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_for = fail_for or set()

    def __call__(self, session: Session, clock: object, *, application_id: str, event: str, lang: str,
                 to: str, cc: str | None, context: dict[str, Any]) -> None:
        if application_id in self.fail_for:
            raise RuntimeError("template broken")
        self.calls.append({"application_id": application_id, "event": event, "lang": lang, "to": to, "cc": cc,
                           "context": context})


@pytest.fixture(autouse=True)
def case_clock_table(request: pytest.FixtureRequest) -> None:
    """The table exists once its migration is in; until then the tests create it themselves."""
    if "engine" in request.fixturenames:
        engine: LicensingEngine = request.getfixturevalue("engine")
        # SQLModel gives a table model its __table__ at run time without declaring it.
        SQLModel.metadata.create_all(engine.db, tables=[CaseClockRow.__table__])  # type: ignore[attr-defined]


def follow(engine: LicensingEngine, journey: Journey) -> CaseClockRow | None:
    """What the case does after every move (idempotent, so harmless once the hook is wired)."""
    with transaction(engine.db) as session:
        case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == journey.id)).one()
        return on_case_moved(session, engine.ctx.clock, engine.ctx.catalogue, case, None)


def clock_row(engine: LicensingEngine, journey: Journey) -> CaseClockRow:
    with transaction(engine.db) as session:
        return session.exec(select(CaseClockRow).join(LicenceCaseRow)
                            .where(LicenceCaseRow.application_id == journey.id)).one()


def deadline(engine: LicensingEngine, journey: Journey) -> Any:
    with transaction(engine.db) as session:
        case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == journey.id)).one()
        return deadlines_for(session, [case.id], engine.ctx.clock.now())[case.id]


def scan(engine: LicensingEngine, notifier: FakeNotifier, opdc_email: str | None = OPDC) -> int:
    with transaction(engine.db) as session:
        return fire_section10(session, engine.ctx.clock, notifier, engine.ctx.clock.now(),
                              catalogue=engine.ctx.catalogue, opdc_email=opdc_email, application_url=page)


def page(application_id: str) -> str:
    return f"https://bizportal.test/api/v1/applications/{application_id}"


def events(engine: LicensingEngine, application_id: str, name: str) -> list[dict[str, Any]]:
    with transaction(engine.db) as session:
        return [e.detail for e in session.exec(select(AuditEventRow).where(
            AuditEventRow.application_id == application_id, AuditEventRow.event == name)
            .order_by(AuditEventRow.id))]  # type: ignore[arg-type]


def move_to(clock: Any, when: datetime) -> None:
    """Set the tests' movable clock (conftest's MovableClock) forward to `when`."""
    assert when >= clock.current
    clock.current = when


def applicant(email: str | None = ALICE) -> dict[str, Any]:
    return {"kind": "individual", "id_number": VALID_IDS[0], "name": "สมหญิง ใจดี", "email": email}


# --- working days ----------------------------------------------------------------------------------

def test_working_days_skip_weekends_and_thai_holidays() -> None:
    # 5 Dec 2026 (King Bhumibol's birthday) is a Saturday: Monday 7 Dec is its substitute; 10 Dec is
    # Constitution Day. From Tue 1 Dec: 2, 3, 4, 8, 9, 11, 14 Dec are the seven working days.
    assert [is_working_day(d.date()) for d in (bkk(12, 5), bkk(12, 7), bkk(12, 10))] == [False, False, False]
    assert add_working_days(START, 7) == end_of(12, 14)
    assert working_days_between(START, bkk(12, 11, 17)) == 6
    assert working_days_between(bkk(12, 4), bkk(12, 8)) == 1  # Sat, Sun and the substitute Monday skipped
    assert working_days_between(bkk(12, 1, 8), bkk(12, 1, 17)) == 0  # the same day
    assert working_days_between(bkk(12, 8), bkk(12, 4)) == 0  # backwards
    # Across the year end (New Year's Eve and Day are holidays) the two stay each other's inverse.
    for start in (START, bkk(12, 5), bkk(12, 28), bkk(12, 31, 20)):
        for days in range(1, 45):
            assert working_days_between(start, add_working_days(start, days)) == days


# --- the clock follows the case --------------------------------------------------------------------

def test_clock_starts_with_the_process_and_gives_total_and_step_deadlines(journey: Journey, engine: LicensingEngine,
                                                                         clock: Any) -> None:
    journey.create()
    with transaction(engine.db) as session:  # a draft has no clock
        case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == journey.id)).one()
        assert on_case_moved(session, clock, engine.ctx.catalogue, case, None) is None
    journey.submit()
    row = follow(engine, journey)
    assert row is not None
    assert (row.started_at, row.budget_working_days) == (START, 7)  # the manual's total
    assert row.due_at == row.next_notice_at == end_of(12, 14)
    first = deadline(engine, journey)
    assert (first.due_at, first.working_days_used, first.working_days_left, first.overdue) == (
        end_of(12, 14), 0, 7, False)
    assert [(s.step, s.due_at) for s in first.steps] == [("document_check", end_of(12, 2))]  # 1 working day

    move_to(clock, bkk(12, 2))
    assert journey.decide("document_check", "approve").status_code == 200
    follow(engine, journey)
    later = deadline(engine, journey)
    # The step's deadline runs from when the step opened (5 working days, over the holidays: Fri 11 Dec);
    # the total still runs from the start of the process.
    assert [(s.step, s.due_at) for s in later.steps] == [("consideration", end_of(12, 11))]
    assert (later.due_at, later.working_days_used, later.working_days_left) == (end_of(12, 14), 1, 6)
    assert follow(engine, journey) == clock_row(engine, journey)  # idempotent


def test_a_pause_while_the_applicant_owes_documents_moves_the_deadline(journey: Journey, engine: LicensingEngine,
                                                                       clock: Any) -> None:
    journey.create(applicant=applicant())
    journey.submit()
    follow(engine, journey)
    move_to(clock, bkk(12, 4))  # Friday
    journey.decide("document_check", "request_documents", "ขาดแผนผัง")
    row = follow(engine, journey)
    assert row is not None and row.paused_since == bkk(12, 4) and row.next_notice_at is None
    move_to(clock, bkk(12, 7, 18))  # the substitute holiday: still no working day paused
    paused = deadline(engine, journey)
    assert (paused.paused, paused.paused_working_days, paused.due_at) == (True, 0, end_of(12, 14))
    move_to(clock, bkk(12, 8))  # Tuesday: the applicant answers
    assert journey.decide("submit_documents", "submit", headers=journey.applicant).status_code == 200
    row = follow(engine, journey)
    assert row is not None and row.paused_since is None and row.paused_working_days == 1
    assert row.due_at == row.next_notice_at == end_of(12, 15)  # 7 + 1 working days after Tue 1 Dec
    resumed = deadline(engine, journey)
    # Used: 2, 3, 4 and 8 Dec, less the one paused day.
    assert (resumed.paused, resumed.working_days_used, resumed.working_days_left) == (False, 3, 4)
    move_to(clock, bkk(12, 15, 20))
    assert scan(engine, FakeNotifier()) == 0  # the pause bought the agency a day


# --- Section 10 ------------------------------------------------------------------------------------

def test_section10_notices_every_7_days_until_the_decision(journey: Journey, engine: LicensingEngine,
                                                          clock: Any) -> None:
    journey.create(applicant=applicant())
    journey.submit()
    follow(engine, journey)
    journey.decide("document_check", "approve")
    follow(engine, journey)
    notifier = FakeNotifier()

    move_to(clock, bkk(12, 14, 20))  # the last day of the 7: still in time
    assert scan(engine, notifier) == 0
    move_to(clock, bkk(12, 15))
    assert scan(engine, notifier) == 1
    (notice,) = notifier.calls
    assert (notice["event"], notice["to"], notice["cc"], notice["lang"]) == (NOTICE_EVENT, ALICE, OPDC, "th")
    context = notice["context"]
    assert (context["licence"], context["notice_number"], context["working_days_overdue"]) == (LICENCE, 1, 1)
    assert (context["due_date"], context["days_overdue"]) == (end_of(12, 14), 1)
    assert context["contact_email"] == ALICE and context["tracking_number"].startswith("BP-")
    assert context["licence_name"] == engine.ctx.catalogue.licence(LICENCE).name_th  # the applicant's language
    assert context["application_url"] == page(journey.id)
    assert [s["step"] for s in context["pending_steps"]] == ["consideration"]  # the reason: where it waits
    assert len(context["reasons"]) == 1 and context["reasons"][0].startswith("อยู่ระหว่างขั้นตอน: ")
    assert events(engine, journey.id, "case.escalated") == [
        {"licence": LICENCE, "role": SUPERVISOR_ROLE, "agency": "LAO", "office": OFFICE,
         "due_at": end_of(12, 14).isoformat()}]
    overdue = deadline(engine, journey)
    assert (overdue.overdue, overdue.notices_sent, overdue.escalated, overdue.working_days_left) == (
        True, 1, True, 0)

    assert scan(engine, notifier) == 0  # once
    move_to(clock, bkk(12, 21, 20))  # 7 days after the deadline, not yet its end
    assert scan(engine, notifier) == 0
    move_to(clock, bkk(12, 22))
    assert scan(engine, notifier) == 1
    assert [notifier.calls[-1]["context"][k] for k in ("notice_number", "days_overdue")] == [2, 8]
    assert len(events(engine, journey.id, "case.escalated")) == 1  # escalated once
    assert [e["notice_number"] for e in events(engine, journey.id, "section10.notice_sent")] == [1, 2]

    assert journey.decide("consideration", "approve").status_code == 200  # the decision
    row = follow(engine, journey)
    assert row is not None and row.decided_at == bkk(12, 22) and row.next_notice_at is None
    move_to(clock, bkk(12, 22) + timedelta(days=30))
    assert scan(engine, notifier) == 0 and len(notifier.calls) == 2
    decided = deadline(engine, journey)
    assert (decided.overdue, decided.decided_on_time, decided.working_days_used) == (False, False, 13)


def test_without_an_address_the_notice_is_recorded_and_the_case_escalates(journey: Journey, engine: LicensingEngine,
                                                                           clock: Any) -> None:
    journey.create(applicant=applicant(email=None))
    journey.submit()
    follow(engine, journey)
    move_to(clock, bkk(12, 15))
    notifier = FakeNotifier()
    assert scan(engine, notifier) == 1
    assert notifier.calls == []
    (recorded,) = events(engine, journey.id, "section10.notice_sent")
    assert (recorded["sent_to_applicant"], recorded["copied_to_opdc"]) == (False, False)
    assert len(events(engine, journey.id, "case.escalated")) == 1
    assert clock_row(engine, journey).next_notice_at == end_of(12, 21)


def test_without_the_opdc_address_nothing_is_sent_but_the_notice_is_recorded(journey: Journey, engine: LicensingEngine,
                                                                              clock: Any) -> None:
    journey.create(applicant=applicant())
    journey.submit()
    follow(engine, journey)
    move_to(clock, bkk(12, 15))
    notifier = FakeNotifier()
    assert scan(engine, notifier, opdc_email=None) == 1  # the copy to OPDC is mandatory: no message without it
    assert notifier.calls == []
    (recorded,) = events(engine, journey.id, "section10.notice_sent")
    assert recorded["sent_to_applicant"] is False and recorded["reasons"]
    assert len(events(engine, journey.id, "case.escalated")) == 1


def test_the_notice_context_renders_with_the_notifier_templates(journey: Journey, engine: LicensingEngine,
                                                                clock: Any) -> None:
    notifier_module = pytest.importorskip("bizportal.engine.notices.notifier")
    journey.create(applicant={**applicant(), "language": "en"})
    journey.submit()
    follow(engine, journey)
    move_to(clock, bkk(12, 16))
    notifier = FakeNotifier()
    assert scan(engine, notifier) == 1
    (notice,) = notifier.calls
    message = notifier_module.render(NOTICE_EVENT, notice["lang"], notice["context"])
    manual = engine.ctx.catalogue.licence(LICENCE)
    assert manual.name_en in message.text and "2 days overdue" in message.text
    assert "In progress: " in message.text and page(journey.id) in message.text


def test_a_pause_after_an_overrun_keeps_the_7_day_cadence(journey: Journey, engine: LicensingEngine,
                                                          clock: Any) -> None:
    journey.create(applicant=applicant())
    journey.submit()
    follow(engine, journey)
    move_to(clock, bkk(12, 15))
    assert scan(engine, FakeNotifier()) == 1
    with transaction(engine.db) as session:  # the clock logic alone: the case waits on the applicant a day
        case = session.exec(select(LicenceCaseRow).where(LicenceCaseRow.application_id == journey.id)).one()
        case.status = "documents_requested"
        on_case_moved(session, clock, engine.ctx.catalogue, case, "document_check")
        clock.advance(days=1)
        case.status = "document_check"
        row = on_case_moved(session, clock, engine.ctx.catalogue, case, "documents_requested")
        assert row is not None
        assert row.due_at == end_of(12, 15)  # one more working day
        assert row.next_notice_at == bkk(12, 22)  # 7 days after the last notice, not straight away


def test_a_failing_notice_blocks_nobody_else(engine: LicensingEngine, clock: Any) -> None:
    with transaction(engine.db) as session:
        broken = _case(session, LICENCE, "LAO", "under_consideration", started=START)
        fine = _case(session, LICENCE, "LAO", "under_consideration", started=START)
    move_to(clock, bkk(12, 15))
    notifier = FakeNotifier(fail_for={broken.application_id})
    assert scan(engine, notifier) == 1
    assert [c["application_id"] for c in notifier.calls] == [fine.application_id]
    assert events(engine, broken.application_id, "section10.notice_sent") == []
    with transaction(engine.db) as session:
        kept = session.get(CaseClockRow, broken.case_id)
        assert kept is not None and kept.notices_sent == 0 and kept.next_notice_at == end_of(12, 14)


# --- escalations -----------------------------------------------------------------------------------

def test_the_supervisor_sees_the_escalated_cases_of_their_agency(journey: Journey, engine: LicensingEngine,
                                                                 clock: Any) -> None:
    journey.create(applicant=applicant())
    journey.submit()
    follow(engine, journey)
    supervisor = Principal("sam", SUPERVISOR, agency="LAO", office=OFFICE)
    with transaction(engine.db) as session:
        assert escalated_cases(session, supervisor, clock.now()) == []  # nothing overdue yet
    move_to(clock, bkk(12, 16))
    scan(engine, FakeNotifier())
    with transaction(engine.db) as session:
        (listed,) = escalated_cases(session, supervisor, clock.now())
        assert (listed.application_id, listed.licence, listed.office) == (journey.id, LICENCE, OFFICE)
        assert (listed.due_at, listed.working_days_overdue, listed.notices_sent) == (end_of(12, 14), 2, 1)
        assert len(escalated_cases(session, Principal("root", Role.ADMIN), clock.now())) == 1
        assert escalated_cases(session, Principal("sue", SUPERVISOR, agency="LAO", office="OTHER"), clock.now()) == []
        assert escalated_cases(session, Principal("dan", SUPERVISOR, agency="DBD"), clock.now()) == []
        # A supervisor of an agency of local offices who names no office oversees none of them.
        assert escalated_cases(session, Principal("hq", SUPERVISOR, agency="LAO"), clock.now()) == []
        with pytest.raises(Forbidden):
            escalated_cases(session, Principal("olivia", Role.AGENCY_OFFICER, agency="LAO"), clock.now())


# --- KPIs ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Made:
    application_id: str
    case_id: str


def _case(session: Session, licence: str, agency: str, status: str, started: datetime | None = None,
          decided: datetime | None = None, paused_days: int = 0) -> Made:
    """An application with one case in `status` and, when `started`, its clock (written directly)."""
    application = ApplicationRow(
        id=str(uuid.uuid4()), owner="alice", created_by="alice", created_by_role="applicant",
        applicant_kind="individual", applicant_id_number=VALID_IDS[0], applicant_name="สมหญิง ใจดี",
        applicant_email=ALICE, business_name="ร้าน", business_address="กรุงเทพ", business_province="กรุงเทพมหานคร",
        business_area_m2=50, status=status, tracking_number=f"BP-T-{uuid.uuid4().hex[:8]}")
    case = LicenceCaseRow(id=str(uuid.uuid4()), application_id=application.id, licence_code=licence,
                          agency=agency, status=status)
    session.add(application)
    session.flush()
    session.add(case)
    session.flush()
    if started is not None:
        due = add_working_days(started, 7 + paused_days)
        session.add(CaseClockRow(case_id=case.id, started_at=started, budget_working_days=7,
                                 paused_working_days=paused_days, due_at=due, decided_at=decided,
                                 next_notice_at=None if decided else due))
        session.flush()
    return Made(application.id, case.id)


def test_kpis_per_licence_per_agency_and_overall(engine: LicensingEngine, clock: Any) -> None:
    with transaction(engine.db) as session:
        _case(session, LICENCE, "LAO", "awaiting_payment", START, decided=bkk(12, 4))  # 3 working days
        _case(session, LICENCE, "LAO", "issued", START, decided=bkk(12, 16), paused_days=2)  # 9 - 2 = 7, in time
        _case(session, LICENCE, "LAO", "rejected", START, decided=bkk(12, 17))  # 10: late
        _case(session, LICENCE, "LAO", "under_consideration", START)  # due 14 Dec: overdue on the 22nd
        _case(session, LICENCE, "LAO", "document_check", bkk(12, 21))  # in time
        _case(session, LICENCE, "LAO", "cancelled", START, decided=bkk(12, 3))  # withdrawn, not decided
        _case(session, LICENCE, "LAO", "submitted")  # waiting for a prerequisite: no clock yet
        _case(session, LICENCE, "LAO", "draft")  # never submitted: not counted
        _case(session, OTHER_LICENCE, "DBD", "issued", START, decided=bkk(12, 3))  # 2 working days
    move_to(clock, bkk(12, 22))
    with transaction(engine.db) as session:
        report = kpis(session, engine.ctx.catalogue, clock.now())
    licences = {row.code: row for row in report.licences}
    agencies = {row.code: row for row in report.agencies}
    assert set(licences) == set(engine.ctx.catalogue.licences)
    food = licences[LICENCE]
    assert (food.applications, food.decided, food.cancelled, food.median_working_days, food.on_time_share,
            food.overdue_now) == (7, 3, 1, 7.0, 0.6667, 1)
    assert food.name_en == engine.ctx.catalogue.licence(LICENCE).name_en
    assert agencies["LAO"].model_dump(exclude={"code", "name_th", "name_en"}) == food.model_dump(
        exclude={"code", "name_th", "name_en"})
    dbd = agencies["DBD"]
    assert (dbd.applications, dbd.decided, dbd.median_working_days, dbd.on_time_share) == (1, 1, 2.0, 1.0)
    overall = report.overall
    assert (overall.applications, overall.decided, overall.median_working_days, overall.on_time_share,
            overall.overdue_now) == (8, 4, 5.0, 0.75, 1)
    idle = licences["liquor_sale_licence"]
    assert (idle.applications, idle.median_working_days, idle.on_time_share) == (0, None, None)


def test_kpis_and_escalations_over_http(client: TestClient, auth: Auth, engine: LicensingEngine, journey: Journey,
                                        clock: Any) -> None:
    app: Any = client.app
    if not any(getattr(route, "path", None) == "/api/v1/kpis" for route in app.routes):
        app.include_router(kpis_router)  # until the lead registers the router
    journey.create(applicant=applicant())
    journey.submit()
    follow(engine, journey)
    move_to(clock, bkk(12, 15))
    scan(engine, FakeNotifier())

    assert client.get("/api/v1/kpis").status_code == 401
    response = client.get("/api/v1/kpis", headers=auth("applicant", "bob"))
    assert response.status_code == 200, response.text
    food = next(row for row in response.json()["licences"] if row["code"] == LICENCE)
    assert (food["applications"], food["overdue_now"]) == (1, 1)

    assert client.get("/api/v1/escalations", headers=auth("applicant", "bob")).status_code == 403
    listed = client.get("/api/v1/escalations", headers=auth("admin", "root"))
    assert listed.status_code == 200, listed.text
    assert [(e["application_id"], e["notices_sent"]) for e in listed.json()] == [(journey.id, 1)]
