"""Bad input is a 422 at the door, on SQLite and PostgreSQL, and loses nothing (security review H1, M4, M7, L1-L4):
NUL bytes and NaN, a huge offset, lookalike digits, invisible or bidi text, a `form` that would set the fee or
block the officer's decision, and an Idempotency-Key reused for another request."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from bizportal.api.pagination import MAX_OFFSET
from bizportal.engine.assembly import LicensingEngine
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.database import transaction
from support.helpers import COUNTER_CONSENT, LICENCE, OFFICE, Auth, Journey, application_body, id_number_of


def _invalid(response: Any, field: str | None = None) -> dict[str, Any]:
    """The response is a 422 in the error envelope (naming `field` when given)."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidInput" and error["message"] and error["hint"]
    if field is not None:
        assert field in [detail["field"] for detail in error["details"]], error
    return dict(error)


def _post_json(client: TestClient, url: str, text: str, headers: dict[str, str]) -> Any:
    """POST a JSON text as sent (NaN and Infinity are not JSON, but Python's parser reads them)."""
    return client.post(url, content=text.encode(), headers={**headers, "Content-Type": "application/json"})


def _nothing_created(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/api/v1/applications", headers=headers).json() == []


def test_nul_in_a_path_or_query_is_refused(client: TestClient, auth: Auth) -> None:
    alice, officer = auth("applicant", "alice"), auth("agency_officer", "olivia", "LAO", OFFICE)
    for method, url, headers in [("GET", "/api/v1/register?q=%00", {}), ("GET", "/api/v1/register?province=a%00b", {}),
                                 ("GET", "/api/v1/verify/A%00B", {}), ("GET", "/api/v1/applications/%00", alice),
                                 ("POST", "/api/v1/tasks/%00/claim", officer),
                                 ("GET", "/api/v1/tasks?licence=%00", officer)]:
        error = _invalid(client.request(method, url, headers=headers))
        assert "NUL" in error["message"], url
    assert client.get("/api/v1/register?q=shop").status_code == 200  # the guard lets the rest through


def test_nul_and_nan_in_a_body_are_refused(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    body = application_body()
    body["applicant"]["name"] = "Al\u0000ice"  # type: ignore[index]
    _invalid(client.post("/api/v1/applications", json=body, headers=alice), "applicant.name")
    for value in ("NaN", "Infinity", "-Infinity"):
        text = json.dumps(application_body(form={LICENCE: {"seats": 0}})).replace('"seats": 0', f'"seats": {value}')
        _invalid(_post_json(client, "/api/v1/applications", text, alice))
    _nothing_created(client, alice)


def test_a_huge_offset_is_refused(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    for url, headers in [("/api/v1/applications", alice), ("/api/v1/register", {})]:
        for offset in (10**19, 2**63, MAX_OFFSET + 1):
            _invalid(client.get(url, params={"offset": offset}, headers=headers), "query.offset")
        assert client.get(url, params={"offset": MAX_OFFSET}, headers=headers).json() == []


def test_id_numbers_in_other_digits_or_of_nobody_are_refused(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    for kind, number in [("individual", "๑๑๐๑๗๐๐๒๐๓๓๙๕"), ("individual", "١١٠١٧٠٠٢٠٣٣٩٥"),
                         ("individual", "１１０１７００２０３３９５"), ("individual", "0000000000001"),
                         ("juristic", "0000000000001"),
                         ("individual", "0105556123453"),  # a company's number, sent as a person's
                         ("juristic", "1101700203395")]:
        body = application_body()
        body["applicant"] = {"kind": kind, "id_number": number, "name": "สมหญิง ใจดี"}
        _invalid(client.post("/api/v1/applications", json=body, headers=alice), "applicant.id_number")
    _nothing_created(client, alice)


def test_names_need_visible_text_without_bidi_controls(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    for name in ("   ", "\u200b", "\u3164", "\u202eecilA", "Alice\u2066"):
        body = application_body()
        body["applicant"]["name"] = name  # type: ignore[index]
        _invalid(client.post("/api/v1/applications", json=body, headers=alice), "applicant.name")
        body = application_body()
        body["business"]["name"] = name  # type: ignore[index]
        _invalid(client.post("/api/v1/applications", json=body, headers=alice), "business.name")
    _nothing_created(client, alice)


def test_a_required_comment_needs_visible_text(journey: Journey) -> None:
    journey.create()
    journey.submit()
    for comment in ("\u200b", " \u200c\ufeff ", "\u202e"):
        _invalid(journey.decide("document_check", "reject", comment), "comment")
        _invalid(journey.decide("document_check", "request_documents", comment), "comment")
    assert journey.task("document_check")  # still open: nothing was decided
    assert journey.decide("document_check", "reject", "สถานที่ไม่ถูกสุขลักษณะ").status_code == 200


# --- `form` and the fee (H1, M4) --------------------------------------------------------------------

def test_form_cannot_set_the_fee_and_the_officer_sees_it(journey: Journey, client: TestClient) -> None:
    # The review's reproduction: business.area_m2 180 (1,000 THB) with form.area_m2 = 1 was invoiced 100 THB.
    for area in (1, "abc", -1):
        refused = client.post("/api/v1/applications", json=application_body(area_m2=180, form={LICENCE: {
            "area_m2": area}}), headers=journey.applicant)
        assert "business.area_m2" in _invalid(refused, "form")["message"]
    for bad in ({"x": {"nested": 1}}, {"x": [1]}, {"Not A Key": 1}, {"x": 2**53}, {"x": "y" * 2001},
                {f"f{i}": 1 for i in range(51)}, {f"f{i}": "y" * 2000 for i in range(20)}):
        _invalid(client.post("/api/v1/applications", json=application_body(form={LICENCE: bad}),
                             headers=journey.applicant))
    form = {LICENCE: {"premises_kind": "shop", "seats": 12, "opening_hours": "08:00-20:00"}}
    journey.create(area_m2=180, form=form)
    journey.submit()
    shown = journey.client.get(f"/api/v1/applications/{journey.id}", headers=journey.officer).json()
    assert shown["form"] == form and shown["business"]["area_m2"] == 180  # nothing the applicant gave is hidden
    view = journey.approve_until_payment(journey.officer)
    assert [i["amount_satang"] for i in view["invoices"]] == [100_000]  # the band up to 200 m²


def test_a_poisoned_form_stored_earlier_cannot_block_the_decision(journey: Journey, engine: LicensingEngine) -> None:
    # Before the fix, form.area_m2 "abc" or -1 was accepted and the officer's approval failed with a 500
    # every time, leaving the task open while the statutory clock ran. Submitted rows like that may still be
    # stored (a draft like that is refused at submit now: its form is checked against the licence's fields).
    fees = []
    for poison in ("abc", -1):
        journey.create(area_m2=80)
        journey.submit()
        with transaction(engine.db) as session:
            row = session.exec(select(ApplicationRow).where(ApplicationRow.id == journey.id)).one()
            row.form = {LICENCE: {"area_m2": poison}}
            session.add(row)
        fees.append([i["amount_satang"] for i in journey.approve_until_payment(journey.officer)["invoices"]])
    assert fees == [[50_000], [50_000]]  # from business.area_m2 (80 m²), as the officer sees it


def test_an_area_outside_the_fee_bands_is_refused_at_input(client: TestClient, auth: Auth) -> None:
    # The small food-premises notice covers up to 200 m²; a larger area used to fail at the officer's approval.
    alice = auth("applicant", "alice")
    error = _invalid(client.post("/api/v1/applications", json=application_body(area_m2=250), headers=alice))
    assert error["details"] == {"field": "business.area_m2", "licence": LICENCE}
    _nothing_created(client, alice)


# --- Idempotency-Key (L3) ------------------------------------------------------------------------------

def test_an_idempotency_key_reused_with_another_body_is_a_conflict(client: TestClient, auth: Auth) -> None:
    headers = {**auth("applicant", "alice"), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/applications", json=application_body(), headers=headers)
    assert first.status_code == 201
    # The same request again (with its defaults spelled out, and the ID with dashes) is a retry.
    same = application_body(id_number="1-1017-00203-39-5")
    same["applicant"]["language"] = "th"  # type: ignore[index]
    replay = client.post("/api/v1/applications", json=same, headers=headers)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    for other in (application_body(area_m2=81), application_body(licences=["no_such_licence"]),
                  {**application_body(), "form": {LICENCE: {"seats": 1}}}):
        conflict = client.post("/api/v1/applications", json=other, headers=headers)
        assert conflict.status_code == 409, conflict.text
        error = conflict.json()["error"]
        assert "k-1" in error["message"] and "new Idempotency-Key" in error["hint"]
    assert [a["id"] for a in client.get("/api/v1/applications", headers=headers).json()] == [first.json()["id"]]
    bob = {**auth("applicant", "bob"), "Idempotency-Key": "k-1"}  # keys are per caller
    bobs = application_body(id_number=id_number_of("bob"), area_m2=81)
    assert client.post("/api/v1/applications", json=bobs, headers=bob).status_code == 201
    # ... and a caller is a role and a subject: a counter officer whose `sub` is also "alice" never gets alice's
    # draft back. (The stored key is still unique per subject, so that counter officer is asked for a new key.)
    counter = {**auth("counter_officer", "alice"), "Idempotency-Key": "k-1"}
    filed = client.post("/api/v1/applications", json=application_body(consent=COUNTER_CONSENT), headers=counter)
    assert filed.status_code == 409 and first.json()["id"] not in filed.text, filed.text
    assert "Idempotency-Key" in filed.json()["error"]["message"]
