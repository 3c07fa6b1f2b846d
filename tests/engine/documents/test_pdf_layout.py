"""The page-description vocabulary the document templates render: flow, page breaks, boxes, errors."""

import io
import unicodedata

import pytest
from fpdf.bidi import BidiParagraph
from fpdf.enums import TextDirection
from pypdf import PdfReader

from bizportal.engine.documents.layout import _bidi_segments, layout_pdf
from bizportal.engine.documents.typefaces import glyph_texts
from support.pdf_text import pdftotext_words

STYLES = '<style name="body" font="thai" size="11"/><style name="en" font="latin" size="9" color="#606874"/>'


def _document(body: str, footer: str = "", created: str = "2026-11-22T00:00:00+07:00") -> str:
    return (f'<document title="ทดสอบ" author="Biz Portal" created="{created}" margin="20" top="20" bottom="270">'
            f"{STYLES}<footer top='275'>{footer}</footer><body>{body}</body></document>")


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_blocks_that_do_not_fit_start_a_new_page_and_the_footer_repeats() -> None:
    rows = "".join(f'<row pad="2 0" rule="#CED4DE"><cell width="40"><text style="en">row {n}</text></cell>'
                   f'<cell><text style="body">แถวที่ {n}</text></cell></row>' for n in range(40))
    pages = _pages(layout_pdf(_document(rows, footer='<text style="en" align="center">page footer</text>')))
    assert len(pages) >= 2
    assert all("page footer" in page for page in pages)
    joined = "\n".join(pages)
    assert all(f"row {n}" in joined for n in range(40))
    assert "row 39" not in pages[0] and "row 0" in pages[0]


def test_a_box_anchored_at_the_bottom_follows_the_flow_onto_the_next_page_when_it_does_not_fit() -> None:
    note = '<box anchor="bottom" height="60" fill="#EEF2F8"><text style="en">the note</text></box>'
    fits = _pages(layout_pdf(_document('<text style="body">สั้น</text>' + note)))
    assert len(fits) == 1 and "the note" in fits[0]
    crowded = _pages(layout_pdf(_document('<space h="200"/><text style="body">ยาว</text>' + note)))
    assert len(crowded) == 2 and "the note" in crowded[1]


def test_thai_wraps_between_clusters_in_a_narrow_cell() -> None:
    word = "ใบเสร็จรับเงินค่าธรรมเนียมใบอนุญาตประกอบกิจการที่เป็นอันตรายต่อสุขภาพ"
    pdf = layout_pdf(_document(f'<row><cell width="30"><text style="body">{word}</text></cell></row>'))
    lines = [line.strip() for line in _pages(pdf)[0].splitlines() if line.strip()]
    assert len(lines) > 2 and "".join(lines) == word
    for line in lines:
        assert not unicodedata.category(line[0]).startswith("M") and line[0] not in "\u0e30\u0e32\u0e33\u0e45"
        assert line[-1] not in "\u0e40\u0e41\u0e42\u0e43\u0e44"


@pytest.mark.parametrize(("markup", "message"), [
    (_document("<table/>"), "unknown element <table>"),
    (_document('<text style="heading">x</text>'), "undefined style 'heading'"),
    (_document('<box pad="1 2 3"><text style="body">x</text></box>'), "pad takes 1, 2 or 4"),
    (_document("<space/>"), "needs `h`"),
    (_document('<text style="body">x</text>', created=""), "needs `created`"),
    ("<html/>", "must render <document>"),
])
def test_a_template_that_renders_something_unknown_is_refused(markup: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        layout_pdf(markup)


# Thai words whose clusters HarfBuzz shapes into several glyphs or places with offsets: SARA AM (drawn as
# NIKHAHIT + SARA AA), stacked upper vowels and tone marks, marks moved left over tall consonants.
THAI_WORDS = ("จำหน่าย ประจำตัว น้ำใจ ชำระเงิน คำขอ ผู้ได้รับอนุญาต ตั้งแต่ กรุงเทพมหานคร สำนักงาน ค่าธรรมเนียม "
              "เจ้าหน้าที่ ปฏิบัติ ฎีกา ญาติ กำหนด ทำให้ ซ้ำซ้อน ล้ำค่า อันตรายต่อสุขภาพ ฤดูกาล กี่ปี ปั้นน้ำเป็นตัว "
              "ที่นี่ ชั่วโมง ผู้ใหญ่ ฟื้นฟู ปู่ย่า ตั๋ว ก๊าซ เก๋ไก๋ ผ้าไหม สิ่งที่ เพื่อน ยี่สิบ นิ้ว").split()


def test_pdftotext_reads_thai_words_whole_in_every_weight_and_size() -> None:
    styles = ('<style name="small" font="thai" size="8"/><style name="bold" font="thai" bold="1" size="14"/>'
              '<style name="latin" font="latin" size="10"/>')
    lines = "".join(f'<text style="{style}">{word}</text>' for word in THAI_WORDS
                    for style in ("body", "small", "bold", "latin"))
    pdf = layout_pdf(_document(lines).replace(STYLES, STYLES + styles))
    words = pdftotext_words(pdf)
    assert [word for word in words if word not in THAI_WORDS] == []  # e.g. "จำ", "หน่าย" or a lone "ั"
    assert words == [word for word in THAI_WORDS for _ in range(4)]


def test_each_cluster_is_read_from_its_last_wide_glyph() -> None:
    # "จำหน่าย" as HarfBuzz shapes it: จ, NIKHAHIT (no width) + SARA AA (cluster 1), ห, น, MAI EK (no width), า, ย.
    texts = glyph_texts("จำหน่าย", [0, 1, 1, 2, 3, 4, 5, 6], [532, 0, 406, 587, 613, 0, 406, 594])
    assert texts == ["จ", "", "ำ", "ห", "น่", "", "า", "ย"]
    # "น้ำ": NIKHAHIT, MAI THO and SARA AA in one cluster; "รั": a mark alone in its cluster joins its consonant.
    assert glyph_texts("น้ำ", [0, 1, 1, 1], [613, 0, 0, 406]) == ["น", "", "", "้ำ"]
    assert glyph_texts("รับ", [0, 1, 2], [488, 0, 604]) == ["รั", "", "บ"]
    # A run that starts with a mark keeps it; a ligature keeps all its characters; the text is never lost.
    assert glyph_texts("\u0e31x", [0, 1], [0, 500]) == ["\u0e31", "x"]
    assert glyph_texts("fix", [0, 2], [550, 300]) == ["fi", "x"]


@pytest.mark.parametrize("text", [
    *THAI_WORDS, "ผู้ได้รับอนุญาต · Licence holder", "22 พฤศจิกายน 2569", "BMA-2569-000123", "1-2345-xxxxx-xx-1",
    "https://bizportal.example/verify/BMA-2569-000123?s=abc_-DEF", "Amount (THB) 1,234.50 – “quoted” … ฿",
    "99/9 ซอยสุขุมวิท 22 ถนนสุขุมวิท แขวงคลองเตย", "(ไม่เกิน 200 ตร.ม.)", "x\u00ady\u200bz\u2060", "",
    # Not left-to-right throughout: the algorithm itself runs.
    "שלום world", "abc مرحبا 123", "x \u202bembedded\u202c y", "a\u2067isolate\u2069b", "digits ٣٤٥ here",
])
def test_the_bidirectional_fast_path_gives_the_algorithms_segments(text: str) -> None:
    expected = BidiParagraph(text=text, base_direction=TextDirection.LTR, preserve_bn_chars=True,
                             alias="{nb}").get_bidi_fragments()
    assert _bidi_segments(text, TextDirection.LTR, "{nb}") == expected
