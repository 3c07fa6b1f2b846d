"""Paging through lists: one cursor scheme for every list (issue 14), and the bounded `offset` kept for clients
of the lists that paged by offset before.

A cursor is opaque to clients: base64url of a JSON array, the list's name and the sort key of the last item
shown (engine/paging.py). Each page says where the next one starts without changing the list's JSON shape:
`X-Next-Cursor` carries the cursor and `Link: <...>; rel="next"` the whole address (RFC 8288), both absent on
the last page. A cursor that is garbled, forged or from another list is a 422 with the error envelope.

Unbounded, a huge offset reached the database as an integer it cannot hold (OverflowError on SQLite,
"bigint out of range" on PostgreSQL): a 500. Past the bound a client narrows its search, or uses the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from sqlalchemy import column

from bizportal.engine.errors import InvalidInput
from bizportal.engine.paging import Keyset, Page, SortKey, page_in_memory

T = TypeVar("T")

MAX_OFFSET = 1_000_000
MAX_CURSOR = 1_000

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, deprecated=True,
                              description=f"items to skip (at most {MAX_OFFSET:,}); deprecated: follow "
                                          "`X-Next-Cursor` (or the `Link` header) with `cursor` instead, which "
                                          "never skips or repeats an item when the list changes between pages")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="where the page starts: the "
                                     "`X-Next-Cursor` header of the page before (leave out for the first page)")]

NEXT_HEADERS = {
    "X-Next-Cursor": {"description": "the `cursor` of the next page; absent on the last page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'the next page\'s address relative to this one, `</api/v1/...?cursor=...>; '
                            'rel="next"`; absent on the last page',
             "schema": {"type": "string"}},
}


def limit_param(most: int) -> Any:
    """The `limit` query parameter of a list (`Annotated[int, limit_param(500)]`): how many items a page holds."""
    return Query(ge=1, le=most, description=f"items per page (at most {most})")


def paged_responses(extra: dict[int | str, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """A list route's `responses=`: the next-page headers on 200 (a bad cursor's 422 is declared for every
    route by api/errors.py)."""
    return {200: {"headers": NEXT_HEADERS}, **(extra or {})}


def encode(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(cursor: str | None) -> list[Any] | None:
    """The position a cursor holds, as JSON values (the list's keyset checks their types): None for no cursor.

    Raises:
        InvalidInput: not a cursor this service made.
    """
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        raise InvalidInput("the cursor is damaged: it is not one this service gave", hint="start again without "
                           "`cursor`, then pass each page's `X-Next-Cursor` unchanged",
                           details={"field": "cursor"}) from err
    if not isinstance(position, list) or not position or not isinstance(position[0], str):
        raise InvalidInput("the cursor is damaged: it is not one this service gave",
                           hint="start again without `cursor`", details={"field": "cursor"})
    return position


def with_next(request: Request, response: Response, page: Page[Any]) -> list[Any]:
    """The page's items, with the headers that say where the next page starts (none on the last page): the
    next page's address keeps every other parameter (filters, limit) and drops `offset`."""
    if page.next is not None:
        cursor = encode(page.next)
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "offset")]
        # A reference relative to the request (RFC 8288 s.3.2), right behind any proxy whatever its host.
        url = f"{request.url.path}?{urlencode([*params, ('cursor', cursor)])}"
        response.headers["X-Next-Cursor"] = cursor
        response.headers["Link"] = f'<{url}>; rel="next"'
    return page.items


def catalogue_page(name: str, items: Sequence[T], code: Callable[[T], str], limit: int,
                   cursor: str | None) -> Page[T]:
    """A page of a list the catalogue holds in memory (licences, business types), in its given order: the
    cursor is an item's place in that order and its code (fixed while the service runs)."""
    keyset = Keyset(name, (SortKey(column("position"), int), SortKey(column("code"), str)))
    return page_in_memory(list(enumerate(items)), keyset, lambda item: (item[0], code(item[1])),
                          keyset.position(decode(cursor)), limit).map(lambda item: item[1])
