"""The e-receipt PDF: Thai and English text, amounts in baht, deterministic, PAdES-signed like the licence."""

import dataclasses
import io
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from bizportal.api.key_files import development_certificate, new_signing_key_pem
from bizportal.engine.documents.formats import baht, english_datetime, thai_datetime
from bizportal.engine.documents.receipt_pdf import Cashier, ReceiptDocument, ReceiptLine, render_receipt_pdf
from bizportal.engine.documents.signing import pem_signer, sign_pdf, validate_pdf
from support.pdf_text import pdftotext_words

FOOD_TH = "ขอหนังสือรับรองการแจ้งจัดตั้งสถานที่ จำหน่ายหรือสะสมอาหาร (ไม่เกิน 200 ตร.ม.)"
FITNESS_TH = "ใบอนุญาตประกอบกิจการที่เป็นอันตรายต่อสุขภาพ (สถานที่ออกกำลังกาย)"

ONLINE = ReceiptDocument(
    receipt_number="BP-R-2569-000042",
    paid_at=datetime(2026, 12, 1, 2, 5, tzinfo=UTC),  # 09:05 in Bangkok
    payer_name="นางสาวสมหญิง ใจดี",
    tracking_number="BP-2569-0000007",
    method="promptpay",
    payment_reference="BP7KX2M9QA4T",
    lines=(
        ReceiptLine(FOOD_TH, "Certificate of Notification for a Food Sale or Storage Premises (not exceeding 200 sq m)",
                    "สำนักงานเขตคลองเตย", "Khlong Toei District Office", 50000),
        ReceiptLine(FITNESS_TH, "Health-hazard business licence (fitness centre)", "สำนักงานเขตคลองเตย",
                    "Khlong Toei District Office", 123450),
    ),
    currency="THB",
    recorded_by=None,
    record_url="https://bizportal.example/api/v1/receipts/BP-R-2569-000042/pdf",
)
COUNTER = dataclasses.replace(ONLINE, method="counter", payment_reference="0b6f3c2e-1f0a-4c55-9d36-1a2b3c4d5e6f",
                              lines=ONLINE.lines[:1], recorded_by=Cashier("counter_officer", "carl", "สมชาย รับเงิน"))


def _compact(text: str) -> str:
    return unicodedata.normalize("NFC", "".join(text.split()))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def online_pdf() -> bytes:
    return render_receipt_pdf(ONLINE)


def test_online_receipt_lists_every_invoice_with_its_amount_and_the_total(online_pdf: bytes) -> None:
    assert len(PdfReader(io.BytesIO(online_pdf)).pages) == 1
    text = _compact(_text(online_pdf))
    for value in (FOOD_TH, FITNESS_TH, "Khlong Toei District Office", "500.00", "1,234.50", "1,734.50THB",
                  ONLINE.receipt_number, ONLINE.tracking_number, ONLINE.payment_reference, ONLINE.payer_name,
                  "พร้อมเพย์", "PromptPay", ONLINE.record_url):
        assert _compact(value) in text, value
    assert _compact("1 ธันวาคม 2569 เวลา 09:05 น.") in text  # Buddhist era, Bangkok time
    assert _compact("1 December 2026, 09:05") in text
    assert "Recordedby" not in text  # nobody took cash


def test_counter_receipt_names_cash_and_the_officer_who_took_it() -> None:
    text = _compact(_text(render_receipt_pdf(COUNTER)))
    assert _compact("เงินสด ชำระที่เคาน์เตอร์") in text and "Cashatacounter" in text
    assert _compact("ผู้รับเงิน Received by สมชาย รับเงิน") in text
    assert "counter_officer" not in text and "carl" not in text  # the name, not the audit label or user id
    assert "500.00THB" in text and FITNESS_TH not in text


@pytest.mark.parametrize(("role", "thai", "english"), [
    ("counter_officer", "เจ้าหน้าที่รับชำระเงิน", "Counter officer"),
    ("agency_officer", "เจ้าหน้าที่หน่วยงาน", "Agency officer"),
    ("admin", "ผู้ดูแลระบบ", "Administrator"),
])
def test_an_officer_without_a_display_name_is_named_by_role_and_user_id(role: str, thai: str, english: str) -> None:
    text = _compact(_text(render_receipt_pdf(dataclasses.replace(COUNTER, recorded_by=Cashier(role, "carl")))))
    assert _compact(f"{thai} (carl) {english} (carl)") in text
    assert f"{role}:carl" not in text


def test_same_receipt_gives_identical_bytes_and_any_change_differs(online_pdf: bytes) -> None:
    assert render_receipt_pdf(dataclasses.replace(ONLINE)) == online_pdf
    assert render_receipt_pdf(dataclasses.replace(ONLINE, receipt_number="BP-R-2569-000043")) != online_pdf
    # The same instant in another zone is the same receipt.
    bangkok = ONLINE.paid_at.astimezone(timezone(timedelta(hours=7)))
    assert render_receipt_pdf(dataclasses.replace(ONLINE, paid_at=bangkok)) == online_pdf
    assert render_receipt_pdf(dataclasses.replace(ONLINE, paid_at=ONLINE.paid_at + timedelta(minutes=1))) != online_pdf
    metadata = PdfReader(io.BytesIO(online_pdf)).metadata
    assert metadata is not None and str(metadata["/CreationDate"]).startswith("D:20261201090500+07")


def test_signed_receipt_validates(online_pdf: bytes) -> None:
    key = new_signing_key_pem()
    cert = development_certificate(key, datetime.now(UTC))  # the real time: validation checks it against the clock
    signed = sign_pdf(online_pdf, pem_signer(key, cert), reason="Electronic receipt issued by Biz Portal")
    check = validate_pdf(signed, [cert])
    assert check.valid and check.reason is None
    tampered = bytearray(signed)
    tampered[len(online_pdf) // 2] ^= 0x01
    assert not validate_pdf(bytes(tampered), [cert]).valid


def test_many_invoices_flow_onto_a_second_page_with_the_frame_and_footer() -> None:
    lines = tuple(dataclasses.replace(ONLINE.lines[i % 2], amount_satang=100 * (i + 1)) for i in range(9))
    pdf = render_receipt_pdf(dataclasses.replace(ONLINE, lines=lines))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2
    assert all("Biz Portal" in page.extract_text() for page in pages)
    assert baht(sum(line.amount_satang for line in lines)) in _text(pdf)


def test_a_receipt_needs_an_aware_time_and_a_line() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_receipt_pdf(dataclasses.replace(ONLINE, paid_at=datetime(2026, 12, 1, 9, 5)))
    with pytest.raises(ValueError, match="no line"):
        render_receipt_pdf(dataclasses.replace(ONLINE, lines=()))


@pytest.mark.parametrize(("satang", "printed"), [(0, "0.00"), (5, "0.05"), (50000, "500.00"), (123450, "1,234.50"),
                                                 (100000000, "1,000,000.00"), (-250, "-2.50")])
def test_baht(satang: int, printed: str) -> None:
    assert baht(satang) == printed


def test_baht_refuses_anything_but_integer_satang() -> None:
    for wrong in (12.5, True, "100"):
        with pytest.raises(TypeError):
            baht(wrong)  # type: ignore[arg-type]


def test_date_times_print_in_bangkok_time() -> None:
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # already 1 January in Bangkok
    assert thai_datetime(late) == "1 มกราคม 2570 เวลา 00:30 น."
    assert english_datetime(late) == "1 January 2027, 00:30 (UTC+7)"
    with pytest.raises(ValueError):
        thai_datetime(datetime(2026, 12, 31, 17, 30))


def test_characters_xml_cannot_carry_are_dropped_from_values() -> None:
    text = _compact(_text(render_receipt_pdf(dataclasses.replace(ONLINE, payer_name="สมหญิง\x0b ใจดี\x00"))))
    assert _compact("สมหญิง ใจดี") in text


def test_pdftotext_reads_the_same_words_as_the_text_layer(online_pdf: bytes) -> None:
    words = pdftotext_words(online_pdf)
    assert sorted(words) == sorted(_text(online_pdf).split())
    assert {"จำหน่ายหรือสะสมอาหาร", "สำนักงานเขตคลองเตย", "ใบเสร็จรับเงินค่าธรรมเนียมใบอนุญาต", "วิธีชำระเงิน"} <= set(words)
