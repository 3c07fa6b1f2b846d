"""The e-licence certificate: an A4 PDF with correctly shaped Thai text and a verification QR code.

The PDF is stored under its sha256, so rendering is deterministic: the same `LicenceDocument`
always gives byte-identical output (the creation date comes from `issued_on`, never the clock).

Fonts are bundled in `fonts/` (Noto Sans Thai for Thai, Noto Sans as fallback for Latin letters and
digits, which Noto Sans Thai does not contain); HarfBuzz text shaping (`uharfbuzz`) places Thai
vowels and tone marks.
"""

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont
from fpdf.output import OutputProducer
from qrcode.image.pil import PilImage

FONT_DIR = Path(__file__).with_name("fonts")

_THAI = "NotoSansThai"
_LATIN = "NotoSans"
_FONT_FILES = {
    (_THAI, ""): "NotoSansThai-Regular.ttf",
    (_THAI, "B"): "NotoSansThai-Bold.ttf",
    (_LATIN, ""): "NotoSans-Regular.ttf",
    (_LATIN, "B"): "NotoSans-Bold.ttf",
}

_THAI_MONTHS = (
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
)
_ENGLISH_MONTHS = (
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
)
_BUDDHIST_ERA_OFFSET = 543
_BANGKOK = timezone(timedelta(hours=7), "ICT")

# Page geometry (mm) and palette.
_PAGE_W = 210.0
_PAGE_H = 297.0
_MARGIN_X = 22.0
_CONTENT_W = _PAGE_W - 2 * _MARGIN_X
_TOP_Y = 19.0
_BODY_LIMIT_Y = 271.0  # nothing but the footer goes below this line
_LABEL_W = 56.0
_QR_SIZE = 31.0
_NAVY = (16, 42, 84)
_GOLD = (172, 134, 62)
_INK = (28, 31, 36)
_GREY = (96, 104, 116)
_RULE = (206, 212, 222)
_TINT = (238, 242, 248)

# Thai characters that can never begin a line: above/below vowels and tone marks (category Mn) and
# the following vowels SARA A, SARA AA, SARA AM and LAKKHANGYAO.
_NEVER_LINE_START = frozenset("\u0e30\u0e32\u0e33\u0e45")
# Leading vowels (SARA E, AE, O, AI MAIMUAN, AI MAIMALAI) can never end a line.
_NEVER_LINE_END = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")


@dataclass(frozen=True)
class LicenceDocument:
    """Everything printed on one e-licence. `holder_id_masked` is already masked by the caller (PDPA)."""

    licence_number: str
    licence_code: str
    licence_name_th: str
    licence_name_en: str
    agency_name_th: str
    agency_name_en: str
    holder_name: str
    holder_id_masked: str
    business_name: str
    business_address: str
    issued_on: date
    valid_until: date | None
    verification_url: str


def thai_date(d: date) -> str:
    """`date(2026, 11, 22)` -> "22 พฤศจิกายน 2569" (Thai month name, Buddhist-era year)."""
    return f"{d.day} {_THAI_MONTHS[d.month - 1]} {d.year + _BUDDHIST_ERA_OFFSET}"


def english_date(d: date) -> str:
    """`date(2026, 11, 22)` -> "22 November 2026" (independent of the process locale)."""
    return f"{d.day} {_ENGLISH_MONTHS[d.month - 1]} {d.year}"


def render_licence_pdf(doc: LicenceDocument) -> bytes:
    """Render `doc` as a one-page A4 certificate; identical input gives identical bytes."""
    pdf = _LicencePDF()
    pdf.set_title(f"{doc.licence_name_th} ({doc.licence_number})")
    pdf.set_subject(doc.licence_name_en)
    pdf.set_author("Biz Portal")
    pdf.set_creator("Biz Portal")
    pdf.set_keywords(f"{doc.licence_code} {doc.licence_number}")
    pdf.set_lang("th-TH")
    pdf.set_creation_date(datetime.combine(doc.issued_on, time(0, 0), tzinfo=_BANGKOK))
    pdf.add_page()

    _draw_heading(pdf, doc)
    _draw_licence_number(pdf, doc)
    _draw_details(pdf, doc)
    _draw_verification(pdf, doc)
    return bytes(pdf.output(output_producer_class=_CompleteToUnicodeOutputProducer))


class _LicencePDF(FPDF):
    """A4 portrait with the bundled fonts, shaping on, and the certificate frame on every page."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for (family, style), filename in _FONT_FILES.items():
            self.add_font(family, style, str(FONT_DIR / filename))
        # Noto Sans Thai has no Latin letters or digits: those come from Noto Sans, and Thai
        # characters inside text set in Noto Sans come from Noto Sans Thai.
        self.set_fallback_fonts([_LATIN, _THAI])
        self.set_text_shaping(True)
        self.set_margins(_MARGIN_X, _TOP_Y, _MARGIN_X)
        self.set_auto_page_break(False)
        self.set_font(_THAI, "", 11)

    def header(self) -> None:
        self.set_draw_color(*_NAVY)
        self.set_line_width(1.2)
        self.rect(7, 7, _PAGE_W - 14, _PAGE_H - 14)
        self.set_draw_color(*_GOLD)
        self.set_line_width(0.35)
        self.rect(9.8, 9.8, _PAGE_W - 19.6, _PAGE_H - 19.6)
        for x, y in ((9.8, 9.8), (_PAGE_W - 9.8, 9.8), (9.8, _PAGE_H - 9.8), (_PAGE_W - 9.8, _PAGE_H - 9.8)):
            self.set_fill_color(*_GOLD)
            self.rect(x - 1.4, y - 1.4, 2.8, 2.8, style="F")
        self.set_xy(_MARGIN_X, _TOP_Y)

    def footer(self) -> None:
        self.set_text_color(*_GREY)
        self.set_y(_BODY_LIMIT_Y + 4)
        _centred(self, "เอกสารฉบับนี้ออกผ่านระบบอิเล็กทรอนิกส์ Biz Portal", _THAI, "", 8.5, 4.6)
        _centred(
            self,
            "This document was issued electronically through Biz Portal. "
            "Verify it with the QR code or the address above.",
            _LATIN,
            "",
            7.5,
            4.0,
        )


class _CompleteToUnicodeOutputProducer(OutputProducer):
    """Gives every shaped glyph an entry in its font's ToUnicode CMap.

    HarfBuzz's Thai shaper decomposes SARA AM (ำ) into NIKHAHIT + SARA AA, so one input cluster
    becomes two or three glyphs. fpdf2 attaches the cluster's text to the first glyph and leaves the
    others out of the ToUnicode CMap; viewers drop such glyphs, but some extractors (pypdf) emit
    their raw glyph code instead, e.g. "จำ\\x18หน่าย". Mapping them explicitly to no text keeps the
    text layer exact for search, copy and indexing. Fonts without such glyphs are left untouched.
    """

    def _add_fonts(self, *args: Any, **kwargs: Any) -> Any:
        font_objs = super()._add_fonts(*args, **kwargs)
        for font in self.fpdf.fonts.values():
            if not isinstance(font, TTFFont):
                continue
            to_unicode = getattr(font_objs.get(font.i), "to_unicode", None)
            if to_unicode is None:
                continue
            silent = sorted(
                code
                for glyph, code in font.subset.items()
                if glyph is not None and isinstance(glyph.unicode, tuple) and not glyph.unicode
            )
            contents = to_unicode.content_stream()
            if not silent or b"endcmap" not in contents:
                continue
            blocks = b"".join(
                f"{len(chunk)} beginbfchar\n".encode("ascii")
                + b"".join(f"<{code:04X}> <>\n".encode("ascii") for code in chunk)
                + b"endbfchar\n"
                for chunk in (silent[i : i + 100] for i in range(0, len(silent), 100))
            )
            patched = contents.replace(b"endcmap", blocks + b"endcmap", 1)
            to_unicode._contents = patched
            to_unicode.length = len(patched)
        return font_objs


def _draw_heading(pdf: FPDF, doc: LicenceDocument) -> None:
    pdf.set_y(_TOP_Y + 2)
    pdf.set_text_color(*_GOLD)
    _centred(pdf, "ใบอนุญาตอิเล็กทรอนิกส์", _THAI, "B", 11, 6)
    pdf.set_char_spacing(1.6)
    _centred(pdf, "ELECTRONIC LICENCE", _LATIN, "B", 7.5, 4.5)
    pdf.set_char_spacing(0)
    pdf.ln(4)

    pdf.set_text_color(*_NAVY)
    _centred(pdf, doc.agency_name_th, _THAI, "B", 14, 7.5)
    pdf.set_text_color(*_GREY)
    _centred(pdf, doc.agency_name_en, _LATIN, "", 10, 5.5)

    pdf.ln(4)
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.6)
    pdf.line(_PAGE_W / 2 - 30, pdf.get_y(), _PAGE_W / 2 + 30, pdf.get_y())
    pdf.ln(5)

    pdf.set_text_color(*_NAVY)
    _centred(pdf, doc.licence_name_th, _THAI, "B", 18, 9.5)
    pdf.ln(1)
    pdf.set_text_color(*_INK)
    _centred(pdf, doc.licence_name_en, _LATIN, "", 11.5, 6)
    pdf.ln(6)


def _draw_licence_number(pdf: FPDF, doc: LicenceDocument) -> None:
    box_w, box_h = 112.0, 18.0
    x, y = (_PAGE_W - box_w) / 2, pdf.get_y()
    pdf.set_fill_color(*_TINT)
    pdf.set_draw_color(*_NAVY)
    pdf.set_line_width(0.3)
    pdf.rect(x, y, box_w, box_h, style="DF", round_corners=True, corner_radius=2)
    pdf.set_y(y + 2.2)
    pdf.set_text_color(*_GREY)
    _centred(pdf, "เลขที่ใบอนุญาต  ·  Licence No.", _THAI, "", 8.5, 4.8)
    pdf.set_text_color(*_NAVY)
    _centred(pdf, doc.licence_number, _LATIN, "B", 14, 8)
    pdf.set_y(y + box_h + 7)


def _draw_details(pdf: FPDF, doc: LicenceDocument) -> None:
    rows: list[tuple[str, str, list[tuple[str, str, str, float]]]] = [
        ("ผู้ได้รับอนุญาต", "Licence holder", [(doc.holder_name, _THAI, "B", 12)]),
        ("เลขประจำตัวผู้ได้รับอนุญาต", "Holder ID No.", [(doc.holder_id_masked, _THAI, "", 11.5)]),
        ("ชื่อสถานประกอบการ", "Business name", [(doc.business_name, _THAI, "B", 12)]),
        ("ที่ตั้งสถานประกอบการ", "Business address", [(doc.business_address, _THAI, "", 11.5)]),
        ("ประเภทใบอนุญาต", "Licence type", [(doc.licence_code, _LATIN, "", 11)]),
        ("วันที่ออกใบอนุญาต", "Date of issue", _date_lines(doc.issued_on)),
    ]
    if doc.valid_until is None:
        rows.append(
            (
                "อายุใบอนุญาต",
                "Validity",
                [("ไม่มีวันหมดอายุ", _THAI, "", 11.5), ("No expiry", _LATIN, "", 9.5)],
            )
        )
    else:
        rows.append(("ใช้ได้ถึงวันที่", "Valid until", _date_lines(doc.valid_until)))

    value_x = _MARGIN_X + _LABEL_W
    value_w = _CONTENT_W - _LABEL_W
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.25)
    pdf.line(_MARGIN_X, pdf.get_y(), _MARGIN_X + _CONTENT_W, pdf.get_y())
    for label_th, label_en, values in rows:
        # (line, family, style, size, colour): the first value is the main one; any further ones
        # (English dates, "No expiry") are its translation and are set smaller, in grey.
        value_lines: list[tuple[str, str, str, float, tuple[int, int, int]]] = []
        for index, (text, family, style, size) in enumerate(values):
            pdf.set_font(family, style, size)
            colour = _INK if index == 0 else _GREY
            value_lines += [(line, family, style, size, colour) for line in _wrap_text(pdf, text, value_w)]
        label_h = 5.6 + 4.4
        value_h = sum(_line_height(line[3]) for line in value_lines)
        row_h = max(label_h, value_h) + 4
        if pdf.get_y() + row_h > _BODY_LIMIT_Y:
            pdf.add_page()
            pdf.set_y(_TOP_Y + 4)
        top = pdf.get_y()

        pdf.set_xy(_MARGIN_X, top + 2)
        pdf.set_text_color(*_NAVY)
        pdf.set_font(_THAI, "B", 10)
        pdf.cell(_LABEL_W - 3, 5.6, label_th, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*_GREY)
        pdf.set_font(_LATIN, "", 8)
        pdf.cell(_LABEL_W - 3, 4.4, label_en)

        pdf.set_xy(value_x, top + 2)
        for line, family, style, size, colour in value_lines:
            pdf.set_text_color(*colour)
            pdf.set_font(family, style, size)
            pdf.set_x(value_x)
            pdf.cell(value_w, _line_height(size), line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        pdf.set_y(top + row_h)
        pdf.line(_MARGIN_X, pdf.get_y(), _MARGIN_X + _CONTENT_W, pdf.get_y())


def _draw_verification(pdf: FPDF, doc: LicenceDocument) -> None:
    block_h = _QR_SIZE + 6
    top = max(pdf.get_y() + 6, _BODY_LIMIT_Y - block_h)
    if top + block_h > _BODY_LIMIT_Y:
        pdf.add_page()
        top = _BODY_LIMIT_Y - block_h
    pdf.set_fill_color(*_TINT)
    pdf.rect(_MARGIN_X, top, _CONTENT_W, block_h, style="F", round_corners=True, corner_radius=2)
    pdf.image(_qr_png(doc.verification_url), x=_MARGIN_X + 3, y=top + 3, w=_QR_SIZE, h=_QR_SIZE)

    text_x = _MARGIN_X + _QR_SIZE + 9
    text_w = _MARGIN_X + _CONTENT_W - 4 - text_x
    pdf.set_xy(text_x, top + 4.5)
    pdf.set_text_color(*_NAVY)
    pdf.set_font(_THAI, "B", 11)
    pdf.cell(text_w, 6.5, "ตรวจสอบความถูกต้องของใบอนุญาต", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(text_x)
    pdf.set_text_color(*_INK)
    pdf.set_font(_THAI, "", 9.5)
    pdf.cell(text_w, 5.5, "สแกนคิวอาร์โค้ดเพื่อตรวจสอบข้อมูลกับระบบ", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(text_x)
    pdf.set_text_color(*_GREY)
    pdf.set_font(_LATIN, "", 8.5)
    pdf.cell(text_w, 5, "Scan the QR code to verify this licence online.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_NAVY)
    pdf.set_font(_LATIN, "", 8)
    for line in _wrap_text(pdf, doc.verification_url, text_w, break_anywhere=True):
        pdf.set_x(text_x)
        pdf.cell(text_w, 4.2, line, link=doc.verification_url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _date_lines(d: date) -> list[tuple[str, str, str, float]]:
    return [(thai_date(d), _THAI, "", 11.5), (english_date(d), _LATIN, "", 9.5)]


def _line_height(size_pt: float) -> float:
    """Line pitch in mm for a font size; Thai needs room above and below for stacked marks."""
    return size_pt * 0.53


def _centred(pdf: FPDF, text: str, family: str, style: str, size: float, line_h: float) -> None:
    pdf.set_font(family, style, size)
    for line in _wrap_text(pdf, text, _CONTENT_W):
        pdf.set_x(_MARGIN_X)
        pdf.cell(_CONTENT_W, line_h, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _wrap_text(pdf: FPDF, text: str, width: float, *, break_anywhere: bool = False) -> list[str]:
    """Split `text` into lines no wider than `width` in the current font.

    Breaks at spaces; a word wider than the line (Thai writes words without spaces) is broken
    between grapheme clusters, never between a consonant and its vowel or tone marks, nor after a
    leading vowel. With `break_anywhere` (URLs) words are packed cluster by cluster.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if pdf.get_string_width(candidate) <= width:
                line = candidate
                continue
            if line and not break_anywhere:
                lines.append(line)
                line = ""
            elif line:
                line += " "
            for cluster in _clusters(word):
                if line.strip() and pdf.get_string_width(line + cluster) > width:
                    lines.append(line.rstrip())
                    line = cluster
                else:
                    line += cluster
        lines.append(line)
    return lines


def _clusters(word: str) -> Iterable[str]:
    cluster = ""
    for char in word:
        attaches = (
            char in _NEVER_LINE_START
            or unicodedata.category(char).startswith("M")
            or (cluster != "" and cluster[-1] in _NEVER_LINE_END)
        )
        if cluster and not attaches:
            yield cluster
            cluster = ""
        cluster += char
    if cluster:
        yield cluster


def _qr_png(url: str) -> io.BytesIO:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=1)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(image_factory=PilImage, fill_color="black", back_color="white").save(buffer, format="PNG")
    buffer.seek(0)
    return buffer
