"""The SMTP e-mail channel against a real SMTP server (aiosmtpd) listening on 127.0.0.1."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError

from bizportal.adapters.notifications.base import (
    FinalNotificationError,
    Link,
    Notification,
    NotificationChannel,
    RetriableNotificationError,
)
from bizportal.adapters.notifications.smtp import SmtpEmailChannel
from bizportal.api.stack.ports import free_port
from support.smtp_server import Mailbox

SENDER = "Biz Portal <noreply@bizportal.test>"
SUBJECT_TH = "Biz Portal: ออกใบอนุญาตเลขที่ กทม-อ.2569/000123 แล้ว"
TEXT_TH = ("เรียน นางสาวสมหญิง ใจดี\n\nใบอนุญาตของท่านได้ออกแล้ว\n"
           "ดาวน์โหลดใบอนุญาตอิเล็กทรอนิกส์ (PDF) ได้ที่: https://bizportal.test/licences/123/pdf\n")
PDF_URL = "https://bizportal.test/licences/123/pdf"
STATUS_URL = "https://bizportal.test/applications/abc?tab=status&lang=th"


def thai_notification(**changes: Any) -> Notification:
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()), "to": ["somying@example.co.th"], "cc": ["copy@opdc.example.go.th"],
        "subject": SUBJECT_TH, "text": TEXT_TH,
        "links": [Link(label="ดาวน์โหลดใบอนุญาต (PDF)", url=PDF_URL), Link(label="ติดตามสถานะคำขอ", url=STATUS_URL)],
    }
    fields.update(changes)
    return Notification(**fields)


def test_a_thai_notification_arrives_as_utf8_text_with_its_links_and_no_attachment(
        mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER)
    notification = thai_notification()

    receipt = channel.send(notification)

    assert receipt.channel == "email"
    assert receipt.message_id == f"<{notification.id}@bizportal.test>"
    assert receipt.accepted == ["somying@example.co.th", "copy@opdc.example.go.th"]
    assert receipt.refused == {}
    [envelope] = handler.envelopes
    assert envelope.mail_from == "noreply@bizportal.test"
    assert envelope.rcpt_tos == ["somying@example.co.th", "copy@opdc.example.go.th"]
    [message] = handler.messages()
    assert message["Subject"] == SUBJECT_TH
    assert message["To"] == "somying@example.co.th"
    assert message["Cc"] == "copy@opdc.example.go.th"
    assert message["Message-ID"] == receipt.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "นางสาวสมหญิง ใจดี" in body
    assert body.count(PDF_URL) == 1  # already in the text: not repeated
    assert f"ติดตามสถานะคำขอ: {STATUS_URL}" in body  # missing from the text: appended
    assert not message.is_multipart()
    assert list(message.iter_attachments()) == []
    assert all(part.get_content_disposition() is None for part in message.walk())


def test_html_goes_as_an_alternative_with_the_links(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    html = "<html><body><p>ใบอนุญาตของท่านได้ออกแล้ว</p></body></html>"
    SmtpEmailChannel("127.0.0.1", port, SENDER).send(thai_notification(html=html))

    [message] = handler.messages()
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and "นางสาวสมหญิง" in plain.get_content()
    assert rich.get_content_type() == "text/html"
    rich_body = rich.get_content()
    assert "ใบอนุญาตของท่านได้ออกแล้ว" in rich_body
    assert f'<a href="{PDF_URL}">ดาวน์โหลดใบอนุญาต (PDF)</a>' in rich_body
    assert f'<a href="{STATUS_URL.replace("&", "&amp;")}">' in rich_body
    assert rich_body.index("<ul>") < rich_body.index("</body>")
    assert list(message.iter_attachments()) == []


def test_a_resend_carries_the_same_message_id(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER)
    notification = thai_notification()
    first = channel.send(notification)
    second = channel.send(notification)
    assert first.message_id == second.message_id
    assert [m["Message-ID"] for m in handler.messages()] == [first.message_id] * 2


def test_connection_refused_is_retriable() -> None:
    channel = SmtpEmailChannel("127.0.0.1", free_port(), SENDER, timeout=2)
    with pytest.raises(RetriableNotificationError, match="unavailable"):
        channel.send(thai_notification())


def test_permanently_refused_recipients_are_final(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse = {"somying@example.co.th": "550 5.1.1 No such user",
                      "copy@opdc.example.go.th": "550 5.1.1 No such user"}
    with pytest.raises(FinalNotificationError, match="550 5.1.1 No such user"):
        SmtpEmailChannel("127.0.0.1", port, SENDER).send(thai_notification())
    assert handler.envelopes == []


def test_temporarily_refused_recipients_are_retriable(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse = {"somying@example.co.th": "450 4.2.1 Mailbox busy, try later"}
    with pytest.raises(RetriableNotificationError, match="450"):
        SmtpEmailChannel("127.0.0.1", port, SENDER).send(thai_notification(cc=[]))


def test_a_partly_refused_message_is_sent_and_says_who_was_refused(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    handler.refuse = {"copy@opdc.example.go.th": "550 5.1.1 No such user"}
    receipt = SmtpEmailChannel("127.0.0.1", port, SENDER).send(thai_notification())
    assert receipt.accepted == ["somying@example.co.th"]
    assert receipt.refused == {"copy@opdc.example.go.th": "550 5.1.1 No such user"}
    assert [e.rcpt_tos for e in handler.envelopes] == [["somying@example.co.th"]]


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_mailbox(tmp_path: Path) -> Iterator[tuple[Mailbox, int, ssl.SSLContext]]:
    """A relay that requires STARTTLS and a login (user `portal`, password `s3cret`)."""
    cert_path, key_path = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"portal" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: the server itself answers 535

    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        yield handler, controller.port, ssl.create_default_context(cafile=str(cert_path))
    finally:
        controller.stop()


def test_starttls_and_login(tls_mailbox: tuple[Mailbox, int, ssl.SSLContext]) -> None:
    handler, port, client_tls = tls_mailbox
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER, username="portal", password="s3cret", starttls=True,
                               ssl_context=client_tls)
    channel.send(thai_notification())
    assert handler.messages()[0]["Subject"] == SUBJECT_TH


def test_a_refused_login_is_retriable_configuration(tls_mailbox: tuple[Mailbox, int, ssl.SSLContext]) -> None:
    handler, port, client_tls = tls_mailbox
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER, username="portal", password="wrong", starttls=True,
                               ssl_context=client_tls)
    with pytest.raises(RetriableNotificationError, match="535"):
        channel.send(thai_notification())
    assert handler.envelopes == []


def test_an_untrusted_certificate_is_refused(tls_mailbox: tuple[Mailbox, int, ssl.SSLContext]) -> None:
    _, port, _ = tls_mailbox
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER, username="portal", password="s3cret", starttls=True)
    with pytest.raises(RetriableNotificationError, match="CERTIFICATE_VERIFY_FAILED"):
        channel.send(thai_notification())


def test_the_channel_meets_the_contract() -> None:
    assert isinstance(SmtpEmailChannel("127.0.0.1", 25, SENDER), NotificationChannel)


@pytest.mark.parametrize("changes", [
    {"to": []},
    {"to": ["not-an-address"]},
    {"to": ["a@b.example\r\nBcc: victim@example.com"]},
    {"cc": ["สมหญิง@example.co.th"]},
    {"subject": "line one\r\nBcc: victim@example.com"},
    {"id": "<injected>"},
    {"links": [{"label": "x", "url": "javascript:alert(1)"}]},
])
def test_a_malformed_notification_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        thai_notification(**changes)


def test_a_sender_must_be_an_address() -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        SmtpEmailChannel("127.0.0.1", 25, "Biz Portal")
