"""Notifications to applicants: rendered from templates, stored, and sent by an outbox job.

A use case calls `notify` inside its transaction: the message is rendered and stored with an
outbox job, so it goes out only if the state change it reports commits. The job
(`send_notification_job`) sends it through a `NotificationChannel` and records the outcome.
Documents go as links in the body, never as attachments (mail systems cap messages near 25 MB).

Each event has a template per language in `notification_templates/` (`<event>.<lang>.txt`, the
subject on the first line). The context each event needs (a missing name is an error):

- `application_submitted`: applicant_name, tracking_number, submitted_at (date or aware datetime),
  licences (a list of {name, agency}), application_url
- `documents_requested`: applicant_name, tracking_number, licence_name, agency_name,
  comment (the officer's written list of what is missing, Section 8), application_url
- `licence_decided`: applicant_name, tracking_number, licence_name, agency_name, approved (bool),
  reason (when rejected), application_url
- `payment_due`: applicant_name, tracking_number, licence_name, amount_satang (int), due_at (the pay-by
  date: the invoice expires after it), payment_url
- `payment_expired`: applicant_name, tracking_number, licence_name, amount_satang, due_at, application_url
- `licence_issued`: applicant_name, tracking_number, licence_name, licence_number, issued_on,
  download_url (the tracking page's downloads: a stable page, not a short-lived signed object-store URL, as mail
  is read late)
- `section10_notice`: applicant_name, tracking_number, licence_name, agency_name, due_date (the end of
  the time in the manual), days_overdue (calendar days since due_date), reasons (a list of str),
  application_url. Licensing Facilitation Act B.E. 2558 s.10: sent every 7 days until the decision,
  with a copy to OPDC, so `notify` refuses it without a `cc`.
- `renewal_reminder`: holder_name, tracking_number (of the application the licence was issued on),
  licence_name, licence_number, business_name, valid_until (date), days_left (int), renew_by (the last day
  of the grace period), renew_url
- `licence_cancelled`: holder_name, tracking_number, licence_name, licence_number, business_name,
  agency_name, cancelled_on, application_url

Dates print in the Buddhist era in Thai (`thai_date`) and the common era in English.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape
from sqlmodel import Session

from bizportal.adapters.notifications.base import (
    FinalNotificationError,
    Link,
    Notification,
    NotificationChannel,
)
from bizportal.engine import outbox
from bizportal.engine.clock import BANGKOK, Clock, SystemClock
from bizportal.engine.documents.licence_pdf import english_date, thai_date
from bizportal.storage.notifications import NotificationRow, NotificationState

log = logging.getLogger(__name__)

Lang = Literal["th", "en"]
LANGUAGES: tuple[Lang, ...] = ("th", "en")
SEND_JOB = "send_notification"
SECTION10_NOTICE = "section10_notice"
TEMPLATE_DIR = Path(__file__).with_name("templates")

# The links each event carries: (context name of the URL, Thai label, English label). The body
# prints them too; the list lets a channel show them as buttons and proves no document is attached.
_LINKS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "application_submitted": (("application_url", "ติดตามสถานะคำขอ", "Follow your application"),),
    "documents_requested": (("application_url", "ส่งเอกสารเพิ่มเติม", "Provide the documents"),),
    "licence_decided": (("application_url", "ดูรายละเอียดคำขอ", "See your application"),),
    "payment_due": (("payment_url", "ชำระค่าธรรมเนียม", "Pay the fee"),),
    "payment_expired": (("application_url", "ดูรายละเอียดคำขอ", "See your application"),),
    "licence_issued": (("download_url", "ดาวน์โหลดใบอนุญาต (PDF)", "Download the licence (PDF)"),),
    SECTION10_NOTICE: (("application_url", "ติดตามสถานะคำขอ", "Follow your application"),),
    "renewal_reminder": (("renew_url", "ยื่นคำขอต่ออายุใบอนุญาต", "Renew the licence"),),
    "licence_cancelled": (("application_url", "ดูรายละเอียดคำขอ", "See your request"),),
}
EVENTS: frozenset[str] = frozenset(_LINKS)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    links: list[Link] = field(default_factory=list)


def _local_date(value: Any) -> date:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (dates print in Bangkok time)")
        return value.astimezone(BANGKOK).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def _thai_date(value: Any) -> str:
    return thai_date(_local_date(value))


def _english_date(value: Any) -> str:
    return english_date(_local_date(value))


def baht(satang: Any) -> str:
    """Integer satang as baht with thousands separators: 123450 -> "1,234.50"."""
    if isinstance(satang, Undefined):
        satang._fail_with_undefined_error()
    if isinstance(satang, bool) or not isinstance(satang, int):
        raise TypeError(f"amounts are integer satang, got {satang!r}")
    sign = "-" if satang < 0 else ""
    whole, fraction = divmod(abs(satang), 100)
    return f"{sign}{whole:,}.{fraction:02d}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # Only HTML templates escape; the text ones print officers' comments as written.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(thai_date=_thai_date, english_date=_english_date, baht=baht)
    return env


_ENV = _environment()


def render(event: str, lang: Lang, context: Mapping[str, Any]) -> RenderedMessage:
    """Render the message for `event` in `lang`.

    Raises:
        ValueError: unknown event or language, or a template whose subject line is empty.
        jinja2.UndefinedError: the context lacks a name the template uses.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; known: {', '.join(sorted(EVENTS))}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    rendered = _ENV.get_template(f"{event}.{lang}.txt").render(dict(context))
    subject, _, body = rendered.partition("\n")
    subject = subject.strip()
    if not subject:
        raise ValueError(f"template {event}.{lang}.txt renders an empty subject line")
    links = []
    for name, label_th, label_en in _LINKS[event]:
        url = context.get(name)
        if not isinstance(url, str):
            raise ValueError(f"{event}: context {name!r} must be the URL string of the link")
        links.append(Link(label=label_th if lang == "th" else label_en, url=url))
    return RenderedMessage(subject=subject, text=body.strip("\n") + "\n", links=links)


def notify(session: Session, clock: Clock, *, application_id: str | None, event: str, lang: Lang,
           to: str | Sequence[str], cc: str | Sequence[str] | None = (),
           context: Mapping[str, Any]) -> NotificationRow:
    """Render a notification, store it, and enqueue the job that sends it. Does not commit.

    Args:
        application_id: the application the log files it under (None for messages about no application).
        to, cc: an e-mail address or a sequence of them (`cc` may be None); a Section 10 notice must
            be copied to OPDC through `cc`.

    Returns:
        The stored row (state "pending"); its id is the idempotency key of the message.

    Raises:
        ValueError: unknown event or language, a bad address, or a Section 10 notice without a copy.
        jinja2.UndefinedError: the context lacks a name the event's template uses.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    copies = [] if cc is None else [cc] if isinstance(cc, str) else list(cc)
    if event == SECTION10_NOTICE and not copies:
        raise ValueError("a Section 10 notice is copied to OPDC: pass the OPDC address in `cc`")
    message = render(event, lang, context)
    # Built here, not only in the job, so a bad address fails the use case instead of a later job.
    notification = Notification(id=str(uuid.uuid4()), to=recipients, cc=copies, subject=message.subject,
                                text=message.text, links=message.links)
    row = NotificationRow(
        id=notification.id, application_id=application_id, event=event, lang=lang, channel="email",
        recipients=notification.to, cc=notification.cc, subject=notification.subject, body=notification.text,
        links=[link.model_dump() for link in notification.links], state=NotificationState.PENDING,
        created_at=clock.now())
    session.add(row)
    job = outbox.enqueue(session, SEND_JOB, clock, notification_id=row.id)
    row.outbox_id = job.id
    return row


def send_notification_job(channel: NotificationChannel, session: Session, payload: Mapping[str, Any], *,
                          clock: Clock | None = None) -> None:
    """Outbox job: send one stored notification and record the outcome.

    Register it as `partial(send_notification_job, channel, clock=clock)`. Sending is at least
    once: if the commit after a successful send fails, the job runs again and the message goes
    out again with the same Message-ID, which mail clients recognise as the same message.

    Raises:
        RetriableNotificationError: passed on, so the outbox retries with back-off.
    """
    row = session.get(NotificationRow, payload["notification_id"])
    if row is None:
        log.warning("notification %s no longer exists; nothing to send", payload["notification_id"])
        return
    if row.state != NotificationState.PENDING:
        return  # sent already, or failed for good: a duplicate delivery of the job changes nothing
    notification = Notification(id=row.id, to=row.recipients, cc=row.cc, subject=row.subject, text=row.body,
                                links=[Link.model_validate(link) for link in row.links])
    row.attempts += 1
    try:
        receipt = channel.send(notification)
    except FinalNotificationError as err:
        row.state = NotificationState.FAILED
        row.last_error = f"{type(err).__name__}: {err}"
        session.add(row)
        return
    row.state = NotificationState.SENT
    row.channel = receipt.channel
    row.message_id = receipt.message_id
    row.sent_at = (clock or SystemClock()).now()
    row.last_error = ("refused: " + "; ".join(f"{rcpt}: {answer}" for rcpt, answer in receipt.refused.items())
                      if receipt.refused else None)
    session.add(row)
