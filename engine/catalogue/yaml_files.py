"""Reading the YAML data files (manuals, finder, agencies, offices) fast and safely."""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

import yaml

# libyaml's C loader parses the catalogue several times faster than the pure-Python one; both are
# "safe" (plain data only, no object construction).
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Parsed data by the sha256 of its text, pickled: a process that builds the engine again (the tests
# build one per test, a reload builds another) parses each file once, and every caller still gets
# objects of its own to keep or change (unpickling is ~20x faster than parsing the catalogue again).
_PARSED: dict[str, bytes] = {}


def load_yaml(text: str) -> Any:
    """Parse YAML text into plain data (a fresh copy on every call).

    Raises:
        yaml.YAMLError: the text is not valid YAML.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    parsed = _PARSED.get(digest)
    if parsed is None:
        parsed = _PARSED[digest] = pickle.dumps(yaml.load(text, Loader=_SAFE_LOADER))  # noqa: S506 - safe loader
    return pickle.loads(parsed)  # noqa: S301 - bytes this module pickled itself
