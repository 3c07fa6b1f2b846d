"""`starts_with`: a text column's prefix as each database can read it from an index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, and_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

_LAST = 0x10FFFF  # the last code point


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
        if not prefix:
            self.byte_range: ColumnElement[bool] = column.is_not(None)
        elif ord(prefix[-1]) == _LAST:  # nothing sorts after it: the rows from the prefix on, LIKE-checked
            self.byte_range = and_(column >= prefix, self.pattern)
        else:
            self.byte_range = and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


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
