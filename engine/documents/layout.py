"""PDF documents laid out by Jinja2 templates (the e-licence, the e-receipt), drawn with fpdf2.

A template in `document_templates/` renders a small XML page description; `render_pdf` lays it
out on A4 portrait pages and draws it. Identical input gives byte-identical output: the creation
date comes from the template (`created`), never the clock, and nothing depends on hash seeds or the
time zone, because documents are stored under their sha256.

Why not HTML and CSS. WeasyPrint (Pango) lays Thai out well, but its PDF text layer maps every glyph
to one text for the whole file, so Thai clusters HarfBuzz shapes into several glyphs come back wrong
when the PDF is searched, copied or read by pypdf: "ตั้งแต่" reads "ตังแต่", "น้ำใจ" reads "นาใจ", every
SARA AM (ำ) is lost. fpdf2's `write_html` allows one style per table cell, no links in cells, and breaks
an overlong Thai word between any two characters. fpdf2's drawing keeps a text mapping per occurrence
(completed by `typefaces.EmbeddingOutputProducer`, and put on the glyph extractors read it from by
`typefaces.TextLayerFont`, so pypdf and poppler's `pdftotext` both read every Thai word whole), so the templates
describe the layout and this module draws it.

Fonts are bundled in `fonts/` (Noto Sans Thai for Thai, Noto Sans for Latin letters and digits, which
Noto Sans Thai lacks); HarfBuzz (`uharfbuzz`) places Thai vowels and tone marks.

The vocabulary (lengths in mm, font sizes and character spacing in pt, colours as #RRGGBB; `pad` is a
CSS-like shorthand of 1, 2 or 4 lengths: all, vertical horizontal, or top right bottom left):

    <document title subject keywords author lang created margin top bottom>
      <style name font="thai|latin" bold="1" size color spacing/>   named text styles
      <frame> <rect x y w h line color fill/> ... </frame>           drawn on every page
      <footer top> flow </footer>                                    drawn on every page from `top`
      <body> flow </body>                                            between `top` and `bottom`
    flow:
      <text style align="left|center|right" leading link wrap="words|anywhere">...</text>
      <space h/>
      <rule width line color align/>                                 a horizontal line
      <box width align pad height fill border line radius anchor="bottom"> flow </box>
      <row pad rule line> <cell width pad> flow </cell> ... </row>   side by side; the last cell
                                                                     without `width` takes the rest
      <qr size>URL</qr>                                              a QR code

In `<body>`, a block that does not fit on the page starts a new one; `anchor="bottom"` puts a box at
the foot of the body (or of the next page). Text wraps at spaces; a word wider than its line (Thai is
written without spaces between words) is broken between grapheme clusters, never between a consonant
and its vowel or tone marks, nor after a leading vowel.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import qrcode
import qrcode.constants
from defusedxml.ElementTree import fromstring
from fpdf import FPDF
from fpdf.bidi import BidiParagraph, auto_detect_base_direction
from fpdf.enums import TextDirection
from fpdf.line_break import Fragment
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from PIL import Image

from bizportal.engine.documents import text_fragments
from bizportal.engine.documents.formats import baht, english_date, english_datetime, thai_date, thai_datetime
from bizportal.engine.documents.glyph_codes import CodesExhausted
from bizportal.engine.documents.typefaces import (
    EmbeddingOutputProducer,
    add_document_fonts,
    rendering_lock,
    renew_glyph_codes,
)

TEMPLATE_DIR = Path(__file__).with_name("templates")

_PAGE_W = 210.0
_PAGE_H = 297.0
_FONTS = {"thai": "NotoSansThai", "latin": "NotoSans"}
_ALIGN = {"left": "L", "center": "C", "right": "R"}

# Thai characters that can never begin a line: above/below vowels and tone marks (category Mn) and
# the following vowels SARA A, SARA AA, SARA AM and LAKKHANGYAO.
_NEVER_LINE_START = frozenset("\u0e30\u0e32\u0e33\u0e45")
# Leading vowels (SARA E, AE, O, AI MAIMUAN, AI MAIMALAI) can never end a line.
_NEVER_LINE_END = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")


def render_pdf(template: str, context: Mapping[str, Any]) -> bytes:
    """Render `document_templates/<template>` with `context` and lay the result out as a PDF.

    Raises:
        jinja2.UndefinedError: the template uses a name `context` lacks.
        ValueError: the template produced an element or attribute this module does not know.
    """
    return layout_pdf(_environment().get_template(template).render(**context))


def layout_pdf(markup: str) -> bytes:
    """Lay out and draw a page description in the vocabulary above (what a template renders).

    Raises:
        ValueError: an element or attribute this module does not know, or a missing `created`.
    """
    root = fromstring(markup)
    with rendering_lock():
        try:
            return _Renderer(root).render()
        except CodesExhausted:
            # The process has drawn so many distinct glyphs that a font's shared codes ran out: start a new
            # generation of codes (which forgets what holds the old ones), and draw this document again.
            renew_glyph_codes()
            return _Renderer(root).render()


# Characters XML 1.0 cannot carry: a stray one in a name typed into a form must not stop a document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _printable(value: Any) -> Any:
    """Jinja `finalize`: drop what XML cannot carry from values (macro output is already markup)."""
    return _NOT_XML.sub("", value) if isinstance(value, str) and not isinstance(value, Markup) else value


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, finalize=_printable)
    env.filters.update(thai_date=thai_date, english_date=english_date, thai_datetime=thai_datetime,
                       english_datetime=english_datetime, baht=baht)
    return env


@dataclass(frozen=True)
class _TextStyle:
    family: str
    style: str
    size: float
    color: str
    spacing: float


_WIDTHS: dict[tuple[object, ...], float] = {}
_WIDTHS_KEPT = 20_000


class _Pdf(FPDF):
    """A4 portrait with the bundled fonts and shaping on; `on_header` and `on_footer` draw on every page."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        add_document_fonts(self)  # parsed once per process, not per document
        # Noto Sans Thai has no Latin letters or digits: those come from Noto Sans, and Thai
        # characters inside text set in Noto Sans come from Noto Sans Thai.
        self.set_fallback_fonts(["NotoSans", "NotoSansThai"])
        self.set_text_shaping(True)
        self.set_auto_page_break(False)
        self.set_font("NotoSansThai", "", 11)
        # Drawing hooks: what they return (the height a flow took) is not used here.
        self.on_header: Callable[[], object] = lambda: None
        self.on_footer: Callable[[], object] = lambda: None

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False) -> float:
        """fpdf2's width, remembered per process: it runs the bidirectional algorithm and HarfBuzz on every
        call, and the same labels are measured, word by word while wrapping, in every document. The width
        depends only on the text and the font settings below (the fonts are the same in every document)."""
        key = (self.font_family, self.font_style, self.font_size_pt, self.char_spacing, self.font_stretching,
               normalized, markdown, s)
        width = _WIDTHS.get(key)
        if width is None:
            if len(_WIDTHS) >= _WIDTHS_KEPT:
                _WIDTHS.clear()  # names and numbers differ per document: start again rather than grow
            width = _WIDTHS[key] = super().get_string_width(s, normalized, markdown)
        return width

    def _preload_bidirectional_text(self, text: str, markdown: bool) -> Sequence[Fragment]:
        """fpdf2's own (2.8), its fragments made once per text and graphics state (`text_fragments`), and the
        Unicode bidirectional algorithm's result remembered per text: it is pure Python over every character,
        and the same labels are drawn in every document."""
        if markdown:  # never used by the templates; its emphasis state is not covered by the fragment cache
            return self._split_bidirectional_text(text, markdown)
        return text_fragments.fragments(self, text, lambda: self._split_bidirectional_text(text, markdown))

    def _split_bidirectional_text(self, text: str, markdown: bool) -> Sequence[Fragment]:
        assert self.text_shaping  # always on here (see __init__)
        direction = self.text_shaping["direction"] or auto_detect_base_direction(text)
        self.text_shaping["paragraph_direction"] = direction
        emphasis = ("B" in self.font_style, "I" in self.font_style, self.strikethrough, self.underline)
        fragments: list[Fragment] = []
        for bidi_text, bidi_direction in _bidi_segments(text, direction, self.str_alias_nb_pages):
            self.text_shaping["fragment_direction"] = bidi_direction
            fragments.extend(self._preload_font_styles(bidi_text, markdown, _initial_emphasis=emphasis))
            emphasis = getattr(self, "_markdown_emphasis", emphasis)
        return tuple(fragments)

    def header(self) -> None:
        self.on_header()

    def footer(self) -> None:
        self.on_footer()


# Bidirectional classes that can give a character of a left-to-right paragraph a level other than 0: strong
# right-to-left letters, Arabic digits, the explicit embeddings, overrides and isolates, and separators.
_NOT_LEFT_TO_RIGHT = frozenset({"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI",
                                "B", "S"})


@lru_cache(maxsize=8_192)
def _bidi_segments(text: str, direction: TextDirection, alias: str) -> tuple[tuple[str, TextDirection], ...]:
    """fpdf2's bidirectional segments of `text`. A left-to-right paragraph without any character of the classes
    above resolves to level 0 throughout (rules W1-W7, N1-N2, I1 leave L, EN, ES, ET, CS, NSM, ON, WS and BN
    there): one segment, the whole text. The documents' Thai and Latin text is always that; the algorithm, pure
    Python over every character, runs for anything else. Names, numbers and dates are new in every document."""
    if direction == TextDirection.LTR and text and not any(
            unicodedata.bidirectional(char) in _NOT_LEFT_TO_RIGHT for char in text):
        return ((text, TextDirection.LTR),)
    return BidiParagraph(text=text, base_direction=direction, preserve_bn_chars=True, alias=alias).get_bidi_fragments()


class _Renderer:
    """Lays out one parsed `<document>`: heights are measured before anything is drawn, so boxes can be
    filled behind their content and blocks that do not fit move to the next page whole."""

    def __init__(self, root: Element) -> None:
        if root.tag != "document":
            raise ValueError(f"a document template must render <document>, not <{root.tag}>")
        self.root = root
        self.pdf = _Pdf()
        self.margin = _length(root, "margin", 20.0)
        self.top = _length(root, "top", 20.0)
        self.bottom = _length(root, "bottom", _PAGE_H - 20.0)
        self.width = _PAGE_W - 2 * self.margin
        self.styles = {el.get("name", ""): _style(el) for el in root.iter("style")}
        self._lines: dict[tuple[int, float], list[str]] = {}

    def render(self) -> bytes:
        pdf, root = self.pdf, self.root
        for key, setter in (("title", pdf.set_title), ("subject", pdf.set_subject), ("author", pdf.set_author),
                            ("creator", pdf.set_creator), ("keywords", pdf.set_keywords), ("lang", pdf.set_lang)):
            if root.get(key):
                setter(root.get(key, ""))
        created = root.get("created")
        if not created:
            raise ValueError("<document> needs `created` (from the document, never the clock)")
        pdf.set_creation_date(datetime.fromisoformat(created))
        frame, footer, body = root.find("frame"), root.find("footer"), root.find("body")
        if frame is not None:
            pdf.on_header = lambda: self._draw_frame(frame)
        if footer is not None:
            pdf.on_footer = lambda: self._draw_flow(footer, self.margin, _length(footer, "top", self.bottom),
                                                    self.width)
        pdf.add_page()
        if body is not None:
            self._draw_body(body)
        return bytes(pdf.output(output_producer_class=EmbeddingOutputProducer))

    # ----------------------------------------------------------------------- page flow

    def _draw_body(self, body: Element) -> None:
        y = self.top
        for child in body:
            height = self._height(child, self.width)
            if child.get("anchor") == "bottom":
                at = max(y, self.bottom - height)
                if at + height > self.bottom:
                    self.pdf.add_page()
                    at = self.bottom - height
            else:
                if y + height > self.bottom and y > self.top:
                    self.pdf.add_page()
                    y = self.top
                at = y
            self._draw(child, self.margin, at, self.width)
            y = at + height

    def _draw_frame(self, frame: Element) -> None:
        for rect in frame.iter("rect"):
            self._rect(rect, _length(rect, "x"), _length(rect, "y"), _length(rect, "w"), _length(rect, "h"))

    def _draw_flow(self, parent: Element, x: float, y: float, width: float) -> float:
        for child in parent:
            height = self._height(child, width)
            self._draw(child, x, y, width)
            y += height
        return y

    # ----------------------------------------------------------------------- measuring

    def _height(self, el: Element, width: float) -> float:
        tag = el.tag
        if tag == "text":
            return len(self._text_lines(el, width)) * self._leading(el)
        if tag == "space":
            return _length(el, "h")
        if tag == "rule":
            return 0.0
        if tag == "qr":
            return _length(el, "size")
        if tag == "box":
            top, right, bottom, left = _pad(el)
            inner = _box_width(el, width) - left - right
            content = top + sum(self._height(child, inner) for child in el) + bottom
            return max(content, _length(el, "height", 0.0))
        if tag == "row":
            top, _, bottom, _ = _pad(el)
            cells = self._cells(el, width)
            return top + max((self._cell_height(cell, w) for cell, w in cells), default=0.0) + bottom
        raise ValueError(f"unknown element <{tag}> in a document template")

    def _cells(self, row: Element, width: float) -> list[tuple[Element, float]]:
        _, right, _, left = _pad(row)
        cells = [cell for cell in row if cell.tag == "cell"]
        fixed = sum(_length(cell, "width", 0.0) for cell in cells)
        rest = width - left - right - fixed
        return [(cell, _length(cell, "width", rest)) for cell in cells]

    def _cell_height(self, cell: Element, width: float) -> float:
        top, right, bottom, left = _pad(cell)
        return top + sum(self._height(child, width - left - right) for child in cell) + bottom

    def _text_lines(self, el: Element, width: float) -> list[str]:
        key = (id(el), width)
        if key not in self._lines:
            self._use_style(el)
            text = " ".join("".join(el.itertext()).split())
            self._lines[key] = _wrap_text(self.pdf, text, width, break_anywhere=el.get("wrap") == "anywhere")
            self.pdf.set_char_spacing(0)
        return self._lines[key]

    def _leading(self, el: Element) -> float:
        # Thai needs room above and below the line for stacked vowels and tone marks.
        return _length(el, "leading", self._style_of(el).size * 0.53)

    # ----------------------------------------------------------------------- drawing

    def _draw(self, el: Element, x: float, y: float, width: float) -> None:
        pdf, tag = self.pdf, el.tag
        if tag == "text":
            lines, leading = self._text_lines(el, width), self._leading(el)
            self._use_style(el)
            link = el.get("link") or ""
            for index, line in enumerate(lines):
                pdf.set_xy(x, y + index * leading)
                pdf.cell(width, leading, line, align=_ALIGN[el.get("align", "left")], link=link)
            pdf.set_char_spacing(0)
        elif tag == "rule":
            length = _length(el, "width", width)
            start = x + _offset(el.get("align", "left"), width, length)
            pdf.set_draw_color(el.get("color", "#000000"))
            pdf.set_line_width(_length(el, "line", 0.25))
            pdf.line(start, y, start + length, y)
        elif tag == "qr":
            size = _length(el, "size")
            pdf.image(_qr_image("".join(el.itertext()).strip()), x=x, y=y, w=size, h=size)
        elif tag == "box":
            box_w = _box_width(el, width)
            box_x = x + _offset(el.get("align", "left"), width, box_w)
            self._rect(el, box_x, y, box_w, self._height(el, width))
            top, right, _, left = _pad(el)
            self._draw_flow(el, box_x + left, y + top, box_w - left - right)
        elif tag == "row":
            top, _, _, left = _pad(el)
            cell_x = x + left
            for cell, cell_w in self._cells(el, width):
                c_top, c_right, _, c_left = _pad(cell)
                self._draw_flow(cell, cell_x + c_left, y + top + c_top, cell_w - c_left - c_right)
                cell_x += cell_w
            if el.get("rule"):
                below = y + self._height(el, width)
                pdf.set_draw_color(el.get("rule", "#000000"))
                pdf.set_line_width(_length(el, "line", 0.25))
                pdf.line(x, below, x + width, below)
        elif tag != "space":
            raise ValueError(f"unknown element <{tag}> in a document template")

    def _rect(self, el: Element, x: float, y: float, w: float, h: float) -> None:
        fill, border = el.get("fill"), el.get("border") or el.get("color")
        if not fill and not border:
            return
        if fill:
            self.pdf.set_fill_color(fill)
        if border:
            self.pdf.set_draw_color(border)
            self.pdf.set_line_width(_length(el, "line", 0.25))
        radius = _length(el, "radius", 0.0)
        self.pdf.rect(x, y, w, h, style=("D" if border else "") + ("F" if fill else ""),
                      round_corners=radius > 0, corner_radius=radius)

    def _style_of(self, el: Element) -> _TextStyle:
        name = el.get("style", "")
        if name not in self.styles:
            raise ValueError(f"<{el.tag}> uses the undefined style {name!r}")
        return self.styles[name]

    def _use_style(self, el: Element) -> None:
        style = self._style_of(el)
        self.pdf.set_font(style.family, style.style, style.size)
        self.pdf.set_text_color(style.color)
        self.pdf.set_char_spacing(style.spacing)


def _style(el: Element) -> _TextStyle:
    font = el.get("font", "thai")
    if font not in _FONTS:
        raise ValueError(f"style {el.get('name')!r}: font must be one of {', '.join(_FONTS)}, not {font!r}")
    return _TextStyle(family=_FONTS[font], style="B" if el.get("bold") == "1" else "",
                      size=_length(el, "size", 11.0), color=el.get("color", "#000000"),
                      spacing=_length(el, "spacing", 0.0))


def _length(el: Element, name: str, default: float | None = None) -> float:
    value = el.get(name)
    if value is None:
        if default is None:
            raise ValueError(f"<{el.tag}> needs `{name}`")
        return default
    return float(value)


def _pad(el: Element) -> tuple[float, float, float, float]:
    values = [float(v) for v in el.get("pad", "0").split()]
    if len(values) == 1:
        return values[0], values[0], values[0], values[0]
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    if len(values) == 4:
        return values[0], values[1], values[2], values[3]
    raise ValueError(f"<{el.tag}> pad takes 1, 2 or 4 lengths, not {el.get('pad')!r}")


def _box_width(el: Element, width: float) -> float:
    return min(_length(el, "width", width), width)


def _offset(align: str, available: float, used: float) -> float:
    return {"left": 0.0, "center": (available - used) / 2, "right": available - used}[align]


def _wrap_text(pdf: FPDF, text: str, width: float, *, break_anywhere: bool = False) -> list[str]:
    """Split `text` into lines no wider than `width` in the current font.

    Breaks at spaces; a word wider than the line is broken between grapheme clusters. With
    `break_anywhere` (URLs) words are packed cluster by cluster.
    """
    if text and pdf.get_string_width(text) <= width:
        # The whole text fits (most values do): one measurement, instead of one per word added to the line
        # (a document's names, numbers and dates are new texts, measured afresh).
        return [text]
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if pdf.get_string_width(candidate) <= width:
            line = candidate
            continue
        if line and not break_anywhere:
            lines.append(line)
            line = ""
        elif line:
            line += " "
        clusters = list(_clusters(word))
        index = 0
        while index < len(clusters):
            if not line.strip():  # an empty line takes a cluster whatever its width
                line += clusters[index]
                index += 1
                continue
            fits = _clusters_that_fit(pdf, line, clusters[index:], width)
            line += "".join(clusters[index:index + fits])
            index += fits
            if index < len(clusters):
                lines.append(line.rstrip())
                line = clusters[index]
                index += 1
    lines.append(line)
    return lines


def _clusters_that_fit(pdf: FPDF, line: str, clusters: Sequence[str], width: float) -> int:
    """How many of `clusters`, in order, still fit on `line` (a line only widens as clusters are added).

    Measuring is the cost (a long URL was measured once per character): a guess from the clusters' own
    widths (remembered, the same characters recur) is checked exactly with its neighbour, and a binary
    search settles what the guess missed (kerning and shaping make the sum approximate)."""
    def fits(count: int) -> bool:
        return pdf.get_string_width(line + "".join(clusters[:count])) <= width

    guess, used = 0, pdf.get_string_width(line) if line else 0.0
    for cluster in clusters:
        used += pdf.get_string_width(cluster)
        if used > width:
            break
        guess += 1
    low, high = 0, len(clusters)  # the answer lies in [low, high]
    if guess > 0:
        if fits(guess):
            low = guess
        else:
            high = guess - 1
    if low == guess < high:
        if fits(guess + 1):
            low = guess + 1
        else:
            high = guess
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


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


# The QR code's mask pattern. qrcode picks the mask with the lowest penalty score by drawing the symbol with
# each of the eight (most of a document's QR cost: ~6 ms of CPU); any mask is valid (ISO/IEC 18004 7.8: the
# penalty only prefers the symbol least likely to confuse a reader), so the documents fix one. The decoding
# tests (tests/engine/documents/test_qr_code.py) read the code back with ZXing, in the PDF as drawn.
QR_MASK_PATTERN = 2


# Pixels a module of the QR code image. PDF readers scale images without interpolation unless asked
# (/Interpolate is false by default), so the size only matters to one that smooths anyway: at 4 pixels a module
# its blur stays within a quarter of a module. fpdf2 encodes the 1-bit image as CCITT G4 for every document:
# 1.5 ms of CPU at qrcode's 10 pixels a module, 0.5 at 4.
QR_PIXELS_PER_MODULE = 4


def _qr_image(url: str) -> Image.Image:
    """The QR code of `url` as a 1-bit image with a one-module border, handed to fpdf2 as an image (it was
    encoded as PNG and fpdf2 decoded it again)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=1, mask_pattern=QR_MASK_PATTERN)
    # One byte-mode segment (optimize=0): qrcode's search for numeric segments (runs of 20+ digits) fails with
    # "glog(0)" for some runs (qrcode 8.2), which would stop a licence from issuing; an URL without such a run
    # is encoded the same either way.
    qr.add_data(url, optimize=0)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # the border included; True is a dark module
    modules = Image.new("1", (len(matrix), len(matrix)))
    modules.putdata([0 if dark else 1 for row in matrix for dark in row])
    size = QR_PIXELS_PER_MODULE * len(matrix)
    return modules.resize((size, size), Image.Resampling.NEAREST)
