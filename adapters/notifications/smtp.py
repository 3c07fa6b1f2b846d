"""E-mail over SMTP with the standard library: UTF-8 text (and optional HTML), links, no attachments."""

from __future__ import annotations

import html as html_lib
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bizportal.adapters.notifications.base import (
    DeliveryReceipt,
    FinalNotificationError,
    Link,
    Notification,
    RetriableNotificationError,
    check_address,
)

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


class SmtpSettings(BaseModel):
    """The `smtp` plug-in's settings (BIZPORTAL_SMTP_HOST, _PORT, _SENDER, _USERNAME, _PASSWORD, _STARTTLS)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    sender: str = Field(min_length=3, description='the From address, e.g. "Biz Portal <noreply@example.go.th>"')
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    timeout: float = Field(default=10, gt=0)


class SmtpEmailChannel:
    """Sends each notification as one e-mail through an SMTP relay.

    Documents are never attached (mail systems commonly refuse messages over 25 MB): every link of
    the notification appears in the body. The Message-ID is built from the notification id, so a
    resend after a lost answer carries the same Message-ID and reads as the same message.

    Args:
        host, port: the SMTP relay.
        sender: the From address, optionally with a display name ("Biz Portal <noreply@example.go.th>").
        username, password: log in when a username is given.
        starttls: upgrade the connection with STARTTLS before logging in or sending.
        timeout: seconds for the connection and each command.
        ssl_context: for STARTTLS; default verifies the server against the system's CAs.
    """

    name = "email"
    Settings = SmtpSettings

    @classmethod
    def from_settings(cls, settings: SmtpSettings, http: Any = None) -> SmtpEmailChannel:
        """The `smtp` plug-in: built from its checked settings (`http` is unused: mail goes over SMTP)."""
        return cls(settings.host, settings.port, settings.sender, username=settings.username,
                   password=settings.password.get_secret_value() if settings.password else None,
                   starttls=settings.starttls, timeout=settings.timeout)

    def __init__(self, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        _, address = parseaddr(sender)
        self.envelope_sender = check_address(address)
        self.domain = address.rsplit("@", 1)[1]
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context

    def message_id(self, notification_id: str) -> str:
        return f"<{notification_id}@{self.domain}>"

    def build_message(self, notification: Notification) -> EmailMessage:
        """The e-mail for `notification`: text/plain, or multipart/alternative when it has HTML."""
        message = EmailMessage()
        message["Subject"] = notification.subject
        message["From"] = self.sender
        message["To"] = ", ".join(notification.to)
        if notification.cc:
            message["Cc"] = ", ".join(notification.cc)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = self.message_id(notification.id)
        # RFC 3834: tells vacation responders and ticket systems not to answer a machine.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(_text_with_links(notification.text, notification.links), charset="utf-8")
        if notification.html is not None:
            message.add_alternative(_html_with_links(notification.html, notification.links), subtype="html",
                                    charset="utf-8")
        return message

    def send(self, notification: Notification) -> DeliveryReceipt:
        """Send one e-mail to every `to` and `cc` address.

        Args:
            notification: the message; its id becomes the Message-ID.

        Returns:
            The Message-ID and the recipients the relay accepted; recipients it refused while
            accepting others are in `refused` (the message went out, so this is no error).

        Raises:
            FinalNotificationError: every recipient was refused permanently (5xx), or the relay
                refused the message itself permanently (5xx after DATA).
            RetriableNotificationError: the relay was unreachable or timed out, answered with a
                temporary 4xx, refused the login, sender or STARTTLS (configuration that can be
                fixed without changing the notification).
        """
        message = self.build_message(notification)
        recipients = list(dict.fromkeys([*notification.to, *notification.cc]))
        try:
            refused = self._deliver(message, recipients)
        except smtplib.SMTPRecipientsRefused as err:
            answers = {rcpt: _answer(code, text) for rcpt, (code, text) in err.recipients.items()}
            detail = "; ".join(f"{rcpt}: {answer}" for rcpt, answer in answers.items())
            if all(code >= 500 for code, _ in err.recipients.values()):
                raise FinalNotificationError(f"every recipient was refused: {detail}") from err
            raise RetriableNotificationError(f"recipients refused for now: {detail}") from err
        except smtplib.SMTPDataError as err:
            answer = _answer(err.smtp_code, err.smtp_error)
            if err.smtp_code >= 500:
                raise FinalNotificationError(f"the relay refused the message: {answer}") from err
            raise RetriableNotificationError(f"the relay deferred the message: {answer}") from err
        except smtplib.SMTPResponseException as err:
            raise RetriableNotificationError(
                f"SMTP {self.host}:{self.port} answered {_answer(err.smtp_code, err.smtp_error)}") from err
        except (smtplib.SMTPException, OSError) as err:
            raise RetriableNotificationError(
                f"SMTP {self.host}:{self.port} unavailable: {type(err).__name__}: {err}") from err
        return DeliveryReceipt(
            channel=self.name, message_id=message["Message-ID"],
            accepted=[rcpt for rcpt in recipients if rcpt not in refused],
            refused={rcpt: _answer(code, text) for rcpt, (code, text) in refused.items()})

    def _deliver(self, message: EmailMessage, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        # Connect in the constructor: it records the host that STARTTLS checks the certificate against.
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            return smtp.send_message(message, from_addr=self.envelope_sender, to_addrs=recipients)
        finally:
            # The message is already accepted (or not) at this point: a failing QUIT changes nothing.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {text}"


def _text_with_links(text: str, links: list[Link]) -> str:
    missing = [link for link in links if link.url not in text]
    if not missing:
        return text
    return text.rstrip("\n") + "\n\n" + "\n".join(f"{link.label}: {link.url}" for link in missing) + "\n"


def _html_with_links(html: str, links: list[Link]) -> str:
    missing = [link for link in links
               if link.url not in html and html_lib.escape(link.url) not in html]
    if not missing:
        return html
    items = "".join(f'<li><a href="{html_lib.escape(link.url)}">{html_lib.escape(link.label)}</a></li>'
                    for link in missing)
    block = f"<ul>{items}</ul>"
    end = _BODY_END.search(html)
    if end is None:
        return html + block
    return html[:end.start()] + block + html[end.start():]
