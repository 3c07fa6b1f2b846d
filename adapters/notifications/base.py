"""The notification contract: one message to people, sent through some channel (e-mail first).

Documents never travel as attachments: mail systems commonly cap a message at 25 MB, so a
licence or a set of documents goes as links to stored files (`Notification.links`).
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

# Deliberately simple: one @, no whitespace, no characters that would break an address header,
# a dot in the domain. Whether the mailbox exists is the mail server's answer, not ours.
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\.]+")
# Usable as the left part of a Message-ID (RFC 5322 dot-atom), so the id can name the message.
_NOTIFICATION_ID = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def check_address(value: str) -> str:
    """Return `value` if it looks like an e-mail address, else raise ValueError.

    Addresses are ASCII: an internationalised domain is written in its punycode (xn--) form, so
    every SMTP server can take it without the SMTPUTF8 extension.
    """
    if not value.isascii() or not _ADDRESS.fullmatch(value):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


class Link(BaseModel):
    """A document or page the reader opens from the message."""

    label: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2000)

    @field_validator("label")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("a link label is one line")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
            raise ValueError(f"links are absolute http(s) URLs without spaces: {value!r}")
        return value


class Notification(BaseModel):
    """One message to send.

    `id` is the idempotency key: the same notification sent twice carries the same id, so the
    receiving side (and a person reading two copies) can tell it is a resend.
    `text` is the complete plain-text body; `html` an optional alternative rendering of it.
    """

    id: str = Field(min_length=1, max_length=200)
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1)
    html: str | None = None
    links: list[Link] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not _NOTIFICATION_ID.fullmatch(value):
            raise ValueError("a notification id uses letters, digits, '-', '_' and single dots (a uuid fits)")
        return value

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [check_address(address) for address in value]

    @field_validator("subject")
    @classmethod
    def _one_line_subject(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("the subject is one line")
        return value


class DeliveryReceipt(BaseModel):
    """What the channel's server accepted.

    `refused` maps recipients the server turned down while accepting the others to its answer;
    the message went out, so it is not an error to retry.
    """

    channel: str
    message_id: str
    accepted: list[str]
    refused: dict[str, str] = Field(default_factory=dict)


class NotificationError(Exception):
    """Root of every error a notification channel raises."""


class RetriableNotificationError(NotificationError):
    """Sending may work later (server unreachable, timeout, temporary 4xx answer): retry with back-off."""


class FinalNotificationError(NotificationError):
    """Sending this notification will never work as it is (e.g. every recipient refused permanently)."""


@runtime_checkable
class NotificationChannel(Protocol):
    """A way to reach people: e-mail, and later SMS or chat apps."""

    name: str

    def send(self, notification: Notification) -> DeliveryReceipt:
        """Deliver one notification to its server, once per call.

        Implementations must send documents as the notification's links, never as attachments,
        and must mark the message with `notification.id` so a resend is recognisable.

        Args:
            notification: the message; its `id` is the idempotency key.

        Returns:
            The receipt: the channel's message id and which recipients the server accepted.

        Raises:
            RetriableNotificationError: a temporary failure; the same call may succeed later.
            FinalNotificationError: the notification cannot be delivered as it is; do not retry.
        """
        ...
