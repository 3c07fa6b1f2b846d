"""Reading the YAML data files (manuals, finder, agencies, offices) fast and safely."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's C loader parses the catalogue several times faster than the pure-Python one; both are
# "safe" (plain data only, no object construction).
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse YAML text into plain data.

    Raises:
        yaml.YAMLError: the text is not valid YAML.
    """
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, chosen above
