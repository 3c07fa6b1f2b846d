"""E-receipts: every payment gets one signed receipt PDF, made after the payment commits, read like its application."""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, select

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.documents.formats import baht
from bizportal.engine.documents.signing import validate_pdf
from bizportal.engine.outbox import InProcessQueue
from bizportal.engine.payments.receipts import ISSUE_RECEIPT, RENDER_RECEIPT, issue_receipt_job, render_receipt_job
from bizportal.storage.database import transaction
from bizportal.storage.outbox import OutboxRow
from bizportal.storage.receipts import ReceiptRow
from support.helpers import LICENCE, OFFICE, Auth, Journey

FITNESS = "hh_fitness"


def _compact(text: str) -> str:
    return unicodedata.normalize("NFC", "".join(text.split()))


def _pdf_text(pdf: bytes) -> str:
    return _compact("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def _awaiting_payment(journey: Journey, licences: list[str] | None = None) -> dict[str, Any]:
    journey.create(licences=licences or [LICENCE])
    journey.submit()
    view = journey.approve_until_payment(journey.officer)
    assert {item["status"] for item in view["invoices"]} == {"open"}
    return view


def _receipts(journey: Journey, headers: dict[str, str] | None = None) -> Any:
    return journey.client.get(f"/api/v1/applications/{journey.id}/receipts", headers=headers or journey.applicant)


class HeldQueue:
    """A job queue that runs nothing until released: shows what the payment's own transaction wrote."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def submit(self, outbox_ids: list[str]) -> None:
        self.held += outbox_ids

    def close(self) -> None:
        """Nothing to release."""


def test_counter_payment_gets_a_signed_receipt(journey: Journey, client: TestClient, engine: LicensingEngine) -> None:
    invoice = _awaiting_payment(journey)["invoices"][0]
    assert journey.pay().status_code == 200

    listed = _receipts(journey)
    assert listed.status_code == 200, listed.text
    [receipt] = listed.json()
    assert receipt["number"].startswith("BP-R-2569-") and receipt["source"] == "counter"
    assert (receipt["amount_satang"], receipt["currency"]) == (invoice["amount_satang"], "THB")

    download = client.get(receipt["pdf_url"], headers=journey.applicant)
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    pdf = download.content
    assert hashlib.sha256(pdf).hexdigest() == receipt["sha256"] and len(pdf) == receipt["size"]
    text = _pdf_text(pdf)
    manual = engine.ctx.catalogue.licence(LICENCE)
    for value in (manual.name_th, manual.name_en, baht(invoice["amount_satang"]), receipt["number"],
                  journey.view()["tracking_number"], "สมหญิง ใจดี", "เงินสด", "Counter officer (carl)"):
        assert _compact(value) in text, value
    assert "counter_officer:carl" not in text  # Carl's token has no display name: role and user id, not a label
    assert "1101700203395" not in text  # the payer's ID number is never printed (PDPA)
    assert engine.ctx.signing is not None
    check = validate_pdf(pdf, engine.ctx.signing.trust_roots)
    assert check.valid, check.reason
    events = [e for e in journey.view()["timeline"] if e["event"] == "receipt.issued"]
    assert [e["detail"]["receipt_number"] for e in events] == [receipt["number"]]


def test_the_receipt_names_the_officer_who_took_the_cash_by_the_name_their_token_carries(
        journey: Journey, client: TestClient, auth: Auth, engine: LicensingEngine) -> None:
    _awaiting_payment(journey)
    journey.counter = auth("counter_officer", "carl", name="  Carl   Somsak ")
    engine.queue = HeldQueue()
    assert journey.pay().status_code == 200
    with transaction(engine.db) as session:
        [job] = session.exec(select(OutboxRow).where(OutboxRow.job == ISSUE_RECEIPT)).all()
        payload = dict(job.payload)
    # Who took the cash is kept with the job, as the token said it at the time of payment.
    assert payload["cashier"] == {"role": "counter_officer", "subject": "carl", "name": "Carl Somsak"}

    # A job queued before names were kept reads role and user id from the payment's actor label.
    with Session(engine.db) as session:
        render_receipt_job(engine.ctx, session, {key: value for key, value in payload.items() if key != "cashier"}
                           | {"number": "BP-R-2569-999999"})
        legacy = session.exec(select(ReceiptRow)).one()
        legacy_text = _pdf_text(b"".join(engine.ctx.object_store.iter_chunks(legacy.pdf_key)))
        session.rollback()
    assert _compact("ผู้รับเงิน Received by เจ้าหน้าที่รับชำระเงิน (carl) Counter officer (carl)") in legacy_text

    engine.queue = InProcessQueue(engine.outbox)
    assert engine.outbox.run_job(job.id)  # numbered; its rendering queued, then run by the dispatch
    engine.dispatch()
    [receipt] = _receipts(journey).json()
    text = _pdf_text(client.get(receipt["pdf_url"], headers=journey.applicant).content)
    assert _compact("ผู้รับเงิน Received by Carl Somsak") in text and "(carl)" not in text


def test_receipt_is_made_after_the_payment_commits_and_only_once(journey: Journey, engine: LicensingEngine) -> None:
    _awaiting_payment(journey)
    held = HeldQueue()
    engine.queue = held
    assert journey.pay().status_code == 200
    # The payment committed with its receipt job queued, but nothing was rendered in its transaction.
    assert _receipts(journey).json() == []
    with transaction(engine.db) as session:
        jobs = session.exec(select(OutboxRow).where(OutboxRow.job == ISSUE_RECEIPT)).all()
        assert [job.state for job in jobs] == ["dispatched"] and jobs[0].id in held.held
        payload = dict(jobs[0].payload)

    engine.queue = InProcessQueue(engine.outbox)
    assert engine.outbox.run_job(jobs[0].id)  # numbered; its rendering queued, then run by the dispatch
    engine.dispatch()
    [first] = _receipts(journey).json()
    with transaction(engine.db) as session:
        [rendering] = session.exec(select(OutboxRow).where(OutboxRow.job == RENDER_RECEIPT)).all()
        render_payload = dict(rendering.payload)
    assert render_payload["number"] == first["number"]
    # Delivered again (a duplicate arq delivery, a retried outbox row): still one receipt, no number used up.
    assert engine.outbox.run_job(jobs[0].id) and engine.outbox.run_job(rendering.id)
    with transaction(engine.db) as session:
        issue_receipt_job(engine.ctx, session, payload)
        render_receipt_job(engine.ctx, session, render_payload)
    engine.dispatch()
    assert _receipts(journey).json() == [first]
    with transaction(engine.db) as session:
        assert len(session.exec(select(ReceiptRow)).all()) == 1
        assert len(session.exec(select(OutboxRow).where(OutboxRow.job == RENDER_RECEIPT)).all()) == 1


def test_only_those_who_may_read_the_application_read_its_receipts(journey: Journey, client: TestClient,
                                                                   auth: Auth) -> None:
    _awaiting_payment(journey)
    journey.pay()
    [receipt] = _receipts(journey).json()

    for stranger in (auth("applicant", "mallory"), auth("agency_officer", "fred", "FDA"),
                     auth("agency_officer", "oscar", "LAO", "BKK-BANG-RAK")):
        listed = _receipts(journey, stranger)
        assert listed.status_code == 404 and "does not exist" in listed.json()["error"]["message"]
        download = client.get(receipt["pdf_url"], headers=stranger)
        assert download.status_code == 404
        assert download.json()["error"]["message"] == f"receipt {receipt['number']} does not exist"

    officer = auth("agency_officer", "olivia", "LAO", OFFICE)
    assert _receipts(journey, officer).json() == [receipt]
    assert client.get(receipt["pdf_url"], headers=officer).status_code == 200
    # The counter officer who took the cash prints it for the payer; another counter officer may not.
    assert client.get(receipt["pdf_url"], headers=journey.counter).status_code == 200
    assert client.get(receipt["pdf_url"], headers=auth("counter_officer", "dave")).status_code == 404
    assert client.get(receipt["pdf_url"]).status_code == 401
    unknown = client.get("/api/v1/receipts/BP-R-2569-999999/pdf", headers=journey.applicant)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "receipt BP-R-2569-999999 does not exist"


def test_one_promptpay_payment_for_two_licences_gets_one_receipt(settings: Any, clock: Any, auth: Auth) -> None:
    from pydantic import SecretStr

    from bizportal.adapters.payments.promptpay_provider import sign_bank_notification
    from bizportal.api.app import create_app
    from bizportal.api.composition import engine_from

    secret = "bank-webhook-secret-0123456789"
    configured = settings.model_copy(update={"promptpay_id": "0812345678",
                                             "promptpay_webhook_secret": SecretStr(secret)})
    engine = engine_from(configured, clock=clock)
    client = TestClient(create_app(configured, engine=engine))
    journey = Journey(client, auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE),
                      auth("counter_officer", "carl"))
    invoices = _awaiting_payment(journey, [LICENCE, FITNESS])["invoices"]
    assert len(invoices) == 2
    total = sum(i["amount_satang"] for i in invoices)
    qr = client.post(f"/api/v1/applications/{journey.id}/payments", json={"provider": "promptpay"},
                     headers=journey.applicant).json()
    assert qr["amount_satang"] == total

    timestamp = int(clock.now().timestamp())
    body = json.dumps({"event_id": "bank-7", "transaction_id": "T7", "ref1": qr["reference"],
                       "amount": f"{total // 100}.{total % 100:02d}", "currency": "764",
                       "paid_at": clock.now().isoformat()}).encode()
    headers = {"X-Bank-Timestamp": str(timestamp), "X-Bank-Signature": sign_bank_notification(secret, timestamp, body)}
    assert client.post("/api/v1/payments/webhooks/promptpay", content=body, headers=headers).json() == {
        "outcome": "applied"}
    # The bank's second delivery is a duplicate: no second receipt.
    assert client.post("/api/v1/payments/webhooks/promptpay", content=body, headers=headers).json() == {
        "outcome": "duplicate:applied"}

    [receipt] = _receipts(journey).json()
    assert (receipt["source"], receipt["payment_id"], receipt["amount_satang"]) == ("online", qr["payment_id"], total)
    pdf = client.get(receipt["pdf_url"], headers=journey.applicant).content
    text = _pdf_text(pdf)
    for code in (LICENCE, FITNESS):
        assert _compact(engine.ctx.catalogue.licence(code).name_th) in text, code
    for value in [baht(i["amount_satang"]) for i in invoices] + [baht(total), "พร้อมเพย์", qr["reference"]]:
        assert _compact(value) in text, value
    assert "Recordedby" not in text
    assert engine.ctx.signing is not None and validate_pdf(pdf, engine.ctx.signing.trust_roots).valid
    engine.db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_receipts_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/applications/{application_id}/receipts"]["get"]["summary"]
    assert "application/pdf" in paths["/api/v1/receipts/{number}/pdf"]["get"]["responses"]["200"]["content"]
