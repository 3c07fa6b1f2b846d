"""The counter's cash desk reads (engine/payments/counter_desk.py): the open invoices a counter lists are those of
the applications its office filed while the consent holds; the receipt is the cashier's to print."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import NotFound
from bizportal.engine.payments.counter_desk import counter_receipt, due_invoices
from bizportal.engine.principal import Principal, Role
from bizportal.storage.database import read_session
from support.helpers import ALICE_ID, COUNTER_CONSENT, OFFICE, Auth, Journey, application_body
from support.uploads import upload_required

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CARL = Principal("carl", Role.COUNTER_OFFICER, office=OFFICE)
CODY = Principal("cody", Role.COUNTER_OFFICER, office=OFFICE)  # a colleague of the same office
BILL = Principal("bill", Role.COUNTER_OFFICER, office="BKK-BANG-RAK")
ALICE = Principal("alice", Role.APPLICANT, id_number=ALICE_ID)


def _to_payment(client: TestClient, journey: Journey, headers: dict[str, str], **body: Any) -> str:
    created = client.post("/api/v1/applications", json=application_body(**body), headers=headers)
    assert created.status_code == 201, created.text
    journey.id = created.json()["id"]
    upload_required(client, journey.id, headers)
    assert client.post(f"/api/v1/applications/{journey.id}/submit", headers=headers).status_code == 200
    (invoice,) = journey.approve_until_payment(journey.officer)["invoices"]
    return str(invoice["id"])


def _due(engine: LicensingEngine, principal: Principal) -> list[str]:
    with read_session(engine.db) as session:
        return [invoice.invoice_id for invoice in due_invoices(engine.ctx, session, principal)]


def test_a_counter_lists_the_invoices_of_its_office_filings_while_the_consent_holds(
        client: TestClient, engine: LicensingEngine, auth: Auth, journey: Journey) -> None:
    carl = auth("counter_officer", "carl", office=OFFICE)
    filed = _to_payment(client, journey, carl, consent=COUNTER_CONSENT)
    counter_case = journey.id
    online = _to_payment(client, journey, journey.applicant, business={
        "name": "ร้านที่สอง", "address": "1 ถนนพระราม 4 แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร",
        "province": "กรุงเทพมหานคร", "district": "คลองเตย", "area_m2": 50})
    assert _due(engine, CARL) == _due(engine, CODY) == [filed]  # counters work in shifts
    assert _due(engine, BILL) == [] and _due(engine, Principal("olivia", Role.AGENCY_OFFICER, "LAO", OFFICE)) == []
    assert sorted(_due(engine, ALICE)) == sorted([filed, online])
    with read_session(engine.db) as session:
        (row,) = due_invoices(engine.ctx, session, CARL)
    assert (row.application_id, row.licence, row.applicant_name) == (counter_case, "food_premises_notice_small",
                                                                     "สมหญิง ใจดี")
    assert row.amount_satang > 0 and row.due_at is not None

    (consent,) = client.get("/api/v1/consents", headers=journey.applicant).json()
    assert client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=journey.applicant).status_code == 200
    assert _due(engine, CARL) == []


def test_the_receipt_is_the_cashiers_to_print(client: TestClient, engine: LicensingEngine, auth: Auth,
                                              journey: Journey) -> None:
    carl = auth("counter_officer", "carl", office=OFFICE)
    invoice = _to_payment(client, journey, carl, consent=COUNTER_CONSENT)
    with read_session(engine.db) as session, pytest.raises(NotFound):
        counter_receipt(engine.ctx, session, CARL, invoice)  # not paid yet
    amount = journey.view()["invoices"][0]["amount_satang"]
    paid = client.post(f"/api/v1/invoices/{invoice}/counter-payment", json={"amount_satang": amount}, headers=carl)
    assert paid.status_code == 200, paid.text
    with read_session(engine.db) as session:
        printed = counter_receipt(engine.ctx, session, CARL, invoice)
        assert printed.receipt_number is not None and printed.receipt_number.startswith("BP-R-")
        assert (printed.amount_satang, printed.application_id) == (amount, journey.id)
        for someone in (CODY, BILL, ALICE, Principal("olivia", Role.AGENCY_OFFICER, "LAO", OFFICE)):
            with pytest.raises(NotFound):
                counter_receipt(engine.ctx, session, someone, invoice)
        with pytest.raises(NotFound):
            counter_receipt(engine.ctx, session, CARL, "no-such-invoice")
