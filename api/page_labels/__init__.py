"""Labels of the pages, in Thai (the default) and English: one module per group of pages, merged here.

Each module holds `LABELS = {"th": {...}, "en": {...}}` with the same keys in both languages (a test checks). A
key belongs to one module only: merging refuses a key that two modules define, so one group's label never
silently replaces another's.
"""

from __future__ import annotations

from typing import Literal

from bizportal.api.page_labels import account, apply, business, counter, inbox, public, tracking

Lang = Literal["th", "en"]

GROUPS = (public.LABELS, apply.LABELS, tracking.LABELS, inbox.LABELS, account.LABELS, counter.LABELS,
          business.LABELS)


def _merged(groups: tuple[dict[str, dict[str, str]], ...]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {"th": {}, "en": {}}
    for group in groups:
        for lang, labels in group.items():
            clash = merged[lang].keys() & labels.keys()
            if clash:
                raise ValueError(f"page labels defined twice: {sorted(clash)}")
            merged[lang].update(labels)
    return merged


LABELS: dict[str, dict[str, str]] = _merged(GROUPS)
