"""The bundled fonts of the documents: parsed once per process, shaped for an exact text layer, embedded as
subsets made once per set of glyphs.

fpdf2 parses a TrueType file for every document that adds it (fontTools tables, cmap, widths, a HarfBuzz
face), subsets it in place when the document is written (so the parsed font cannot serve a second
document), and builds a 128 KiB CIDToGIDMap per font. For an e-licence that was two thirds of its
rendering time. Here each font is parsed once per process and every document draws with the same font
objects (`add_document_fonts`), their glyph codes shared by the process (`glyph_codes`), and
`EmbeddingOutputProducer` writes the same PDF objects fpdf2 writes, but with the glyphs renumbered for the
document and the font subset taken from a cache keyed by the font file and the set of glyphs the document
used. The subset depends only on that set, so the bytes of a document are the same whether the cache was hit
or not.

Text drawn with these fonts must be laid out under `rendering_lock()`: the shared HarfBuzz font carries
the size of the text being shaped.
"""

from __future__ import annotations

import copy
import io
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import Glyph, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFExtGState,
    PDFFont,
    PDFType3Font,
    PDFXObject,
    _build_cmap_blocks,
    _cid_font_widths,
)
from fpdf.pattern import Pattern
from fpdf.syntax import Name, PDFArray, PDFContentStream, PDFObject

from bizportal.engine.documents import text_fragments
from bizportal.engine.documents.glyph_codes import document_codes, share_codes

FONT_DIR = Path(__file__).with_name("fonts")
FONT_FILES = {
    ("NotoSansThai", ""): "NotoSansThai-Regular.ttf",
    ("NotoSansThai", "B"): "NotoSansThai-Bold.ttf",
    ("NotoSans", ""): "NotoSans-Regular.ttf",
    ("NotoSans", "B"): "NotoSans-Bold.ttf",
}
# The tables the drawing reads; loaded when a font is parsed, so that threads sharing it only ever read.
_TABLES_READ_WHILE_DRAWING = ("head", "hhea", "hmtx", "cmap", "post", "OS/2", "name", "maxp")
_SUBSETS_KEPT = 256  # a subset is a few tens of KiB

_RENDERING = threading.RLock()  # re-entered when the first document parses the fonts


def rendering_lock() -> threading.RLock:
    """Held while a document is laid out and written (the shared fonts are not safe to shape in parallel;
    rendering is CPU-bound Python, so threads lose nothing by taking turns)."""
    return _RENDERING


class TextLayerFont(TTFFont):
    """Shapes like fpdf2, but attaches each cluster's text to the glyph that an extractor reads it from.

    fpdf2 gives a cluster's text to its *first* glyph and every mark (tone mark, upper or lower vowel)
    its own text. Text extractors that rebuild words from glyph positions (poppler's `pdftotext`, hence
    search and copy in Evince and Okular) then split Thai words:
    - SARA AM (ำ) is shaped as NIKHAHIT (zero width) + SARA AA: its text sat on the NIKHAHIT, the SARA AA
      carried none, and its width read as a gap between words: "จำ หน่าย";
    - a mark drawn with an offset (MAI HAN-AKAT in "รับ") lies almost on top of the next glyph, which
      poppler takes for duplicated text and moves out of the word: "ได้รบ ั".
    Here the text of every cluster goes to its last glyph that has a width, and a cluster made only of
    zero-width marks adds its text to the glyph before it. Every glyph keeps its place and shape; only
    the ToUnicode text moves, and the text read in drawing order is unchanged.
    """

    __slots__ = ()  # TTFFont has slots: the subclass adds none, so an added font's class can be swapped

    def shape_text(self, text: str, font_size_pt: float,
                   text_shaping_params: dict[str, Any] | None) -> Sequence[dict[str, Any]]:
        if not text:
            return []
        glyphs = self._shaped(text, font_size_pt, text_shaping_params)
        if glyphs is None:  # right-to-left runs: fpdf2's own mapping (no Thai there)
            return super().shape_text(text, font_size_pt, text_shaping_params)
        shaped = []
        for glyph_id, unicode, name, width, x_advance, y_advance, x_offset, y_offset in glyphs:
            glyph = self.subset.get_glyph(glyph=glyph_id, unicode=unicode, glyph_name=name, glyph_width=width)
            if glyph is None:
                continue
            shaped.append({
                "mapped_char": self.subset.pick_glyph(glyph),
                "x_advance": x_advance, "y_advance": y_advance, "x_offset": x_offset, "y_offset": y_offset,
                "force_positioning": width != x_advance or x_offset != 0 or y_offset != 0 or y_advance != 0,
            })
        return shaped

    def _shaped(self, text: str, font_size_pt: float,
                params: dict[str, Any] | None) -> tuple[tuple[Any, ...], ...] | None:
        """HarfBuzz's glyphs for `text` with the text each stands for (None for right-to-left text), remembered
        per process: the same labels are shaped in every document (which code a glyph gets is the document's)."""
        given = params or {}
        key = (self.fontkey, text, font_size_pt, tuple(sorted((given.get("features") or {}).items())),
               given.get("fragment_direction"), given.get("script"), given.get("language"))
        if key not in _SHAPED:
            infos, positions = self.perform_harfbuzz_shaping(text, font_size_pt, params)
            clusters = [int(info.cluster) for info in infos]
            if clusters != sorted(clusters):
                return None
            texts = glyph_texts(self._map_symbol_text(text), clusters, [pos.x_advance for pos in positions])
            metrics = self.ttfont["hmtx"].metrics
            glyphs: list[tuple[Any, ...]] = []
            for info, pos, glyph_text in zip(infos, positions, texts, strict=True):
                name = self.ttfont.getGlyphName(info.codepoint)
                glyphs.append((info.codepoint, tuple(ord(char) for char in glyph_text), name,
                               round(self.scale * metrics[name][0]), pos.x_advance, pos.y_advance,
                               pos.x_offset, pos.y_offset))
            if len(_SHAPED) >= _SHAPED_KEPT:
                _SHAPED.clear()  # names and numbers differ per document: start again rather than grow
            _SHAPED[key] = tuple(glyphs)
        return _SHAPED[key]


_SHAPED: dict[tuple[Any, ...], tuple[tuple[Any, ...], ...]] = {}
_SHAPED_KEPT = 4_096  # a template has ~200 texts; a document adds ~20 new ones (names, numbers, dates)


def glyph_texts(text: str, clusters: Sequence[int], advances: Sequence[int]) -> list[str]:
    """The text each shaped glyph stands for, left to right (see `TextLayerFont`).

    `clusters` are HarfBuzz's (non-decreasing) cluster starts, one per glyph, and `advances` the glyphs'
    advance widths. Joined, the result is `text` again.
    """
    starts = sorted(set(clusters))
    ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
    texts = [""] * len(clusters)
    carrier: int | None = None  # the last glyph that holds text
    index = 0
    while index < len(clusters):
        cluster = clusters[index]
        last = index
        while last + 1 < len(clusters) and clusters[last + 1] == cluster:
            last += 1
        wide = [i for i in range(index, last + 1) if advances[i] > 0]
        target = wide[-1] if wide else carrier if carrier is not None else index
        texts[target] += text[cluster:ends[cluster]]
        carrier = target if wide or carrier is None else carrier
        index = last + 1
    if starts and starts[0] > 0:  # text before the first cluster (never seen): keep it, in front
        texts[0] = text[:starts[0]] + texts[0]
    return texts


@cache
def _parsed_fonts() -> dict[str, TextLayerFont]:
    """Every bundled font, parsed once per process (the first document pays for it)."""
    with _RENDERING:
        host = FPDF()  # a font needs an FPDF only for its index and the colour-font switch
        for (family, style), filename in FONT_FILES.items():
            host.add_font(family, style, str(FONT_DIR / filename))
        fonts: dict[str, TextLayerFont] = {}
        for key, font in host.fonts.items():
            assert isinstance(font, TTFFont)
            # fpdf2 offers no hook to choose the font class: swap in the subclass that maps text to glyphs
            # the way extractors read it (it adds no state, only overrides `shape_text`).
            font.__class__ = TextLayerFont
            for tag in _TABLES_READ_WHILE_DRAWING:
                font.ttfont[tag]  # noqa: B018 - loads the table now (fontTools reads tables lazily)
            font.hbfont  # noqa: B018 - makes the HarfBuzz face now
            fonts[key] = cast(TextLayerFont, font)
        share_codes(sorted(fonts.values(), key=lambda font: font.i))
        return fonts


def preload_fonts() -> None:
    """Parse the bundled fonts now rather than in the first document (a process that will render calls it at
    start-up, before it sets its long-lived objects aside from the garbage collector: `api/composition.py`)."""
    _parsed_fonts()


def add_document_fonts(pdf: FPDF) -> None:
    """Give `pdf` the bundled fonts (as `add_font` would) without parsing them again.

    Every document draws with the same font objects: their tables, cmap, widths and HarfBuzz face are only
    read, and their glyph codes are the process's (`glyph_codes`: numbered per document when it is written).
    What fpdf2 changes on a font while drawing (its largest size, the characters it lacks) serves only its
    colour fonts and a warning the documents do not use; the descriptor, which writing changes, is copied
    per document (`EmbeddingOutputProducer`). Held under `rendering_lock()`, like all drawing.
    """
    fonts = _parsed_fonts()
    if pdf.fonts:
        raise ValueError("the bundled fonts must be a document's first (their numbers /F1.. are shared)")
    for key, font in fonts.items():
        pdf.fonts[key] = font


def renew_glyph_codes() -> None:
    """A new generation of shared glyph codes (when a font's range ran out), and the fragments drawn with the
    old ones forgotten. Under `rendering_lock()`."""
    share_codes(sorted(_parsed_fonts().values(), key=lambda font: font.i))
    text_fragments.clear()


@cache
def _font_file(path: str) -> bytes:
    return Path(path).read_bytes()


@dataclass(frozen=True)
class _Subset:
    compressed: bytes  # the font file, deflated as fpdf2 deflates streams
    length: int  # its length before compression
    glyph_ids: dict[str, int]  # each glyph's id in the subset


class _FontStream(PDFContentStream):
    """fpdf2's `PDFFontStream` (same attributes, same order) over a subset compressed once, not per document."""

    def __init__(self, subset: _Subset) -> None:
        PDFObject.__init__(self)
        self._contents = subset.compressed
        self.filter = Name("FlateDecode")
        self.length = len(subset.compressed)
        self.length1 = subset.length


@lru_cache(maxsize=_SUBSETS_KEPT)
def _subset(path: str, glyph_names: frozenset[str]) -> _Subset:
    """The font file at `path` cut down to `glyph_names` (fpdf2's options)."""
    font = TTFont(io.BytesIO(_font_file(path)), recalcTimestamp=False, lazy=True)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC",
                            "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=sorted(glyph_names))
    subsetter.subset(font)
    output = io.BytesIO()
    font.save(output)
    data = output.getvalue()
    return _Subset(compressed=zlib.compress(data, level=PDFContentStream._COMPRESSION_LEVEL), length=len(data),
                   glyph_ids={name: font.getGlyphID(name) for name in glyph_names})


# What a document embeds of each font when it uses nothing outside it: the whole Thai font (Thai names and
# addresses use any of its letters, vowels and tone marks), and the Latin font's printable ASCII and common
# punctuation. One subset per font then serves nearly every document, made once per process, instead
# of one per distinct set of glyphs (each cost more than rendering the rest of a document); a document using
# a glyph outside it gets its exact subset. Either way the bytes depend only on the document's glyphs.
_LATIN = frozenset([*range(0x20, 0x7F), 0xA0, 0xB7, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026])


@cache
def _repertoire(path: str) -> frozenset[str]:
    """The names of the glyphs above: every glyph of the Thai font (its tone marks' shifted forms included),
    the Latin font's glyphs for `_LATIN`. A glyph outside it only means that document gets its exact subset."""
    font = TTFont(io.BytesIO(_font_file(path)), recalcTimestamp=False, lazy=True)
    if "Thai" in Path(path).name:
        return frozenset(font.getGlyphOrder())
    # The glyphs HarfBuzz's default features may put in their place (ligatures: "fi", "ffi") are in the
    # closure of these characters over the font's GSUB; fontTools' default features are HarfBuzz's.
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    # Only the cmap and GSUB matter here; outlines and metrics are what make subsetting slow (a composite
    # glyph's components are added when the subset itself is made).
    options.drop_tables += ["GPOS", "GDEF", "glyf", "loca", "hmtx", "kern", "hdmx", "vmtx", "post", "name", "OS/2"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=sorted(_LATIN | {0x00}))  # U+0000: the glyph fpdf2 reserves code 0 for
    subsetter.subset(font)
    return frozenset(font.getGlyphOrder())


class EmbeddingOutputProducer(OutputProducer):
    """Writes the fonts as fpdf2 does (a Type0 font over a CIDFontType2 with Identity-H, its widths,
    ToUnicode CMap, descriptor, CIDToGIDMap and the embedded subset), with the glyph codes renumbered for the
    document first (`glyph_codes.document_codes`), the subset from `_subset`, and every shaped glyph in the
    ToUnicode CMap.

    HarfBuzz's Thai shaper decomposes SARA AM (ำ) into NIKHAHIT + SARA AA, so one input cluster
    becomes two or three glyphs, and `TextLayerFont` gives the text of a cluster or a mark to one
    glyph only. fpdf2 leaves glyphs without text out of the ToUnicode CMap; viewers drop such glyphs,
    but some extractors (pypdf) emit their raw glyph code instead, e.g. "จำ\\x18หน่าย". Mapping them
    explicitly to no text keeps the text layer exact for search, copy and indexing.
    """

    def bufferize(self) -> bytearray:
        # Before any object is written: the pages' glyph codes become the document's own (`glyph_codes`).
        fonts = sorted(self.fpdf.fonts.values(), key=lambda font: font.i)
        if not all(isinstance(font, TextLayerFont) for font in fonts):
            raise TypeError("documents use the bundled fonts only")
        pages = [self.fpdf.pages[number].contents for number in sorted(self.fpdf.pages)]
        if not all(isinstance(contents, bytearray) for contents in pages):
            raise TypeError("page contents were already written")
        self._numbering = document_codes(cast(list[bytearray], pages), cast(list[TTFFont], fonts))
        return super().bufferize()

    def _add_fonts(self, image_objects_per_index: dict[int, PDFXObject],
                   gfxstate_objs_per_name: dict[str, PDFExtGState],
                   pattern_objs_per_name: dict[str, Pattern]) -> dict[int, PDFFont | PDFType3Font]:
        objects: dict[int, PDFFont | PDFType3Font] = {}
        for font in sorted(self.fpdf.fonts.values(), key=lambda font: font.i):
            assert isinstance(font, TextLayerFont)  # checked in `bufferize`
            objects[font.i] = self._add_font(font, self._numbering.glyphs.get(font.i, []))
        return objects

    def _add_font(self, font: TextLayerFont, glyphs: list[tuple[Glyph, int]]) -> PDFFont:
        fontname = f"MPDFAA+{font.name}"
        path, used = str(font.ttffile), frozenset(glyph.glyph_name for glyph, _ in glyphs)
        repertoire = _repertoire(path)
        subset = _subset(path, repertoire if used <= repertoire else used)

        composite = PDFFont(subtype="Type0", base_font=fontname, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=fontname, d_w=font.desc.missing_width,
                           w=_cid_font_widths({code: glyph.glyph_width for glyph, code in glyphs}))
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])

        to_unicode = PDFContentStream(_to_unicode_cmap(glyphs))
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode

        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info

        descriptor = copy.copy(font.desc)  # the font is shared; writing gives the descriptor an id and a file
        descriptor.font_name = Name(fontname)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor

        # Code -> glyph id in the subset, two bytes big-endian each, up to the document's largest code (the
        # codes are the document's own, numbered from 1: a few hundred bytes, not fpdf2's 128 KiB for all
        # 65,536 codes; a reader takes codes beyond the map for none, and none is drawn).
        cid_to_gid = bytearray(2 * (max((code for _, code in glyphs), default=0) + 1))
        for glyph, code in glyphs:
            glyph_id = subset.glyph_ids[glyph.glyph_name]
            cid_to_gid[2 * code], cid_to_gid[2 * code + 1] = glyph_id >> 8, glyph_id & 0xFF
        cid_to_gid_map = PDFContentStream(contents=bytes(cid_to_gid), compress=True)
        self._add_pdf_obj(cid_to_gid_map, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid_map

        font_file = _FontStream(subset)
        self._add_pdf_obj(font_file, "fonts")
        descriptor.font_file2 = font_file  # type: ignore[attr-defined]
        return composite


def _to_unicode_cmap(glyphs: Sequence[tuple[Any, int]]) -> bytes:
    """The ToUnicode CMap of a font's glyphs: each code to its text, and glyphs without text to none."""
    spoken, silent = [], []
    for glyph, code in glyphs:
        if not isinstance(glyph.unicode, tuple):
            continue
        if glyph.unicode:
            spoken.append(f"<{code:04X}> <{_utf16_hex(glyph.unicode)}>\n")
        else:
            silent.append(f"<{code:04X}> <>\n")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
        "<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n"
        "/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{_build_cmap_blocks(spoken, 'bfchar')}{_build_cmap_blocks(sorted(silent), 'bfchar')}endcmap\n"
        "CMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")


@lru_cache(maxsize=8_192)
def _utf16_hex(text: tuple[int, ...]) -> str:
    """`text` (code points) in UTF-16BE as upper-case hex (surrogate pairs beyond the BMP); the same glyph texts
    recur in every document."""
    return "".join(map(chr, text)).encode("utf-16-be", errors="surrogatepass").hex().upper()
