"""Labels of the business's fields (api/templates/_business_fields.html, api/pages/business_form.py), the same on
the apply pages (the entrepreneur) and the counter's filing form (an officer for them): worded for either reader.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "th": {
        "business_legend": "สถานประกอบการ",
        "business_name": "ชื่อสถานประกอบการ", "business_name_hint": "ชื่อร้านหรือกิจการตามป้ายหน้าร้าน",
        "business_address": "ที่ตั้งสถานประกอบการ", "business_address_hint": "บ้านเลขที่ ถนน แขวง/ตำบล",
        "business_province": "จังหวัด", "business_province_hint": "เช่น กรุงเทพมหานคร",
        "business_district": "เขต/อำเภอ",
        "business_district_hint": "ใช้ส่งคำขอไปยังสำนักงานท้องถิ่นที่ดูแลพื้นที่ เช่น คลองเตย",
        "business_area": "พื้นที่ใช้สอย",
        "business_area_hint": "พื้นที่ที่ใช้ประกอบกิจการทั้งหมด ค่าธรรมเนียมบางรายการคิดจากพื้นที่นี้",
        "business_optional": "ไม่บังคับ", "business_error_prefix": "ข้อผิดพลาด",
        "business_error_name": "กรอกชื่อสถานประกอบการ (ไม่เกิน 300 ตัวอักษร)",
        "business_error_address": "กรอกที่ตั้งสถานประกอบการ (ไม่เกิน 1,000 ตัวอักษร)",
        "business_error_province": "กรอกจังหวัด (ไม่เกิน 100 ตัวอักษร)",
        "business_error_district": "กรอกเขตหรืออำเภอไม่เกิน 100 ตัวอักษร",
        "business_error_area_m2": "กรอกพื้นที่เป็นตัวเลขมากกว่า 0 และไม่เกิน 1,000,000 ตารางเมตร",
        "business_error_area_fee": "พื้นที่นี้เกินขอบเขตของ %s ซึ่งใช้กับกิจการขนาดเล็ก ตรวจสอบพื้นที่ "
                                   "หรือเลือกใบอนุญาตที่ตรงกับขนาดกิจการ",
        "business_error_route": "ยังไม่มีสำนักงานท้องถิ่นที่เชื่อมต่อกับระบบในพื้นที่นี้ ตรวจสอบจังหวัดและเขต/อำเภอ",
    },
    "en": {
        "business_legend": "The business",
        "business_name": "Business name", "business_name_hint": "The name on the shop sign",
        "business_address": "Business address", "business_address_hint": "House number, road, sub-district",
        "business_province": "Province", "business_province_hint": "For example กรุงเทพมหานคร (Bangkok)",
        "business_district": "District (khet/amphoe)",
        "business_district_hint": "It sends the application to the local office of the area, for example คลองเตย",
        "business_area": "Floor area",
        "business_area_hint": "All the floor area the business uses: some fees depend on it",
        "business_optional": "optional", "business_error_prefix": "Error",
        "business_error_name": "Enter the business name (up to 300 characters)",
        "business_error_address": "Enter the business address (up to 1,000 characters)",
        "business_error_province": "Enter the province (up to 100 characters)",
        "business_error_district": "Enter a district of up to 100 characters",
        "business_error_area_m2": "Enter the floor area as a number above 0 and up to 1,000,000 square metres",
        "business_error_area_fee": "This floor area is beyond what %s covers: check the area, or choose the licence "
                                   "for a business of this size",
        "business_error_route": "No local office of this area is connected to the service yet: check the province "
                                "and district",
    },
}
