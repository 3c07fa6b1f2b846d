"""Glyph codes are shared while drawing but a document's bytes never depend on what the process drew before."""

import dataclasses
import hashlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bizportal.engine.documents import glyph_codes
from bizportal.engine.documents.glyph_codes import plain
from bizportal.engine.documents.licence_pdf import render_licence_pdf
from bizportal.engine.documents.typefaces import _parsed_fonts, rendering_lock, renew_glyph_codes
from support.documents import SAMPLE_LICENCE

DOC = SAMPLE_LICENCE

# Names and addresses with glyphs the first document lacks (other consonants, vowels, tone marks, Latin).
OTHERS = [dataclasses.replace(DOC, holder_name=name, business_name=business, licence_number=f"BMA-2569-{n:06d}")
          for n, (name, business) in enumerate([
              ("นายณัฐพงษ์ เจริญผล", "ห้างหุ้นส่วนจำกัด ฟ้าใส"), ("บริษัท ฆ้องฎีกา ฃฅฌ จำกัด", "Quixotic Zebra Jazz Café"),
              ("นางฤดี ฦาฬส ฮ๊ะ", "เก๋ไก๋ ผ้าไหม ตั๋ว ก๊าซ"), ("Mr. Xavier Wyn-Jones", "ปั้นน้ำเป็นตัว ฟื้นฟู ปู่ย่า")])]


def _digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def test_a_document_is_the_same_whatever_the_process_drew_before() -> None:
    first = render_licence_pdf(DOC)
    for other in OTHERS:
        render_licence_pdf(other)
    assert render_licence_pdf(DOC) == first
    # A fresh process that draws the others first, then this one.
    script = (
        "import datetime, hashlib, sys\n"
        "from bizportal.engine.documents.licence_pdf import LicenceDocument, render_licence_pdf\n"
        f"for doc in {list(reversed(OTHERS))!r}:\n"
        "    render_licence_pdf(doc)\n"
        f"sys.stdout.write(hashlib.sha256(render_licence_pdf({DOC!r})).hexdigest())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == _digest(first)


@pytest.fixture
def small_code_ranges(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Shared code ranges of ~90 codes a font: a few documents with different names use them up."""
    with rendering_lock():
        monkeypatch.setattr(glyph_codes, "_LAST_CODE", glyph_codes._FIRST_SHARED_CODE + 4 * 95 - 1)
        renew_glyph_codes()
    yield
    with rendering_lock():
        monkeypatch.undo()
        renew_glyph_codes()


def test_when_the_shared_codes_run_out_a_new_generation_draws_the_same_bytes(small_code_ranges: None) -> None:
    expected = {doc.licence_number: _digest(render_licence_pdf(doc)) for doc in [DOC, *OTHERS]}
    generations = set()
    for _ in range(3):
        for doc in [*OTHERS, DOC]:
            assert _digest(render_licence_pdf(doc)) == expected[doc.licence_number]
            with rendering_lock():
                generations.add(id(_parsed_fonts()["notosansthai"].subset))
    assert len(generations) > 1  # the codes did run out, and a new generation was started


def test_plain_codes_need_no_escaping_in_a_pdf_string() -> None:
    for code in (0x28, 0x29, 0x5C, 0x0D, 0x2801, 0x0129, 0x5C5C, 0x0D00):
        assert not plain(code)
    for code in (0x01, 0x20, 0x27, 0x2A, 0x0100, 0x4141):
        assert plain(code)
