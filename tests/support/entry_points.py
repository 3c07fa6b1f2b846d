"""A stand-in for `importlib.metadata.EntryPoint`: what an installed third-party plug-in looks like to the loader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class FakeEntryPoint:
    """`load()` returns `target`, or raises it when it is an exception (a plug-in that does not import)."""

    name: str
    target: Any
    value: str = "third_party.plugin:Plugin"

    def load(self) -> Any:
        if isinstance(self.target, Exception):
            raise self.target
        return self.target
