"""Each licence's typed form over HTTP: checked when a draft is created or changed and at submit, changed with
PATCH until submitted, shown labelled to the officer, and published with the licence's manual."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from support.helpers import COUNTER_CONSENT, LICENCE, OFFICE, Auth, Journey, application_body

CAR_WASH = "hh_car_wash_care"  # a second local licence: the local office assesses its fee


def _invalid(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidInput" and error["details"]["field"] == field, error
    return error


def test_a_bad_form_value_is_refused_naming_the_field_and_what_it_allows(client: TestClient, auth: Auth) -> None:
    alice = auth("applicant", "alice")
    cases = [
        ({"premises_kind": "shop", "colour": "red"}, "colour", "has no form field"),
        ({"premises_kind": "shop", "seats": "twelve"}, "seats", "a whole number from 0 to 10000 seats"),
        ({"premises_kind": "shop", "seats": 10_001}, "seats", "from 0 to 10000"),
        ({"premises_kind": "bar"}, "premises_kind", "one of 'restaurant', 'shop', 'storage'"),
    ]
    for values, name, words in cases:
        response = client.post("/api/v1/applications", json=application_body(form={LICENCE: values}), headers=alice)
        error = _invalid(response, f"form.{LICENCE}.{name}")
        assert words in error["message"], error
    seats = _invalid(client.post("/api/v1/applications", json=application_body(form={LICENCE: {"seats": -1}}),
                                 headers=alice), f"form.{LICENCE}.seats")
    assert seats["details"]["allowed"] == {"type": "number", "minimum": 0, "maximum": 10000, "unit": "seats",
                                           "integer": True}
    local = "commercial_registration_local"
    date = client.post("/api/v1/applications", headers=alice, json=application_body(
        licences=[local], form={local: {"opening_date": "2027-02-29"}}))
    _invalid(date, f"form.{local}.opening_date")
    assert client.get("/api/v1/applications", headers=alice).json() == []  # nothing was created


def test_a_draft_may_lack_required_fields_but_submit_lists_every_missing_one(journey: Journey,
                                                                              client: TestClient) -> None:
    journey.create(licences=[LICENCE, CAR_WASH], form={LICENCE: {"seats": 20}})
    refused = client.post(f"/api/v1/applications/{journey.id}/submit", headers=journey.applicant)
    error = _invalid(refused, f"form.{LICENCE}.premises_kind")
    assert error["details"]["missing"] == [f"form.{LICENCE}.premises_kind", f"form.{CAR_WASH}.wash_bays",
                                           f"form.{CAR_WASH}.workers", f"form.{CAR_WASH}.wastewater_treatment"]
    assert journey.view()["status"] == "draft"
    changed = client.patch(f"/api/v1/applications/{journey.id}", headers=journey.applicant, json={"form": {
        LICENCE: {"premises_kind": "restaurant", "seats": 20},
        CAR_WASH: {"wash_bays": 2, "workers": 3, "wastewater_treatment": True}}})
    assert changed.status_code == 200, changed.text
    assert journey.submit()["status"] == "submitted"


def test_patch_changes_a_draft_and_routes_it_again(journey: Journey, client: TestClient, auth: Auth) -> None:
    journey.create()
    response = client.patch(f"/api/v1/applications/{journey.id}", headers=journey.applicant, json={
        "business": {"name": "ร้านใหม่", "district": "บางรัก", "area_m2": 150},
        "applicant": {"email": "alice@example.test", "language": "en"},
        "licences": [LICENCE, CAR_WASH],
        "form": {CAR_WASH: {"wash_bays": 1, "workers": 2, "wastewater_treatment": False}}})
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["business"]["name"] == "ร้านใหม่" and view["business"]["area_m2"] == 150
    assert view["business"]["address"].startswith("99/9")  # a field left out stays
    assert view["applicant"]["email"] == "alice@example.test" and view["applicant"]["language"] == "en"
    assert {licence["code"]: licence["office"] for licence in view["licences"]} == {
        LICENCE: "BKK-BANG-RAK", CAR_WASH: "BKK-BANG-RAK"}
    assert view["form"][LICENCE] == {"premises_kind": "restaurant"}  # kept: only the licences given are replaced
    assert view["form"][CAR_WASH]["wash_bays"] == 1
    changed = [e for e in view["timeline"] if e["event"] == "application.changed"]
    assert len(changed) == 1
    detail = changed[0]["detail"]
    assert detail["licences_added"] == [CAR_WASH] and detail["licences_removed"] == []
    assert {"business.name", "business.district", "business.area_m2", "applicant.email", "applicant.language",
            f"form.{CAR_WASH}", f"office.{LICENCE}", "licences"} <= set(detail["changed"])
    assert "ร้านใหม่" not in str(detail)  # names what changed, not the personal values

    same = client.patch(f"/api/v1/applications/{journey.id}", headers=journey.applicant,
                        json={"business": {"name": "ร้านใหม่"}}).json()
    assert len([e for e in same["timeline"] if e["event"] == "application.changed"]) == 1  # no change, no entry

    dropped = client.patch(f"/api/v1/applications/{journey.id}", headers=journey.applicant,
                           json={"licences": [CAR_WASH]}).json()
    assert [licence["code"] for licence in dropped["licences"]] == [CAR_WASH]
    assert set(dropped["form"]) == {CAR_WASH}  # the dropped licence's form goes with it


def test_patch_checks_the_change_as_create_does(journey: Journey, client: TestClient) -> None:
    journey.create()
    url = f"/api/v1/applications/{journey.id}"
    _invalid(client.patch(url, headers=journey.applicant, json={"form": {LICENCE: {"seats": 1.5}}}),
             f"form.{LICENCE}.seats")
    _invalid(client.patch(url, headers=journey.applicant, json={"form": {CAR_WASH: {"wash_bays": 1}}}), "form")
    _invalid(client.patch(url, headers=journey.applicant, json={"licences": ["no_such_licence"]}), "licences")
    _invalid(client.patch(url, headers=journey.applicant, json={"business": {"area_m2": 250}}), "business.area_m2")
    _invalid(client.patch(url, headers=journey.applicant, json={"business": {"district": "ไม่มีเขตนี้"}}),
             "business.district")
    owner = client.patch(url, headers=journey.applicant, json={"applicant": {"id_number": "3100600123450"}})
    assert owner.status_code == 422 and "decide whose application it is" in owner.text
    assert journey.view()["business"]["area_m2"] == 80  # nothing of a refused change was kept


def test_patch_is_refused_after_submit_and_to_anyone_but_the_owner(journey: Journey, client: TestClient,
                                                                     auth: Auth) -> None:
    journey.create()
    url = f"/api/v1/applications/{journey.id}"
    assert client.patch(url, headers=auth("applicant", "bob"), json={"business": {"name": "x"}}).status_code == 404
    assert client.patch(url, headers=auth("admin", "root"), json={"business": {"name": "x"}}).status_code == 403
    journey.submit()
    late = client.patch(url, headers=journey.applicant, json={"business": {"name": "x"}})
    assert late.status_code == 409 and "only a draft can be changed" in late.text


def test_a_counter_changes_a_draft_only_within_the_consent(client: TestClient, auth: Auth) -> None:
    carl = auth("counter_officer", "carl", office=OFFICE)
    created = client.post("/api/v1/applications", json=application_body(consent=COUNTER_CONSENT), headers=carl)
    assert created.status_code == 201, created.text
    url = f"/api/v1/applications/{created.json()['id']}"
    ok = client.patch(url, headers=carl, json={"form": {LICENCE: {"premises_kind": "shop", "seats": 4}}})
    assert ok.status_code == 200, ok.text
    more = client.patch(url, headers=carl, json={"licences": [LICENCE, CAR_WASH]})
    assert more.status_code == 403 and CAR_WASH in more.json()["error"]["message"]


def test_officers_see_the_form_labelled(journey: Journey, client: TestClient) -> None:
    journey.create(form={LICENCE: {"premises_kind": "shop", "seats": 12}})
    journey.submit()
    task = journey.task("document_check")
    fields = {f["name"]: f for f in task["form"]}
    assert fields["seats"] == {"name": "seats", "type": "number", "label_th": "จำนวนที่นั่ง",
                               "label_en": "Number of seats", "unit": "seats", "required": False, "value": 12,
                               "value_th": None, "value_en": None}
    assert fields["premises_kind"]["value_en"] == "food shop" and fields["workers"]["value"] is None
    view = client.get(f"/api/v1/applications/{journey.id}", headers=journey.officer).json()
    assert view["form"] == {LICENCE: {"premises_kind": "shop", "seats": 12}}  # the raw values, as validated
    assert [f["name"] for f in view["form_fields"][LICENCE]] == ["premises_kind", "seats", "workers", "opening_hours"]


def test_the_licence_answer_and_page_show_the_form(client: TestClient) -> None:
    form = client.get(f"/api/v1/licences/{LICENCE}").json()["form"]["fields"]
    assert form[0]["name"] == "premises_kind" and [c["value"] for c in form[0]["choices"]] == [
        "restaurant", "shop", "storage"]
    assert {"name", "type", "required", "label_th", "label_en", "unit", "minimum", "maximum"} <= set(form[1])
    thai = client.get("/licences/hotel_business_licence").text
    assert "ข้อมูลที่ต้องกรอกในคำขอ" in thai and "จำนวนห้องพัก" in thai and "Number of guest rooms" in thai
    english = client.get("/licences/hotel_business_licence?lang=en").text
    assert "What the application asks" in english and "a number from 1 to 10,000" in english
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "form.<licence>.<field>" in schema["ApplicationInput"]["properties"]["form"]["description"]


def test_if_match_keeps_a_change_made_meanwhile(journey: Journey, client: TestClient) -> None:
    journey.create()
    url = f"/api/v1/applications/{journey.id}"
    read = client.get(url, headers=journey.applicant)
    etag = read.headers["ETag"]
    assert etag == f'"{read.json()["version"]}"'
    first = client.patch(url, headers={**journey.applicant, "If-Match": etag}, json={"business": {"name": "หนึ่ง"}})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    # A second client that read the same version would overwrite the first change: refused, nothing kept.
    stale = client.patch(url, headers={**journey.applicant, "If-Match": etag}, json={"business": {"name": "สอง"}})
    assert stale.status_code == 412, stale.text
    assert stale.json()["error"]["details"] == {"header": "If-Match", "version": first.json()["version"]}
    assert journey.view()["business"]["name"] == "หนึ่ง"
    assert client.patch(url, headers={**journey.applicant, "If-Match": "*"}, json={"business": {"name": "สาม"}}
                        ).status_code == 200  # any version; and no If-Match at all changes it too
