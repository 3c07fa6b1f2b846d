"""Text that people send: one validated string type for every input model.

Every string in a request body is a `line(...)` (one line: names, codes, ids) or a `text(...)` (free text that
may span lines: addresses, comments, reasons), each with its maximum length, written as the metadata of a
`str`: `name: Annotated[str, line(300, min_length=1)]` (a plain annotation, so mypy and editors read it as a
`str`). Both refuse, with a 422 that names the field:

* control characters (NUL above all: PostgreSQL cannot store it, so it used to be a 500) and lone
  surrogates; `text(...)` keeps tab and line breaks;
* bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): they make a name
  read differently from how it is stored ("Alice" written backwards as U+202E "ecilA"), and they would be
  printed on a licence;
* a non-empty value without one visible character (spaces, zero-width characters, fillers): a name or a
  reason the Licensing Facilitation Act s.8 asks for in writing must say something. An empty string stays
  allowed where the field allows it (`min_length` decides whether a field is required).

Zero-width joiners and marks inside visible text are kept: Thai, Indic and emoji sequences use them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, StringConstraints

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")
_KEPT_IN_TEXT = frozenset("\t\n\r\u2028\u2029")
# Letters and symbols that render as nothing (Hangul fillers, the blank Braille pattern): not visible text.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_text(value: str) -> bool:
    """True when `value` shows at least one character: not only spaces, format characters or fillers."""
    return any(unicodedata.category(char)[0] not in "ZC" and char not in _BLANK_GLYPHS for char in value)


def _refuse_hidden(value: str, *, multiline: bool) -> str:
    for char in value:
        if char in _BIDI_CONTROLS:
            raise ValueError(f"must not contain the bidirectional control U+{ord(char):04X}: "
                             "it makes the text read differently from how it is stored")
        if multiline and char in _KEPT_IN_TEXT:
            continue
        if not multiline and char in _LINE_BREAKS:
            raise ValueError("must be a single line")
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            raise ValueError(f"must not contain the control character U+{ord(char):04X}")
    if value and not has_visible_text(value):
        raise ValueError("must contain visible text, not only spaces or invisible characters")
    return value


def check_line(value: str) -> str:
    """The rule of `line(...)`: one line of visible text (see the module's docstring)."""
    return _refuse_hidden(value, multiline=False)


def check_text(value: str) -> str:
    """The rule of `text(...)`: visible text that may span lines (see the module's docstring)."""
    return _refuse_hidden(value, multiline=True)


@dataclass(frozen=True)
class _Guarded(GroupedMetadata):
    """The length bounds, then the guard: pydantic unpacks the group into the `Annotated[str, ...]` it sits in."""

    constraints: StringConstraints
    guard: AfterValidator

    def __iter__(self) -> Iterator[object]:
        yield from self.constraints  # itself a group: pydantic unpacks one level only
        yield self.guard


def line(max_length: int, *, min_length: int = 0, pattern: str | None = None) -> _Guarded:
    """A one-line input string: `name: Annotated[str, line(300, min_length=1)]`.

    The length (and pattern) is checked first, so a huge value is refused before it is scanned.
    """
    return _Guarded(StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern),
                    AfterValidator(check_line))


def text(max_length: int, *, min_length: int = 0) -> _Guarded:
    """A free-text input string that may span lines: `reason: Annotated[str, text(2000, min_length=3)]`."""
    return _Guarded(StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(check_text))


GUARDS = (check_line, check_text)
"""The validators that make a string safe to store; tests check every request body's strings use one."""
