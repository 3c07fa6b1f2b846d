"""Labels of the public pages, in Thai (the default) and English."""

from __future__ import annotations

from typing import Literal

Lang = Literal["th", "en"]

LABELS: dict[str, dict[str, str]] = {
    "th": {
        "catalogue": "คู่มือสำหรับประชาชน", "catalogue_intro": "ใบอนุญาต %d รายการที่ยื่นผ่าน Biz Portal ได้",
        "licence": "ใบอนุญาต", "agency": "หน่วยงาน", "total_days": "ระยะเวลา (วันทำการ)", "fee": "ค่าธรรมเนียม",
        "elicence": "ใบอนุญาตอิเล็กทรอนิกส์", "counter": "ต้องยื่นที่หน่วยงาน", "public_display": "ต้องแสดงใบอนุญาตโดยเปิดเผย",
        "legal_basis": "กฎหมายที่เกี่ยวข้อง", "steps": "ขั้นตอน ระยะเวลา และส่วนงานที่รับผิดชอบ", "step": "ขั้นตอน",
        "unit": "ส่วนงานที่รับผิดชอบ", "working_days": "ระยะเวลา (วันทำการ)", "total": "รวมระยะเวลา",
        "working_days_unit": "วันทำการ", "documents": "รายการเอกสารหลักฐาน", "document": "เอกสาร", "required": "จำเป็น",
        "how": "วิธีได้มา", "yes": "ใช่", "if_applicable": "เฉพาะกรณี",
        "exchange": "ระบบดึงข้อมูลจากหน่วยงานรัฐ ไม่ต้องแนบสำเนา", "upload": "แนบไฟล์",
        "discount": "ส่วนลดเมื่อยื่นผ่าน Biz Portal %d%%", "more": "ข้อมูลเพิ่มเติม", "validity": "อายุใบอนุญาต",
        "years": "%d ปี", "no_term": "ไม่กำหนด", "ial": "ระดับการพิสูจน์ตัวตน (IAL)",
        "aal": "ระดับการยืนยันตัวตน (AAL)", "prerequisites": "ต้องได้รับก่อน",
        "variants": "บริการที่เกี่ยวข้อง", "variant_renew": "ต่ออายุ", "variant_amend": "แก้ไขเปลี่ยนแปลง",
        "variant_cancel": "ยกเลิก", "variant_annual_fee": "ชำระค่าธรรมเนียมรายปี", "sub_types": "ประเภทกิจการ",
        "official": "คู่มือฉบับทางการ", "complaints": "ช่องทางร้องเรียน",
        "complaints_text": "ศูนย์บริการประชาชน สำนักปลัดสำนักนายกรัฐมนตรี สายด่วน 1111 หรือหน่วยงานผู้ออกใบอนุญาต",
        "unverified": "รอตรวจสอบ", "unverified_list": "ข้อมูลที่ยังรอตรวจสอบกับแหล่งทางการ",
        "split_unverified": "การแบ่งระยะเวลาแต่ละขั้นตอนเป็นการประมาณ รอตรวจสอบกับคู่มือทางการ",
        "footer": "ข้อมูลเปิด ดาวน์โหลดทั้งหมด", "fee_none": "ไม่มีค่าธรรมเนียม",
        "fee_range": "%s – %s ตามที่หน่วยงานกำหนด", "fee_range_rule": "%s – %s ตามตารางด้านล่าง",
        "param_area_m2": "พื้นที่ (ตร.ม.)", "fee_from": "ตั้งแต่ %s", "baht": "%s บาท",
        "form": "ข้อมูลที่ต้องกรอกในคำขอ", "form_field": "ข้อมูล", "form_answer": "สิ่งที่กรอก",
        "form_number": "ตัวเลข %s ถึง %s", "form_date": "วันที่", "form_yes_no": "ใช่/ไม่ใช่",
        "form_text": "ข้อความไม่เกิน %d ตัวอักษร", "form_none": "ไม่มีข้อมูลเพิ่มเติมนอกจากข้อมูลผู้ยื่นและสถานประกอบการ",
        "form_unverified": "รายการข้อมูลในคำขอเป็นการอนุมาน รอตรวจสอบกับแบบคำขอทางการ",
    },
    "en": {
        "catalogue": "Citizen's manuals", "catalogue_intro": "%d licences you can apply for through Biz Portal",
        "licence": "Licence", "agency": "Agency", "total_days": "Time (working days)", "fee": "Fee",
        "elicence": "Electronic licence", "counter": "Filed at the agency's counter",
        "public_display": "Must be displayed in public", "legal_basis": "Legal basis",
        "steps": "Steps, time and responsible unit", "step": "Step", "unit": "Responsible unit",
        "working_days": "Time (working days)", "total": "Total", "working_days_unit": "working days",
        "documents": "Documents", "document": "Document", "required": "Required", "how": "How it is provided",
        "yes": "Yes", "if_applicable": "If applicable",
        "exchange": "Looked up from government records: no copy needed", "upload": "Upload",
        "discount": "%d%% discount when applying through Biz Portal", "more": "More", "validity": "Validity",
        "years": "%d years", "no_term": "No fixed term", "ial": "Identity assurance (IAL)",
        "aal": "Sign-in assurance (AAL)", "prerequisites": "Needs first",
        "variants": "Related services", "variant_renew": "Renewal", "variant_amend": "Amendment",
        "variant_cancel": "Cancellation", "variant_annual_fee": "Annual fee", "sub_types": "Trades",
        "official": "Official manual", "complaints": "Complaints",
        "complaints_text": "Government Contact Center hotline 1111, or the issuing agency",
        "unverified": "to be verified", "unverified_list": "Values still to be verified against official sources",
        "split_unverified": "The split of time between steps is an estimate, "
                            "to be verified against the official manual",
        "footer": "Open data: download everything", "fee_none": "No fee",
        "fee_range": "%s – %s, set by the agency", "fee_range_rule": "%s – %s, by the table below",
        "param_area_m2": "Area (m²)", "fee_from": "From %s", "baht": "%s THB",
        "form": "What the application asks", "form_field": "Field", "form_answer": "Answer",
        "form_number": "a number from %s to %s", "form_date": "a date", "form_yes_no": "yes or no",
        "form_text": "text of up to %d characters", "form_none": "Nothing beyond the applicant and the business",
        "form_unverified": "The form's fields are inferred, to be verified against the official application form",
    },
}
