"""The words of a PDF as poppler's `pdftotext` reads them: what search and copy in Evince or Okular see.

pypdf (used by most document tests) reads the text in drawing order; poppler rebuilds words from glyph
positions, so it catches text that is right but placed where a viewer would split a word.
`make test` installs poppler-utils when it is missing (`.ci/ensure-services`).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest


def pdftotext_words(pdf: bytes) -> list[str]:
    """The whitespace-separated words `pdftotext` extracts from `pdf`, in its reading order."""
    binary = shutil.which("pdftotext")
    if binary is None:
        pytest.fail("pdftotext is missing: install poppler-utils (`make services` does it with apt)")
    result = subprocess.run([binary, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True,
                            timeout=60)
    return result.stdout.decode("utf-8").split()
