"""A line's text as fpdf2's fragments, made once per process and reused, with what they measure and write.

For every line fpdf2's `cell` splits the text into fragments (a run per font: Thai in Noto Sans Thai, Latin in
Noto Sans, each with a copy of the graphics state), measures them, and writes their glyphs one by one with
HarfBuzz's offsets: ~10 ms of CPU per document, mostly for labels that are the same in every document. With the
fonts and their glyph codes shared by the process (`glyph_codes`), a fragment depends only on its text and the
graphics state it was made in, and what it writes only on its arguments (the position among them): so the
fragments of a text are kept per text and state, and each keeps what it measured and wrote. `cell` itself still
runs for every line (the page's font and colour state, links, the position), so its output stays fpdf2's.

Everything here holds shared codes: `clear` must be called whenever `glyph_codes.share_codes` starts a new
generation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fpdf import FPDF
from fpdf.line_break import Fragment

_KEPT = 4_096  # a template has ~100 lines; a document adds ~20 new texts (names, numbers, dates)
_FRAGMENTS: dict[tuple[Any, ...], tuple[tuple[Fragment, ...], tuple[Any, Any]]] = {}


def fragments(pdf: FPDF, text: str, make: Callable[[], Sequence[Fragment]]) -> Sequence[Fragment]:
    """The fragments `make` gives for `text` in `pdf`'s current graphics state, made once per text and state.

    `make` (fpdf2's bidirectional split) also records the paragraph's and the last fragment's direction in the
    text-shaping settings: a reused result sets them as making it did."""
    assert pdf.text_shaping is not None
    key = (text, _state(pdf))
    entry = _FRAGMENTS.get(key)
    if entry is None:
        made = tuple(_remembering(fragment) for fragment in make())
        entry = made, (pdf.text_shaping["paragraph_direction"], pdf.text_shaping["fragment_direction"])
        if len(_FRAGMENTS) >= _KEPT:
            _FRAGMENTS.clear()  # names and numbers differ per document: start again rather than grow
        _FRAGMENTS[key] = entry
    else:
        pdf.text_shaping["paragraph_direction"], pdf.text_shaping["fragment_direction"] = entry[1]
    return entry[0]


def clear() -> None:
    """Forget every fragment (their output holds the glyph codes of a generation that has ended)."""
    _FRAGMENTS.clear()


def _state(pdf: FPDF) -> tuple[Any, ...]:
    """What of the graphics state a fragment takes and `cell` reads back from it: the font, size and style,
    the text colour, spacing, stretching, mode and vertical position, underline and strike-through, and the
    shaping settings (but the two directions the split itself records). Not the drawing or fill colour, the
    line width or dash pattern (used for text only in outline modes, which the mode covers)."""
    shaping = pdf.text_shaping or {}
    features = shaping.get("features")
    font = pdf.current_font
    return (pdf.font_family, pdf.font_style, pdf.font_size_pt, font.fontkey if font is not None else None,
            pdf.text_color, pdf.char_spacing, pdf.font_stretching, pdf.text_mode, pdf.char_vpos, pdf.underline,
            pdf.strikethrough, pdf.sub_scale, pdf.sup_scale, pdf.nom_scale, pdf.denom_scale, pdf.sub_lift,
            pdf.sup_lift, pdf.nom_lift, pdf.denom_lift, pdf.str_alias_nb_pages, pdf.k,
            shaping.get("use_shaping_engine"), tuple(sorted(features.items())) if features else None,
            shaping.get("direction"), shaping.get("script"), shaping.get("language"))


class _RememberingFragment(Fragment):
    """A fragment that remembers its widths and what it writes (it is never changed once made)."""

    _widths: dict[tuple[Any, ...], float]
    _written: dict[tuple[Any, ...], str]

    def get_width(self, start: int = 0, end: int | None = None, chars: str | None = None,
                  initial_cs: bool = True) -> float:
        key = (start, end, chars, initial_cs)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = super().get_width(start, end, chars, initial_cs)
        return width

    def render_pdf_text(self, frag_ws: float, current_ws: float, word_spacing: float, adjust_x: float,
                        adjust_y: float, h: float) -> str:
        key = (frag_ws, current_ws, word_spacing, adjust_x, adjust_y, h)
        written = self._written.get(key)
        if written is None:
            written = super().render_pdf_text(frag_ws, current_ws, word_spacing, adjust_x, adjust_y, h)
            if len(self._written) < 64:  # a label is drawn in a few places; a stray one need not be kept
                self._written[key] = written
        return written


def _remembering(fragment: Fragment) -> Fragment:
    # Only fpdf2's plain fragments: a subclass (the page-count placeholder) writes differently per document.
    if type(fragment) is Fragment:
        fragment.__class__ = _RememberingFragment
        fragment._widths, fragment._written = {}, {}  # type: ignore[attr-defined]
    return fragment
