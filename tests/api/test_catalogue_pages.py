"""The citizen's manuals as pages (Thai by default, English on request) and as open data."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from bizportal.engine.assembly import LicensingEngine
from support.helpers import LICENCE


def test_manual_page_is_thai_by_default_and_english_on_request(client: TestClient, engine: LicensingEngine) -> None:
    manual = engine.ctx.catalogue.licence(LICENCE)
    thai = client.get(f"/licences/{LICENCE}")
    assert thai.status_code == 200 and thai.headers["content-type"].startswith("text/html")
    assert '<html lang="th">' in thai.text and manual.name_th in thai.text
    for step in manual.steps:
        assert step.name_th in thai.text
    assert f"{manual.total_working_days} วันทำการ" in thai.text
    assert "ระบบดึงข้อมูลจากหน่วยงานรัฐ" in thai.text  # documents looked up instead of copies

    english = client.get(f"/licences/{LICENCE}?lang=en")
    assert '<html lang="en">' in english.text and manual.name_en.replace("&", "&amp;") in english.text
    assert f"{manual.total_working_days} working days" in english.text
    assert "100 THB" in english.text or "1,000 THB" in english.text


def test_manual_pages_reject_unknown_licences_and_languages(client: TestClient) -> None:
    assert client.get("/licences/no_such_licence").status_code == 404
    assert client.get(f"/licences/{LICENCE}?lang=fr").status_code == 422


def test_catalogue_page_lists_every_licence(client: TestClient, engine: LicensingEngine) -> None:
    page = client.get("/licences").text
    for code in engine.ctx.catalogue.licences:
        assert f'href="/licences/{code}?lang=th"' in page


def test_catalogue_downloads_as_json_and_csv(client: TestClient, engine: LicensingEngine) -> None:
    codes = sorted(engine.ctx.catalogue.licences)
    data = client.get("/api/v1/catalogue.json").json()
    assert [item["code"] for item in data["licences"]] == codes
    assert {a["code"] for a in data["agencies"]} >= {"LAO", "BMA", "FDA"}
    assert data["licences"][codes.index(LICENCE)]["steps"][0]["kind"] == "document_check"

    response = client.get("/api/v1/catalogue.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["code"] for row in rows] == codes
    food = rows[codes.index(LICENCE)]
    assert food["name_th"] == engine.ctx.catalogue.licence(LICENCE).name_th
    assert (food["fee_min_thb"], food["fee_max_thb"], food["routing"]) == ("100.00", "1000.00", "local_office")


def test_assurance_levels_are_shown_wherever_the_manual_is(client: TestClient, engine: LicensingEngine) -> None:
    manual = engine.ctx.catalogue.licence("clinic_business_licence")
    assert (manual.ial, manual.aal) == (3, 3)
    view = client.get("/api/v1/licences/clinic_business_licence").json()
    assert (view["ial"], view["aal"]) == (3, 3)
    listed = {m["code"]: m for m in client.get("/api/v1/catalogue.json").json()["licences"]}
    assert (listed[LICENCE]["ial"], listed[LICENCE]["aal"]) == (2, 2)
    rows = csv.DictReader(io.StringIO(client.get("/api/v1/catalogue.csv").content.decode("utf-8-sig")))
    assert {row["code"]: (row["ial"], row["aal"]) for row in rows}["clinic_business_licence"] == ("3", "3")
    page = client.get("/licences/clinic_business_licence?lang=en").text
    assert "IAL 3" in page and "AAL 3" in page and "Sign-in assurance (AAL)" in page
    assert "AAL 3" in client.get("/licences/clinic_business_licence").text
