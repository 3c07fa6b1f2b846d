"""`starts_with`: a text column's prefix as each database can read it from an index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, and_, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

_LAST = 0x10FFFF  # the last code point
_SURROGATES, _AFTER_SURROGATES = 0xD800, 0xE000


class StartsWith(ColumnElement[bool]):
    """`column` starts with `prefix` (case-sensitive, no wildcards). SQLAlchemy's `startswith` is a LIKE, which
    SQLite compares ignoring case and so reads from no ordinary index; PostgreSQL's LIKE reads a range of an
    index with text_pattern_ops in any collation, but its `>=`/`<` follow the collation, where a prefix range
    need not be the prefix's rows. Hence a LIKE on PostgreSQL, and elsewhere the range from the prefix to the
    prefix with its last character raised (byte order: exactly the rows that start with it)."""

    type = Boolean()
    inherit_cache = False  # compiled per dialect from two different expressions
    _is_implicitly_boolean = True  # a condition as it is (not "... = 1" where booleans are integers)

    def __init__(self, column: Any, prefix: str) -> None:
        escaped = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
        self.pattern: ColumnElement[bool] = column.like(f"{escaped}%", escape="/")
        raised = _raised(prefix)
        if not prefix:
            self.byte_range: ColumnElement[bool] = column.is_not(None)
        elif raised is None:  # nothing sorts after it: the rows from the prefix on, their start compared
            self.byte_range = and_(column >= prefix, func.substr(column, 1, len(prefix)) == prefix)
        else:
            self.byte_range = and_(column >= prefix, column < raised)


def _raised(prefix: str) -> str | None:
    """The first text after every text that starts with `prefix`: its last character raised by one (past the
    surrogates, which no text holds); None when that is the last code point."""
    if not prefix or ord(prefix[-1]) == _LAST:
        return None
    following = ord(prefix[-1]) + 1
    return prefix[:-1] + chr(_AFTER_SURROGATES if _SURROGATES <= following < _AFTER_SURROGATES else following)


def starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, read from an index on SQLite (its plain index) and PostgreSQL (one with
    text_pattern_ops)."""
    return StartsWith(column, prefix)


@compiles(StartsWith)
def _as_range(element: StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.byte_range.self_group(), **kw))


@compiles(StartsWith, "postgresql")
def _as_like(element: StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.pattern.self_group(), **kw))
