"""The pinned reference CSVs equal shared/reference when it is beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

PINNED = Path(__file__).resolve().parent / "reference"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "bizportal"


@pytest.mark.parametrize("name", sorted(p.name for p in PINNED.glob("*.csv")))
def test_pinned_reference_matches_shared(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/reference is not beside this checkout; the pinned copy is used as is")
    assert (PINNED / name).read_bytes() == (SHARED / name).read_bytes(), (
        f"shared/reference/bizportal/{name} changed: copy it to tests/reference/ and re-check the catalogue")
