"""Glyph codes: shared by every document of the process while drawing, renumbered per document when written.

fpdf2 numbers a font's glyphs per document, in the order they are first drawn, so what it writes for a line of
text depends on everything drawn before it: nothing drawn could be reused by the next document. Here the four
fonts share one `SharedGlyphCodes` each for the whole process, with disjoint code ranges, so the same line in
the same style and place is drawn with the same bytes in every document, and `layout` reuses them
(`text_fragments`). Those process codes depend on what the process drew before, so they never reach a file:
`document_codes` renumbers the glyphs of a document's content streams 1, 2, 3... in the order they first occur
(fpdf2's own numbering, up to the codes it reserves), and the fonts are written from that numbering. A
document's bytes therefore depend on the document only, whatever the process rendered before.

Codes are chosen so that neither of their two bytes needs escaping in a PDF string (no parenthesis, backslash
or carriage return): the strings of glyph codes can then be found in a content stream by a regular expression
and rewritten without unescaping.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from fpdf.fonts import Glyph, SubsetMap, TTFFont

_ESCAPED_BYTES = frozenset(b"()\\\r")
_FIRST_SHARED_CODE = 0x0100  # shared codes never collide with a document's (those stay small)
_LAST_CODE = 0xFFFF


def plain(code: int) -> bool:
    """Whether `code` is written as two bytes that need no escaping in a PDF literal string."""
    return code >> 8 not in _ESCAPED_BYTES and code & 0xFF not in _ESCAPED_BYTES


class CodesExhausted(Exception):  # noqa: N818 - a condition, handled by starting afresh, not an error
    """A font's range of shared codes is used up: the caller starts a new generation and draws again."""


class SharedGlyphCodes(SubsetMap):
    """fpdf2's glyph map, shared by the documents of a process: codes from a range of its own per font.

    fpdf2 reserves codes 0 and 32 for .notdef and the space; a shared range needs no reservation (the
    document's numbering is made afresh), so every glyph, those two included, gets the next plain code.
    """

    def __init__(self, font: TTFFont, first: int, last: int) -> None:
        super().__init__(font)
        self._char_id_per_glyph.clear()  # fpdf2's reserved .notdef and space: assigned on use like the rest
        self._reserved = []
        self._next = first
        self.first, self.last = first, last
        self.glyph_of: dict[int, Glyph] = {}

    def pick_glyph(self, glyph: Glyph | None) -> int | None:
        if glyph is None:
            return None
        code = self._char_id_per_glyph.get(glyph)
        if code is None:
            code = self._next
            while not plain(code):
                code += 1
            if code > self.last:
                raise CodesExhausted(f"font {self.font.fontkey}: {len(self.glyph_of)} glyph codes in use")
            self._char_id_per_glyph[glyph] = code
            self.glyph_of[code] = glyph
            self._next = code + 1
        return code


def share_codes(fonts: Iterable[TTFFont]) -> None:
    """Give each font a `SharedGlyphCodes` of its own range (a new generation: earlier codes are void)."""
    fonts = list(fonts)
    span = (_LAST_CODE + 1 - _FIRST_SHARED_CODE) // len(fonts)
    for index, font in enumerate(fonts):
        first = _FIRST_SHARED_CODE + index * span
        font.subset = SharedGlyphCodes(font, first, first + span - 1)
    # fpdf2 caches glyph look-ups per map in functools caches on the methods: the old maps' entries go.
    SubsetMap.pick.cache_clear()
    SubsetMap.get_glyph.cache_clear()


@dataclass
class DocumentCodes:
    """One document's numbering of the glyphs it draws: per font, its glyphs and their codes, in code order."""

    glyphs: dict[int, list[tuple[Glyph, int]]] = field(default_factory=dict)  # font.i -> [(glyph, code)]
    _codes: dict[int, int] = field(default_factory=dict)  # shared code -> document code
    _next: dict[int, int] = field(default_factory=dict)  # font.i -> the document's next code

    def code(self, shared: int, fonts: list[TTFFont]) -> int:
        known = self._codes.get(shared)
        if known is not None:
            return known
        for font in fonts:
            codes = font.subset
            if isinstance(codes, SharedGlyphCodes) and codes.first <= shared <= codes.last:
                break
        else:
            raise ValueError(f"glyph code {shared:#06x} belongs to no font of the document")
        code = self._next.get(font.i, 1)
        while not plain(code):
            code += 1
        self._next[font.i] = code + 1
        self._codes[shared] = code
        self.glyphs.setdefault(font.i, []).append((codes.glyph_of[shared], code))
        return code


# A string of glyph codes shown with Tj, as fpdf2 writes them (and only those: no other operator in the
# documents' content streams takes a string). Plain codes contain no parenthesis or backslash.
_SHOWN_TEXT = re.compile(rb"\(([^()\\]*)\) Tj")


def document_codes(contents: Iterable[bytearray], fonts: list[TTFFont]) -> DocumentCodes:
    """Renumber, in place, the glyph codes drawn in `contents` (a document's page content streams, in page
    order) from the shared codes of `fonts` to the document's own, and return that numbering."""
    numbering = DocumentCodes()

    known = numbering._codes

    def renumber(match: re.Match[bytes]) -> bytes:
        own = array("H", [known[code] if code in known else numbering.code(code, fonts)
                          for code in _big_endian(match.group(1))])
        return b"(" + _big_endian_bytes(own) + b") Tj"

    for page in contents:
        page[:] = _SHOWN_TEXT.sub(renumber, page)
    return numbering


def _big_endian(data: bytes) -> array[int]:
    codes = array("H", data)
    if sys.byteorder == "little":
        codes.byteswap()
    return codes


def _big_endian_bytes(codes: array[int]) -> bytes:
    if sys.byteorder == "little":
        codes.byteswap()
    return codes.tobytes()
