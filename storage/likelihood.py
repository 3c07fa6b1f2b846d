"""`usually`: a condition with how often it holds, for SQLite's query planner (elsewhere the condition as it is).

SQLite's statistics (ANALYZE's sqlite_stat1) keep one average number of rows per value of an index's columns, NULL
included, so "IS NULL" on a column that is NULL for most rows looks as selective as any one value: the planner then
reads that index's range, the whole of it when the other conditions match nothing. `likelihood(X, p)` tells it how
often X holds; X stays usable by an index. PostgreSQL measures the share of NULLs itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement


class Usually(ColumnElement[bool]):
    """`condition`, which holds for about `probability` of the rows."""

    type = Boolean()
    inherit_cache = False  # compiled per dialect, with the probability as a literal (SQLite requires a constant)
    _is_implicitly_boolean = True

    def __init__(self, condition: ColumnElement[bool], probability: float) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"a probability is between 0 and 1, not {probability}")
        self.condition, self.probability = condition, probability


def usually(condition: ColumnElement[bool], probability: float = 0.9) -> ColumnElement[bool]:
    """`condition`, which SQLite's planner is told holds for `probability` of the rows."""
    return Usually(condition, probability)


@compiles(Usually)
def _as_is(element: Usually, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.condition.self_group(), **kw))


@compiles(Usually, "sqlite")
def _with_likelihood(element: Usually, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, {float(element.probability)!r})"
