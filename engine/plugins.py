"""Installed plug-ins, found through entry points (agency adapters, payment providers)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

from bizportal.engine.errors import DefinitionError


class EntryPointLike(Protocol):
    name: str
    value: str

    def load(self) -> Any: ...


def installed(group: str, kind: str) -> dict[str, EntryPointLike]:
    """The entry points of `group` by name.

    Raises:
        DefinitionError: two installed packages claim the same name with different classes.
    """
    found: dict[str, EntryPointLike] = {}
    for point in entry_points(group=group):
        previous = found.get(point.name)
        if previous is not None and previous.value != point.value:
            raise DefinitionError(f"two packages register {kind} {point.name!r}: {previous.value} and {point.value}",
                                  hint="uninstall one of them")
        found[point.name] = point
    return found
