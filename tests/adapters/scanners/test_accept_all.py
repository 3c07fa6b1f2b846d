"""The built-in scanner accepts everything; the composition root loads the one the settings name."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from bizportal.adapters.scanners.accept_all import AcceptAllScanner
from bizportal.adapters.scanners.base import ScannedDocument
from bizportal.api.composition import scanner_from
from bizportal.api.settings import Settings
from bizportal.engine.errors import StartupError

DOCUMENT = ScannedDocument(application_id="a" * 36, document="premises_map_and_floor_plan", filename="x.pdf",
                           content_type="application/pdf", size=4, sha256="0" * 64)


def test_accept_all_accepts_anything() -> None:
    verdict = AcceptAllScanner().scan(DOCUMENT, io.BytesIO(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR"))
    assert verdict.accepted and verdict.reason is None


def test_the_default_scanner_is_accept_all_and_an_unknown_one_stops_start_up(tmp_path: Path) -> None:
    with httpx.Client() as http:
        assert isinstance(scanner_from(Settings(data_dir=tmp_path), http), AcceptAllScanner)
        with pytest.raises(StartupError, match="document scanner 'clamd' is not installed"):
            scanner_from(Settings(data_dir=tmp_path, document_scanner="clamd"), http)
        with pytest.raises(StartupError, match="rejected its settings"):
            scanner_from(Settings(data_dir=tmp_path, document_scanner_settings={"unexpected": 1}), http)
