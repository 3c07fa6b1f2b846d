"""Keyset paging: every list is ordered by a key that ends in a unique column, and a page starts strictly after
the key of the previous page's last item (issue 14).

Unlike an offset, a position does not move when rows are added or removed before it, so paging through a list
visits each item once, and the database seeks to the position through an index instead of counting rows up
to it. The API carries a position as an opaque cursor (api/pagination.py); here a position is the list of the
key's values, checked against the key's types so a forged or garbled one is an `InvalidInput` (422), never a
database error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, bindparam, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from bizportal.engine.errors import InvalidInput

T = TypeVar("T")
Scalar = str | int | bool | datetime | date | None

MAX_LIMIT = 500


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order: its type (to check a position), direction, and whether it may be null
    (nulls sort last in both directions)."""

    column: Any
    kind: type
    descending: bool = False
    nullable: bool = False

    @property
    def name(self) -> str:
        return str(self.column.key)

    def order(self) -> Any:
        ordered = self.column.desc() if self.descending else self.column.asc()
        return ordered.nulls_last() if self.nullable else ordered

    def bound(self, value: Scalar) -> Any:
        """`value` as a parameter of the column's type (a bare True or False only compares with `=`)."""
        return bindparam(None, value, type_=self.column.type)

    def equal(self, value: Scalar) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == self.bound(value)

    def beyond(self, value: Scalar) -> ColumnElement[bool]:
        """Rows after `value` in this column's order alone (nulls come last, so nothing is after a null)."""
        if value is None:
            return false()
        strictly = self.column < self.bound(value) if self.descending else self.column > self.bound(value)
        return or_(strictly, self.column.is_(None)) if self.nullable else strictly

    def parse(self, value: Any) -> Scalar:
        """A JSON value of a cursor as this column's type; ValueError when it is not one."""
        if value is None:
            if not self.nullable:
                raise ValueError(f"{self.name} cannot be empty")
            return None
        if self.kind is datetime:
            if not isinstance(value, str):
                raise ValueError(f"{self.name} is not a time")
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError(f"{self.name} has no time zone")
            return parsed
        if self.kind is date:
            if not isinstance(value, str):
                raise ValueError(f"{self.name} is not a date")
            return date.fromisoformat(value)
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} is not true or false")
            return value
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
                raise ValueError(f"{self.name} is not a whole number")
            return value
        if not isinstance(value, str) or len(value) > 400:
            raise ValueError(f"{self.name} is not a text of at most 400 characters")
        return value

    def dump(self, value: Scalar) -> Any:
        return value.isoformat() if isinstance(value, date) else value  # datetime is a date


@dataclass(frozen=True)
class Keyset:
    """A list's order: `name` tells one list's positions from another's; the last key must be unique."""

    name: str
    keys: tuple[SortKey, ...]

    def order_by(self) -> list[Any]:
        return [key.order() for key in self.keys]

    def after(self, position: Sequence[Scalar]) -> ColumnElement[bool]:
        """Rows strictly after `position` in this order: (k1 > v1) or (k1 = v1 and k2 > v2) or ...

        The first key's bound is repeated on its own (k1 >= v1) so the database seeks to it in the index
        rather than filtering from the start."""
        branches = [and_(*(key.equal(v) for key, v in zip(self.keys[:i], position, strict=False)),
                         self.keys[i].beyond(position[i])) for i in range(len(self.keys))]
        first, value = self.keys[0], position[0]
        seek: list[ColumnElement[bool]] = []
        if value is not None and not first.nullable:
            seek.append(first.column <= first.bound(value) if first.descending else first.column >= first.bound(value))
        return and_(*seek, or_(*branches))

    def position(self, cursor: Sequence[Any] | None) -> tuple[Scalar, ...] | None:
        """A decoded cursor checked against this list: None for the first page.

        Raises:
            InvalidInput: a cursor of another list, or whose values are not this list's key.
        """
        if cursor is None:
            return None
        if len(cursor) != len(self.keys) + 1 or cursor[0] != self.name:
            raise InvalidInput("the cursor is not one of this list's", hint="start again without `cursor`, then "
                               "follow the next link of each page", details={"field": "cursor"})
        try:
            return tuple(key.parse(value) for key, value in zip(self.keys, cursor[1:], strict=True))
        except ValueError as err:
            raise InvalidInput(f"the cursor is damaged: {err}", hint="start again without `cursor`",
                               details={"field": "cursor"}) from err

    def of(self, item: Any) -> list[Any]:
        """The cursor of an item (a row with the keys' columns as attributes): the name, then its key values."""
        return [self.name, *(key.dump(getattr(item, key.name)) for key in self.keys)]

    def of_values(self, values: Sequence[Scalar]) -> list[Any]:
        return [self.name, *(key.dump(v) for key, v in zip(self.keys, values, strict=True))]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor where the next one starts (None on the last page)."""

    items: list[T]
    next: list[Any] | None = None

    def map(self, convert: Callable[[T], Any]) -> Page[Any]:
        return Page([convert(item) for item in self.items], self.next)


def page_of(rows: Sequence[T], limit: int, cursor_of: Callable[[T], list[Any]]) -> Page[T]:
    """A page from up to `limit + 1` rows fetched in order: the extra row only says that a next page exists."""
    items = list(rows[:limit])
    return Page(items, cursor_of(items[-1]) if len(rows) > limit and items else None)


def page_in_memory(items: Sequence[T], keyset: Keyset, key: Callable[[T], tuple[Scalar, ...]],
                   position: tuple[Scalar, ...] | None, limit: int) -> Page[T]:
    """The same paging for a list built in memory (the catalogue's licences, an application's documents): sorted
    by `key` ascending, starting after `position`."""
    ordered = sorted(items, key=key)
    if position is not None:
        ordered = [item for item in ordered if key(item) > position]
    return page_of(ordered[:limit + 1], limit, lambda item: keyset.of_values(key(item)))


def fetch_page(session: Session, query: Any, keyset: Keyset, limit: int | None, cursor: Sequence[Any] | None,
               *, offset: int = 0, keyed: Callable[[Any], Any] = lambda row: row) -> Page[Any]:
    """One page of `query` (a select without an order) in `keyset`'s order: the first `limit` rows after the
    cursor's position, and the cursor of the last one when more follow. `limit=None` reads the whole list
    (an export, a page that shows everything); `offset` is the old paging, kept for clients that send it.
    `keyed` picks the row the keys are read from (the first entity of a joined select).

    Raises:
        InvalidInput: a cursor that is not this list's, or a cursor and an offset together.
    """
    position = keyset.position(cursor)
    if position is not None and offset:
        raise InvalidInput("send `cursor` or `offset`, not both", hint="follow the cursors alone: `offset` is "
                           "deprecated", details={"field": "offset"})
    if position is not None:
        query = query.where(keyset.after(position))
    query = query.order_by(*keyset.order_by()).offset(offset or None)
    if limit is None:
        return Page(list(session.exec(query).all()))
    rows = session.exec(query.limit(min(limit, MAX_LIMIT) + 1)).all()
    return page_of(rows, min(limit, MAX_LIMIT), lambda row: keyset.of(keyed(row)))
