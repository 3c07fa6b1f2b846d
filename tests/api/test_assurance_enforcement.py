"""Each licence's IAL and AAL, enforced on the applicant's submit, online payment and e-licence download;
staff are not checked against them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.payments.providers import PaymentProviders
from support.helpers import COUNTER_CONSENT, LICENCE, OFFICE, Auth, Journey, application_body
from support.recording_provider import RecordingProvider
from support.uploads import upload_required

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CLINIC = "clinic_business_licence"  # IAL 3, AAL 3


def _refused(response: Any, ial: str, aal: str) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert f"IAL {ial} and AAL {aal}" in error["message"]
    assert f"acr_values=ial{ial} aal{aal}" in error["hint"] and "sign in again" in error["hint"]
    return dict(error)


def test_submitting_below_a_licences_ial_is_refused_until_the_step_up(journey: Journey, auth: Auth,
                                                                     client: TestClient) -> None:
    journey.create(licences=[CLINIC])
    default = client.post(f"/api/v1/applications/{journey.id}/submit", headers=journey.applicant)
    error = _refused(default, "3", "3")  # a token without levels is IAL 2.3, AAL 2
    assert CLINIC in error["message"] and "you are signed in at IAL 2.3, AAL 2" in error["message"]
    assert journey.view()["status"] == "draft"
    journey.applicant = auth("applicant", "alice", ial="3", aal="3")  # signed in again, stronger
    assert journey.submit()["status"] == "submitted"


@pytest.mark.parametrize(("ial", "aal", "needed"), [("1.3", "2", ("2", "2")), ("2.1", "1", ("2.1", "2")),
                                                     ("1.1", "1", ("2", "2"))])
def test_the_hint_names_the_levels_still_missing(journey: Journey, auth: Auth, client: TestClient, ial: str,
                                                 aal: str, needed: tuple[str, str]) -> None:
    journey.create()
    low = auth("applicant", "alice", ial=ial, aal=aal)
    _refused(client.post(f"/api/v1/applications/{journey.id}/submit", headers=low), *needed)


def test_levels_at_or_above_the_licences_are_accepted(journey: Journey, auth: Auth) -> None:
    journey.create()
    journey.applicant = auth("applicant", "alice", ial="2.1", aal="2")  # the food licence asks IAL 2, AAL 2
    assert journey.submit()["status"] == "submitted"


def test_a_counter_officer_is_not_checked_against_the_licences_levels(client: TestClient, auth: Auth) -> None:
    carl = auth("counter_officer", "carl", ial="1.1", aal="1")
    created = client.post("/api/v1/applications", json=application_body(licences=[CLINIC], consent=COUNTER_CONSENT),
                          headers=carl)
    assert created.status_code == 201, created.text
    upload_required(client, created.json()["id"], carl)
    submitted = client.post(f"/api/v1/applications/{created.json()['id']}/submit", headers=carl)
    assert submitted.status_code == 200, submitted.text


def test_paying_online_needs_the_licences_levels(journey: Journey, auth: Auth, client: TestClient,
                                                engine: LicensingEngine) -> None:
    engine.ctx.payments = PaymentProviders({"testpay": RecordingProvider()})
    journey.create()
    journey.submit()
    view = journey.approve_until_payment(journey.officer)
    invoice = view["invoices"][0]
    low = auth("applicant", "alice", ial="2.3", aal="1")
    _refused(client.post(f"/api/v1/applications/{journey.id}/payments", json={"provider": "testpay"}, headers=low),
             "2.3", "2")
    _refused(client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"}, headers=low),
             "2.3", "2")
    paid = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json={"provider": "testpay"},
                       headers=journey.applicant)
    assert paid.status_code in (200, 201), paid.text


def test_downloading_the_e_licence_needs_the_licences_levels(journey: Journey, auth: Auth,
                                                             client: TestClient) -> None:
    number, pdf = journey.issue()  # the counter officer took the cash: staff are not checked
    assert pdf.startswith(b"%PDF")
    low = auth("applicant", "alice", ial="1.3", aal="2")
    _refused(client.get(f"/api/v1/issued-licences/{number}/pdf", headers=low), "2", "2")
    _refused(client.post(f"/api/v1/issued-licences/{number}/download-link", headers=low), "2", "2")
    assert client.get(f"/api/v1/issued-licences/{number}", headers=low).status_code == 200  # the record is readable
    link = client.post(f"/api/v1/issued-licences/{number}/download-link", headers=journey.applicant)
    assert link.status_code == 200, link.text
    officer = auth("agency_officer", "olivia", "LAO", OFFICE, ial="1.1", aal="1")
    assert client.get(f"/api/v1/issued-licences/{number}/pdf", headers=officer).status_code == 200


def test_the_manual_says_which_levels_apply(client: TestClient) -> None:
    manual = client.get(f"/api/v1/licences/{LICENCE}").json()
    assert (manual["ial"], manual["aal"]) == (2, 2)


COUNTER_ONLY = "food_production_licence"  # the reference data says it is filed at the FDA's counter


def test_an_applicant_cannot_file_a_counter_only_licence_online(client: TestClient, auth: Auth,
                                                                engine: LicensingEngine) -> None:
    manual = engine.ctx.catalogue.licence(COUNTER_ONLY)
    agency = engine.ctx.catalogue.agency(manual.agency)
    assert manual.must_file_at_counter and not engine.ctx.catalogue.licence(LICENCE).must_file_at_counter
    body = application_body(licences=[LICENCE, COUNTER_ONLY])
    refused = client.post("/api/v1/applications", json=body, headers=auth("applicant", "alice"))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert f"{COUNTER_ONLY} at {agency.name_en}" in error["message"] and LICENCE + " at" not in error["message"]
    assert "counter" in error["hint"]
    (entry,) = error["details"]["must_file_at_counter"]
    assert (entry["licence"], entry["agency"], entry["office"]) == (COUNTER_ONLY, agency.code, None)
    carl = auth("counter_officer", "carl")
    filed = client.post("/api/v1/applications", json={**body, "consent": COUNTER_CONSENT}, headers=carl)
    assert filed.status_code == 201


def test_a_counter_only_licence_at_a_local_office_names_the_office(client: TestClient, auth: Auth,
                                                                  engine: LicensingEngine,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _counter_only(engine, monkeypatch, LICENCE)
    office = engine.ctx.offices.get(OFFICE)
    refused = client.post("/api/v1/applications", json=application_body(), headers=auth("applicant", "alice"))
    assert refused.status_code == 422, refused.text
    assert office.name_en in refused.json()["error"]["message"]
    assert refused.json()["error"]["details"]["must_file_at_counter"][0]["office"] == OFFICE


def test_a_draft_made_before_a_licence_became_counter_only_cannot_be_submitted_online(
        journey: Journey, client: TestClient, engine: LicensingEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    journey.create()
    _counter_only(engine, monkeypatch, LICENCE)
    refused = client.post(f"/api/v1/applications/{journey.id}/submit", headers=journey.applicant)
    assert refused.status_code == 422 and "must be filed in person at a counter" in refused.json()["error"]["message"]


def _counter_only(engine: LicensingEngine, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make a licence counter-only for one test (the catalogue entry, replaced until the test ends)."""
    manual = engine.ctx.catalogue.licence(code).model_copy(update={"must_file_at_counter": True})
    monkeypatch.setitem(engine.ctx.catalogue.licences, code, manual)
