"""Notifications: templates in Thai and English, stored with an outbox job, sent to a real SMTP server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import UndefinedError
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, select

import bizportal.storage.notifications  # noqa: F401  (registers the table before create_all)
import bizportal.storage.tables  # noqa: F401
from bizportal.adapters.notifications.base import RetriableNotificationError
from bizportal.adapters.notifications.smtp import SmtpEmailChannel
from bizportal.api.stack.ports import free_port
from bizportal.engine.assembly import send_notification
from bizportal.engine.notices.log import notifications_for
from bizportal.engine.notices.notifier import EVENTS, SEND_JOB, baht, notify, render, send_notification_job
from bizportal.engine.outbox import MAX_ATTEMPTS, InProcessQueue, Outbox, dispatch_pending
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.database import make_engine, transaction
from bizportal.storage.notifications import NotificationRow
from bizportal.storage.outbox import OutboxRow
from support.smtp_server import Mailbox

APPLICANT = "somying@example.co.th"
OPDC = "opdc-copy@opdc.example.go.th"
SENDER = "Biz Portal <noreply@bizportal.test>"
LINK = "https://bizportal.test/applications/7f3c2a9e"
PDF_LINK = "https://bizportal.test/licences/BKK-L-000123/pdf"
PAY_LINK = "https://bizportal.test/invoices/42/pay"

SAMPLES: dict[str, dict[str, Any]] = {
    "application_submitted": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "submitted_at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        "licences": [{"name": "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่จำหน่ายอาหาร", "agency": "สำนักงานเขตคลองเตย"},
                     {"name": "ขอจดทะเบียนพาณิชย์", "agency": "กรมพัฒนาธุรกิจการค้า"}],
        "application_url": LINK,
    },
    "documents_requested": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอจดทะเบียนพาณิชย์", "agency_name": "กรมพัฒนาธุรกิจการค้า",
        "comment": "แผนที่ตั้งสถานประกอบการ และหนังสือยินยอมให้ใช้สถานที่", "application_url": LINK,
        "documents": ["แผนที่แสดงที่ตั้งสถานประกอบการ", "หนังสือยินยอมให้ใช้สถานที่"],
    },
    "licence_decided": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอจดทะเบียนพาณิชย์", "agency_name": "กรมพัฒนาธุรกิจการค้า", "approved": False,
        "reason": "สถานที่ตั้งอยู่ในเขตห้ามประกอบกิจการ", "application_url": LINK,
    },
    "payment_due": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอจดทะเบียนพาณิชย์", "amount_satang": 123450,
        "due_at": datetime(2026, 12, 30, 16, 59, 59, tzinfo=UTC), "payment_url": PAY_LINK,
    },
    "payment_expired": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอจดทะเบียนพาณิชย์", "amount_satang": 123450,
        "due_at": datetime(2026, 12, 30, 16, 59, 59, tzinfo=UTC), "application_url": LINK,
    },
    "licence_issued": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอจดทะเบียนพาณิชย์", "licence_number": "BKK-L-000123", "issued_on": date(2026, 12, 20),
        "download_url": PDF_LINK,
    },
    "section10_notice": {
        "applicant_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอจดทะเบียนพาณิชย์", "agency_name": "กรมพัฒนาธุรกิจการค้า",
        "due_date": date(2026, 12, 15), "days_overdue": 8,
        "reasons": ["รอความเห็นจากกรมโยธาธิการและผังเมือง", "คณะกรรมการยังไม่ได้ประชุม"], "application_url": LINK,
    },
    "renewal_reminder": {
        "holder_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่จำหน่ายอาหาร", "licence_number": "LAO-L-000123",
        "business_name": "ร้านข้าวมันไก่น้ำใจ", "valid_until": date(2026, 11, 30), "days_left": 30,
        "renew_by": date(2026, 12, 30), "renew_url": "https://bizportal.test/api/v1/issued-licences/LAO-L-000123/renewals",
    },
    "licence_cancelled": {
        "holder_name": "นางสาวสมหญิง ใจดี", "tracking_number": "BP-T-000123",
        "licence_name": "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่จำหน่ายอาหาร", "licence_number": "LAO-L-000123",
        "business_name": "ร้านข้าวมันไก่น้ำใจ", "agency_name": "สำนักงานเขตคลองเตย", "cancelled_on": date(2026, 12, 20),
        "application_url": LINK,
    },
}


# --- templates -----------------------------------------------------------------------------------------


def test_the_samples_cover_every_event() -> None:
    assert set(SAMPLES) == EVENTS


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize("event", sorted(SAMPLES))
def test_every_event_renders_in_both_languages(event: str, lang: str) -> None:
    message = render(event, lang, SAMPLES[event])  # type: ignore[arg-type]
    assert message.subject.startswith("Biz Portal: ")
    assert "\n" not in message.subject and "{" not in message.subject
    assert "{{" not in message.text and "{%" not in message.text
    assert "BP-T-000123" in message.subject + message.text
    assert message.text.startswith("เรียน " if lang == "th" else "Dear ")
    assert message.links, "every event links to the application, the payment or the document"
    for link in message.links:
        assert link.url in message.text
    # Dates: the Buddhist era in Thai, the common era in English.
    if any(isinstance(value, date) for value in SAMPLES[event].values()):
        assert ("2569" if lang == "th" else "2026") in message.text
    assert ("2026" if lang == "th" else "2569") not in message.text


def test_thai_and_english_say_the_specific_things() -> None:
    submitted = render("application_submitted", "th", SAMPLES["application_submitted"])
    assert "1 ธันวาคม 2569" in submitted.text  # 09:00 in Bangkok, Buddhist era
    assert "- ขอจดทะเบียนพาณิชย์ (กรมพัฒนาธุรกิจการค้า)" in submitted.text

    requested = render("documents_requested", "th", SAMPLES["documents_requested"])
    assert "แผนที่ตั้งสถานประกอบการ และหนังสือยินยอมให้ใช้สถานที่" in requested.text
    assert "  - แผนที่แสดงที่ตั้งสถานประกอบการ\n  - หนังสือยินยอมให้ใช้สถานที่" in requested.text  # each, by name
    assert "มาตรา 8" in requested.text

    rejected = render("licence_decided", "en", SAMPLES["licence_decided"])
    assert "rejected" in rejected.subject and "สถานที่ตั้งอยู่ในเขตห้ามประกอบกิจการ" in rejected.text
    approved = render("licence_decided", "th", {**SAMPLES["licence_decided"], "approved": True, "reason": None})
    assert "(อนุมัติ)" in approved.subject and "เหตุผล" not in approved.text

    assert "1,234.50 บาท" in render("payment_due", "th", SAMPLES["payment_due"]).text
    payment_en = render("payment_due", "en", SAMPLES["payment_due"])
    assert "THB 1,234.50" in payment_en.subject
    # The pay-by date: 23:59:59 on 30 December in Bangkok, B.E. 2569 in Thai.
    assert "30 December 2026" in payment_en.text and "30 ธันวาคม 2569" in render("payment_due", "th",
                                                                                SAMPLES["payment_due"]).text
    expired = render("payment_expired", "en", SAMPLES["payment_expired"])
    assert "not paid" in expired.subject and "apply again" in expired.text

    issued = render("licence_issued", "en", SAMPLES["licence_issued"])
    assert [(link.label, link.url) for link in issued.links] == [("Download the licence (PDF)", PDF_LINK)]
    assert "not attached" in issued.text

    notice_th = render("section10_notice", "th", SAMPLES["section10_notice"])
    assert "มาตรา 10" in notice_th.subject
    for words in ("พ.ศ. 2558", "15 ธันวาคม 2569", "เกินกำหนดมาแล้ว 8 วัน", "- คณะกรรมการยังไม่ได้ประชุม",
                  "ทุก 7 วัน", "สำนักงาน ก.พ.ร."):
        assert words in notice_th.text
    notice_en = render("section10_notice", "en", {**SAMPLES["section10_notice"], "days_overdue": 1})
    for words in ("Section 10", "B.E. 2558", "1 day overdue", "every 7 days until a decision", "OPDC"):
        assert words in notice_en.text


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize(("event", "name"), [(event, name) for event, sample in sorted(SAMPLES.items())
                                             for name in sample])
def test_a_missing_variable_is_an_error(event: str, name: str, lang: str) -> None:
    context = {key: value for key, value in SAMPLES[event].items() if key != name}
    with pytest.raises(UndefinedError, match=name):
        render(event, lang, context)  # type: ignore[arg-type]


def test_an_approval_needs_no_reason() -> None:
    context = {key: value for key, value in SAMPLES["licence_decided"].items() if key != "reason"}
    assert "approved" in render("licence_decided", "en", {**context, "approved": True}).subject


def test_unknown_events_and_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown notification event 'licence_exploded'"):
        render("licence_exploded", "th", {})
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render("payment_due", "fr", SAMPLES["payment_due"])  # type: ignore[arg-type]


def test_amounts_are_satang_printed_as_baht() -> None:
    assert [baht(v) for v in (0, 5, 100, 123450, 123456789, -2550)] == [
        "0.00", "0.05", "1.00", "1,234.50", "1,234,567.89", "-25.50"]
    for wrong in (12.5, True, "100"):
        with pytest.raises(TypeError):
            baht(wrong)


def test_a_time_prints_as_the_date_in_bangkok() -> None:
    late = {**SAMPLES["application_submitted"], "submitted_at": datetime(2026, 12, 31, 18, 0, tzinfo=UTC)}
    assert "1 มกราคม 2570" in render("application_submitted", "th", late).text
    assert "1 January 2027" in render("application_submitted", "en", late).text
    with pytest.raises(ValueError, match="naive"):
        render("application_submitted", "th", {**late, "submitted_at": datetime(2026, 12, 31, 18, 0)})


# --- storing and sending -------------------------------------------------------------------------------


@pytest.fixture
def db() -> Iterator[Engine]:
    engine = make_engine("sqlite://", poolclass=StaticPool)  # one in-memory database, foreign keys on
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def application_id(db: Engine) -> str:
    with transaction(db) as session:
        row = ApplicationRow(
            id=str(uuid.uuid4()), owner="alice", created_by="alice", created_by_role="applicant",
            applicant_kind="person", applicant_id_number="1101700230705", applicant_name="นางสาวสมหญิง ใจดี",
            applicant_email=APPLICANT, business_name="ร้านข้าวมันไก่น้ำใจ", business_address="99/9 สุขุมวิท 22",
            business_province="กรุงเทพมหานคร", business_area_m2=40.0)
        session.add(row)
    return row.id


def _outbox(db: Engine, clock: Any, port: int) -> Outbox:
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER, timeout=2)
    # The engine's send job, with the two parts of the context it reads.
    context = SimpleNamespace(notifications=channel, clock=clock)
    return Outbox(db, clock, {SEND_JOB: send_notification}, context)  # type: ignore[arg-type]


def _notify_section10(db: Engine, clock: Any, application_id: str) -> str:
    with transaction(db) as session:
        row = notify(session, clock, application_id=application_id, event="section10_notice", lang="th",
                     to=[APPLICANT], cc=[OPDC], context=SAMPLES["section10_notice"])
    return row.id


def test_a_notification_is_stored_with_its_job_and_sent_after_commit(
        db: Engine, clock: Any, application_id: str, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    notification_id = _notify_section10(db, clock, application_id)

    with Session(db) as session:
        [job] = session.exec(select(OutboxRow)).all()
        assert (job.job, job.payload) == (SEND_JOB, {"notification_id": notification_id})
        [pending] = notifications_for(session, application_id)
        assert (pending.state, pending.sent_at, pending.cc) == ("pending", None, [OPDC])
    assert handler.envelopes == []  # nothing leaves before the dispatcher runs the committed job

    outbox = _outbox(db, clock, port)
    assert dispatch_pending(outbox, InProcessQueue(outbox)) == 1

    [message] = handler.messages()
    assert message["Message-ID"] == f"<{notification_id}@bizportal.test>"
    assert message["To"] == APPLICANT and message["Cc"] == OPDC
    assert message["Subject"].startswith("Biz Portal: แจ้งเหตุที่ยังพิจารณาคำขอเลขที่ BP-T-000123")
    assert "ทุก 7 วัน" in message.get_content() and LINK in message.get_content()
    assert list(message.iter_attachments()) == []
    with Session(db) as session:
        row = session.get(NotificationRow, notification_id)
        assert row is not None
        assert (row.state, row.attempts, row.message_id, row.sent_at) == (
            "sent", 1, f"<{notification_id}@bizportal.test>", clock.now())
        [view] = notifications_for(session, application_id)
        assert (view.event, view.recipients, view.state, view.sent_at) == (
            "section10_notice", [APPLICANT], "sent", clock.now())
        assert view.subject == row.subject and view.created_at == clock.now()

    # A second delivery of the same job sends nothing more.
    assert dispatch_pending(outbox, InProcessQueue(outbox)) == 0
    with transaction(db) as session:
        send_notification_job(SmtpEmailChannel("127.0.0.1", port, SENDER), session,
                              {"notification_id": notification_id})
    assert len(handler.envelopes) == 1


def test_nothing_is_stored_for_a_notification_that_cannot_be_sent(db: Engine, clock: Any,
                                                                   application_id: str) -> None:
    context = SAMPLES["section10_notice"]
    with Session(db) as session:
        with pytest.raises(ValueError, match="copied to OPDC"):
            notify(session, clock, application_id=application_id, event="section10_notice", lang="en",
                   to=[APPLICANT], context=context)
        with pytest.raises(ValueError, match="not an e-mail address"):
            notify(session, clock, application_id=application_id, event="section10_notice", lang="en",
                   to=["somying at example"], cc=[OPDC], context=context)
        with pytest.raises(ValueError, match="copied to OPDC"):
            notify(session, clock, application_id=application_id, event="section10_notice", lang="en",
                   to=APPLICANT, cc=None, context=context)
        with pytest.raises(UndefinedError):
            notify(session, clock, application_id=application_id, event="section10_notice", lang="en",
                   to=[APPLICANT], cc=[OPDC], context={k: v for k, v in context.items() if k != "reasons"})
        assert list(session.new) == []


def test_a_retriable_failure_is_retried_with_back_off_and_then_sent(
        db: Engine, clock: Any, application_id: str, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    notification_id = _notify_section10(db, clock, application_id)
    down = _outbox(db, clock, free_port())  # nothing listens there: connection refused

    assert dispatch_pending(down, InProcessQueue(down)) == 1
    with Session(db) as session:
        job = session.exec(select(OutboxRow)).one()
        assert (job.state, job.attempts) == ("pending", 1)
        assert job.last_error is not None and job.last_error.startswith("RetriableNotificationError")
        [view] = notifications_for(session, application_id)
        assert (view.state, view.attempts, view.last_error) == ("pending", 1, job.last_error)
        assert session.get(NotificationRow, notification_id).state == "pending"  # type: ignore[union-attr]

    # The job raises the retriable error itself, so the outbox (not the job) owns the back-off.
    with pytest.raises(RetriableNotificationError), transaction(db) as session:
        send_notification_job(SmtpEmailChannel("127.0.0.1", free_port(), SENDER), session,
                              {"notification_id": notification_id})

    up = _outbox(db, clock, port)
    assert dispatch_pending(up, InProcessQueue(up)) == 0  # not due yet: back-off
    clock.advance(seconds=2)
    assert dispatch_pending(up, InProcessQueue(up)) == 1
    assert len(handler.envelopes) == 1
    with Session(db) as session:
        [view] = notifications_for(session, application_id)
        assert (view.state, view.sent_at) == ("sent", clock.now())


def test_a_notification_whose_job_gave_up_shows_as_failed(db: Engine, clock: Any, application_id: str) -> None:
    _notify_section10(db, clock, application_id)
    down = _outbox(db, clock, free_port())
    for _ in range(MAX_ATTEMPTS):
        dispatch_pending(down, InProcessQueue(down))
        clock.advance(minutes=5)
    with Session(db) as session:
        assert session.exec(select(OutboxRow)).one().state == "failed"
        [view] = notifications_for(session, application_id)
        assert (view.state, view.attempts) == ("failed", MAX_ATTEMPTS)
        assert view.last_error is not None and "unavailable" in view.last_error


def test_a_final_failure_marks_the_notification_failed(
        db: Engine, clock: Any, application_id: str, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse = {APPLICANT: "550 5.1.1 No such user", OPDC: "550 5.1.1 No such user"}
    notification_id = _notify_section10(db, clock, application_id)
    outbox = _outbox(db, clock, port)

    assert dispatch_pending(outbox, InProcessQueue(outbox)) == 1
    clock.advance(hours=1)
    assert dispatch_pending(outbox, InProcessQueue(outbox)) == 0  # final: never retried
    assert handler.envelopes == []
    with Session(db) as session:
        assert session.exec(select(OutboxRow)).one().state == "done"
        row = session.get(NotificationRow, notification_id)
        assert row is not None and (row.state, row.attempts, row.sent_at) == ("failed", 1, None)
        assert row.last_error is not None and row.last_error.startswith("FinalNotificationError")
        assert "550 5.1.1 No such user" in row.last_error
        [view] = notifications_for(session, application_id)
        assert (view.state, view.last_error) == ("failed", row.last_error)


def test_a_partly_refused_notification_is_sent_and_says_who_was_refused(
        db: Engine, clock: Any, application_id: str, mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse = {OPDC: "550 5.1.1 No such user"}
    notification_id = _notify_section10(db, clock, application_id)
    outbox = _outbox(db, clock, port)
    dispatch_pending(outbox, InProcessQueue(outbox))
    with Session(db) as session:
        row = session.get(NotificationRow, notification_id)
        assert row is not None and row.state == "sent"
        assert row.last_error == f"refused: {OPDC}: 550 5.1.1 No such user"
    assert [e.rcpt_tos for e in handler.envelopes] == [[APPLICANT]]


def test_one_address_may_be_given_as_a_string(db: Engine, clock: Any, application_id: str) -> None:
    with transaction(db) as session:
        row = notify(session, clock, application_id=application_id, event="section10_notice", lang="en",
                     to=APPLICANT, cc=OPDC, context=SAMPLES["section10_notice"])
    assert (row.recipients, row.cc, row.lang) == ([APPLICANT], [OPDC], "en")


def test_the_log_lists_only_the_application_s_notifications_oldest_first(
        db: Engine, clock: Any, application_id: str) -> None:
    first = _notify_section10(db, clock, application_id)
    clock.advance(days=7)
    second = _notify_section10(db, clock, application_id)
    with transaction(db) as session:
        notify(session, clock, application_id=None, event="payment_due", lang="en", to=[APPLICANT],
               context=SAMPLES["payment_due"])
    with Session(db) as session:
        assert [view.id for view in notifications_for(session, application_id)] == [first, second]
        assert notifications_for(session, "no-such-application") == []
