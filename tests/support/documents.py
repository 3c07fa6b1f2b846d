"""A sample e-licence's fields, shared by the tests that render, sign or decode one."""

from __future__ import annotations

from datetime import date

from bizportal.engine.documents.licence_pdf import LicenceDocument

SAMPLE_LICENCE = LicenceDocument(
    licence_number="BMA-2569-000123",
    licence_code="FOOD-NOTIFY-200",
    licence_name_th="หนังสือรับรองการแจ้งจัดตั้งสถานที่จำหน่ายอาหาร",
    licence_name_en="Certificate of Notification for a Food Premises",
    agency_name_th="สำนักงานเขตคลองเตย",
    agency_name_en="Khlong Toei District Office",
    holder_name="นางสาวสมหญิง ใจดี",
    holder_id_masked="1-2345-xxxxx-xx-1",
    business_name="ร้านข้าวมันไก่น้ำใจ",
    business_address="99/9 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร 10110",
    issued_on=date(2026, 11, 22),
    valid_until=date(2027, 11, 21),
    verification_url="https://bizportal.example/verify/BMA-2569-000123?s=abc",
)
