import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import unicodedata
from datetime import date
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from bizportal.engine.documents.licence_pdf import (
    LicenceDocument,
    english_date,
    render_licence_pdf,
    thai_date,
)
from support.pdf_text import pdftotext_words

LICENCE_NAME_TH = "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่ จำหน่ายหรือสะสมอาหาร (ไม่เกิน 200 ตร.ม.)"

SAMPLE = LicenceDocument(
    licence_number="กทม-อ.2569/000123",
    licence_code="FOOD-NOTIFY-200",
    licence_name_th=LICENCE_NAME_TH,
    licence_name_en="Certificate of Notification for a Food Sale or Storage Premises (not exceeding 200 sq m)",
    agency_name_th="สำนักงานเขตคลองเตย กรุงเทพมหานคร",
    agency_name_en="Khlong Toei District Office, Bangkok Metropolitan Administration",
    holder_name="นางสาวสมหญิง ใจดี",
    holder_id_masked="1-2345-xxxxx-xx-1",
    business_name="ร้านข้าวมันไก่น้ำใจ",
    business_address="99/9 ซอยสุขุมวิท 22 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110",
    issued_on=date(2026, 11, 22),
    valid_until=date(2027, 11, 21),
    verification_url="https://bizportal.example/verify/7f3c2a9e-5b1d-4c8e-9a6f-2d4e8b1c0a57",
)


def _compact(text: str) -> str:
    """Whitespace removed, NFC: how the text layer is compared with the input."""
    return unicodedata.normalize("NFC", "".join(text.split()))


def _page_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render_licence_pdf(SAMPLE)


@pytest.fixture(scope="module")
def sample_text(sample_pdf: bytes) -> str:
    return _page_text(sample_pdf)


def test_renders_a_single_a4_page(sample_pdf: bytes) -> None:
    assert sample_pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(sample_pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_bundled_thai_and_latin_fonts_are_embedded(sample_pdf: bytes) -> None:
    resources = cast(DictionaryObject, PdfReader(io.BytesIO(sample_pdf)).pages[0]["/Resources"])
    fonts = cast(DictionaryObject, resources["/Font"])
    names = {str(font.get_object()["/BaseFont"]).split("+")[-1] for font in fonts.values()}
    assert {"NotoSansThai", "NotoSansThaiBold", "NotoSans", "NotoSansBold"} <= names


def test_text_layer_has_the_thai_licence_name(sample_text: str) -> None:
    compact = _compact(sample_text)
    assert _compact(LICENCE_NAME_TH) in compact
    # The Thai characters themselves come back, including the shaped SARA AM / tone-mark clusters.
    for word in ("ขอหนังสือรับรอง", "จัดตั้ง", "จำหน่าย", "ไม่เกิน", "ตร.ม."):
        assert word in compact
    assert any("\u0e00" <= char <= "\u0e7f" for char in sample_text)


def test_text_layer_has_no_unmapped_glyph_codes(sample_text: str) -> None:
    # Glyphs the Thai shaper adds (SARA AM -> NIKHAHIT + SARA AA) must map to no text, not to
    # their raw glyph code.
    junk = [char for char in sample_text if unicodedata.category(char) in {"Cc", "Co"} and char != "\n"]
    assert junk == []


def test_text_layer_has_the_licence_details(sample_text: str) -> None:
    compact = _compact(sample_text)
    for value in (
        SAMPLE.licence_number,
        SAMPLE.holder_name,
        SAMPLE.holder_id_masked,
        SAMPLE.business_name,
        SAMPLE.business_address,
        SAMPLE.agency_name_th,
        SAMPLE.agency_name_en,
        SAMPLE.licence_name_en,
        SAMPLE.verification_url,
    ):
        assert _compact(value) in compact, value


def test_the_page_names_the_licence_in_thai_and_english_never_by_its_code(sample_text: str) -> None:
    compact = _compact(sample_text)
    assert _compact(SAMPLE.licence_name_th) in compact and _compact(SAMPLE.licence_name_en) in compact
    assert SAMPLE.licence_code not in compact  # a catalogue key such as `food_premises_notice_small`
    assert "Licencetype" not in compact  # the row that showed the code; the heading names the licence


def test_dates_are_in_buddhist_era_thai_and_in_english(sample_text: str) -> None:
    compact = _compact(sample_text)
    assert "2569" in compact
    assert _compact("22 พฤศจิกายน 2569") in compact
    assert _compact("22 November 2026") in compact
    assert _compact("21 พฤศจิกายน 2570") in compact
    assert _compact("21 November 2027") in compact
    assert "Validuntil" in compact
    assert "Noexpiry" not in compact


def test_licence_without_expiry_says_so() -> None:
    text = _compact(_page_text(render_licence_pdf(dataclasses.replace(SAMPLE, valid_until=None))))
    assert _compact("ไม่มีวันหมดอายุ") in text
    assert "Noexpiry" in text
    assert "Validuntil" not in text


def test_has_a_qr_code_image_and_a_link_to_the_verification_url(sample_pdf: bytes) -> None:
    page = PdfReader(io.BytesIO(sample_pdf)).pages[0]
    assert len(page.images) == 1
    uris = [annot.get_object()["/A"]["/URI"] for annot in page.get("/Annots", [])]
    assert SAMPLE.verification_url in uris


def test_metadata_is_fixed_and_dated_from_the_issue_date(sample_pdf: bytes) -> None:
    metadata = PdfReader(io.BytesIO(sample_pdf)).metadata
    assert metadata is not None
    assert metadata["/Author"] == "Biz Portal"
    assert SAMPLE.licence_number in str(metadata["/Title"])
    assert SAMPLE.licence_code in str(metadata["/Keywords"])  # for indexing only: the page shows the names
    assert str(metadata["/CreationDate"]).startswith("D:20261122")


def test_same_input_gives_identical_bytes(sample_pdf: bytes) -> None:
    assert render_licence_pdf(SAMPLE) == sample_pdf
    assert render_licence_pdf(dataclasses.replace(SAMPLE)) == sample_pdf


def test_different_input_gives_different_bytes(sample_pdf: bytes) -> None:
    assert render_licence_pdf(dataclasses.replace(SAMPLE, licence_number="กทม-อ.2569/000124")) != sample_pdf
    assert render_licence_pdf(dataclasses.replace(SAMPLE, issued_on=date(2026, 11, 23))) != sample_pdf


def test_identical_bytes_across_processes_hash_seeds_and_time_zones(sample_pdf: bytes) -> None:
    script = (
        "import datetime, hashlib, sys\n"
        "from bizportal.engine.documents.licence_pdf import LicenceDocument, render_licence_pdf\n"
        f"doc = {SAMPLE!r}\n"
        "sys.stdout.write(hashlib.sha256(render_licence_pdf(doc)).hexdigest())\n"
    )
    digests = set()
    for seed, tz in (("1", "UTC"), ("2", "Asia/Bangkok"), ("3", "America/New_York")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz}
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        digests.add(result.stdout)
    assert digests == {hashlib.sha256(sample_pdf).hexdigest()}


def test_long_thai_text_without_spaces_wraps_between_clusters() -> None:
    business = "ร้านข้าวมันไก่น้ำใจสาขาสุขุมวิทยี่สิบสองเปิดบริการทุกวันตั้งแต่เช้าจรดเย็นไม่มีวันหยุดเลย"
    pdf = render_licence_pdf(dataclasses.replace(SAMPLE, business_name=business))
    text = _page_text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert business in _compact(text)
    assert business not in text  # it really was broken over lines
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            assert not unicodedata.category(stripped[0]).startswith("M"), line
            assert stripped[0] not in "\u0e30\u0e32\u0e33\u0e45", line
            assert stripped[-1] not in "\u0e40\u0e41\u0e42\u0e43\u0e44", line


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 22), "22 พฤศจิกายน 2569"),
        (date(2024, 1, 1), "1 มกราคม 2567"),
        (date(2024, 2, 29), "29 กุมภาพันธ์ 2567"),
        (date(2025, 12, 31), "31 ธันวาคม 2568"),
    ],
)
def test_thai_date(day: date, expected: str) -> None:
    assert thai_date(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 22), "22 November 2026"),
        (date(2024, 1, 1), "1 January 2024"),
        (date(2024, 2, 29), "29 February 2024"),
        (date(2025, 12, 31), "31 December 2025"),
    ],
)
def test_english_date(day: date, expected: str) -> None:
    assert english_date(day) == expected


def test_every_month_has_its_own_name() -> None:
    thai = [thai_date(date(2026, month, 1)).split()[1] for month in range(1, 13)]
    english = [english_date(date(2026, month, 1)).split()[1] for month in range(1, 13)]
    assert thai == [
        "มกราคม",
        "กุมภาพันธ์",
        "มีนาคม",
        "เมษายน",
        "พฤษภาคม",
        "มิถุนายน",
        "กรกฎาคม",
        "สิงหาคม",
        "กันยายน",
        "ตุลาคม",
        "พฤศจิกายน",
        "ธันวาคม",
    ]
    assert english == [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]


def test_pdftotext_reads_the_same_words_as_the_text_layer(sample_pdf: bytes, sample_text: str) -> None:
    # poppler rebuilds words from glyph positions (search and copy in Evince, Okular): no word may come apart,
    # as "จำ หน่าย" or "ผู้ได้รบ ั อนุญาต" did when the text of a Thai cluster sat on a glyph of no width.
    words = pdftotext_words(sample_pdf)
    assert sorted(words) == sorted(sample_text.split())
    for word in ("สำนักงานเขตคลองเตย", "จำหน่ายหรือสะสมอาหาร", "ผู้ได้รับอนุญาต", "เลขประจำตัวผู้ได้รับอนุญาต",
                 "ร้านข้าวมันไก่น้ำใจ"):
        assert word in words
