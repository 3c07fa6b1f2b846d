"""An issued e-licence verifies by its QR link and by upload; a forged link or a changed byte does not."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from support.helpers import LICENCE, Journey, qr_link

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# The catalogue's names of LICENCE (bpmn/food_premises_notice_small/manual.yaml).
FOOD_TH = "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่ จำหน่ายหรือสะสมอาหาร (ไม่เกิน 200 ตร.ม.)"
FOOD_EN = "Certificate of notification to set up a food sale or food storage premises (area not over 200 m2)"


def test_the_qr_link_verifies_and_a_forged_one_does_not(journey: Journey, client: TestClient) -> None:
    number, pdf = journey.issue()
    link = urlparse(qr_link(pdf))
    assert link.path == f"/verify/{number}"
    signature = parse_qs(link.query)["s"][0]

    valid = client.get(f"/api/v1/verify/{number}", params={"s": signature}).json()
    assert valid["status"] == "valid" and valid["holder_name"] == "สมหญิง ใจดี"
    assert "id_number" not in valid and "1101700203395" not in str(valid)  # PDPA: only what the law needs
    # Change a character in the middle: the last ones of base64 may be padding bits that decode the same.
    tampered = signature[:10] + ("B" if signature[10] != "B" else "C") + signature[11:]
    missing_number = number[:-6] + "999999"
    for s in (tampered, "x", ""):
        # L5: an existing number with a bad signature answers exactly like a number that does not exist.
        forged = client.get(f"/api/v1/verify/{number}", params={"s": s})
        missing = client.get(f"/api/v1/verify/{missing_number}", params={"s": s})
        assert forged.status_code == missing.status_code == 200
        assert forged.json() == {**missing.json(), "number": number} and forged.json()["status"] == "unknown"
        assert forged.json()["holder_name"] is None
        for lang in ("th", "en"):
            forged_page = client.get(f"/verify/{number}", params={"s": s, "lang": lang})
            missing_page = client.get(f"/verify/{missing_number}", params={"s": s, "lang": lang})
            assert forged_page.status_code == missing_page.status_code == 200
            assert forged_page.text == missing_page.text.replace(missing_number, number)
    page = client.get(f"/verify/{number}", params={"s": signature})
    assert page.status_code == 200 and "ใบอนุญาตถูกต้อง" in page.text


def test_the_verification_page_and_json_name_the_licence_not_its_code(journey: Journey, client: TestClient) -> None:
    number, pdf = journey.issue()
    signature = parse_qs(urlparse(qr_link(pdf)).query)["s"][0]
    valid = client.get(f"/api/v1/verify/{number}", params={"s": signature}).json()
    assert (valid["licence_name_th"], valid["licence_name_en"]) == (FOOD_TH, FOOD_EN)
    assert valid["licence_code"] == LICENCE  # the catalogue key stays for machines
    for lang in ("th", "en"):
        page = client.get(f"/verify/{number}", params={"s": signature, "lang": lang})
        assert page.status_code == 200
        assert html.escape(FOOD_TH) in page.text and html.escape(FOOD_EN) in page.text and LICENCE not in page.text
        # The other language's link keeps the signature, so it shows the same verdict.
        assert f"?s={signature}&amp;lang={'en' if lang == 'th' else 'th'}" in page.text
    forged = client.get(f"/api/v1/verify/{number}", params={"s": "x" * 86}).json()
    assert forged["licence_name_th"] is None and forged["licence_name_en"] is None  # a forgery learns nothing


def test_an_uploaded_pdf_is_authentic_and_a_changed_byte_is_caught(journey: Journey, client: TestClient) -> None:
    number, pdf = journey.issue()
    authentic = client.post("/api/v1/verify", files={"file": ("licence.pdf", pdf, "application/pdf")}).json()
    assert authentic == {"authentic": True, "number": number, "status": "valid", "reason": None}

    position = len(pdf) // 3
    tampered = pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1:]
    result = client.post("/api/v1/verify", files={"file": ("licence.pdf", tampered, "application/pdf")}).json()
    assert result["authentic"] is False and result["reason"]


def test_the_agency_revokes_or_suspends_and_verification_says_so(journey: Journey, client: TestClient,
                                                                  auth: Any) -> None:
    number, pdf = journey.issue()
    signature = parse_qs(urlparse(qr_link(pdf)).query)["s"][0]
    url = f"/api/v1/issued-licences/{number}"
    reason = {"reason": "พบการจำหน่ายอาหารไม่ถูกสุขลักษณะ"}
    # Not the issuing agency's: told the licence does not exist, as for a missing number (no existence oracle).
    assert client.post(f"{url}/suspend", json=reason, headers=journey.applicant).status_code == 404
    assert client.post(f"{url}/suspend", json=reason, headers=auth("agency_officer", "fred", "FDA")).status_code == 404
    assert client.post(f"{url}/suspend", json={"reason": ""}, headers=journey.officer).status_code == 422
    assert client.post(f"{url}/suspend", json=reason, headers=journey.officer).json()["status"] == "suspended"
    assert client.get(f"/api/v1/verify/{number}", params={"s": signature}).json()["status"] == "suspended"
    assert client.post(f"{url}/reinstate", json=reason, headers=journey.officer).json()["status"] == "valid"
    assert client.post(f"{url}/revoke", json=reason, headers=journey.officer).json()["status"] == "revoked"
    assert client.post(f"{url}/reinstate", json=reason, headers=journey.officer).status_code == 409
    uploaded = client.post("/api/v1/verify", files={"file": ("l.pdf", pdf, "application/pdf")}).json()
    assert uploaded["authentic"] is True and uploaded["status"] == "revoked"
    events = [e["event"] for e in journey.view()["timeline"]]
    assert {"licence.suspended", "licence.valid", "licence.revoked"} <= set(events)


def test_public_register_shows_displayed_licences_without_personal_data(journey: Journey,
                                                                        client: TestClient) -> None:
    number, _ = journey.issue()  # food premises: public display required
    (entry,) = client.get("/api/v1/register", params={"q": "ข้าวมันไก่"}).json()
    assert entry["number"] == number and entry["district"] == "คลองเตย" and entry["status"] == "valid"
    assert "holder" not in str(entry) and "1101700203395" not in str(entry) and "สมหญิง" not in str(entry)
    assert client.get("/api/v1/register", params={"q": number}).json()[0]["number"] == number
    assert client.get("/api/v1/register", params={"province": "เชียงใหม่"}).json() == []
