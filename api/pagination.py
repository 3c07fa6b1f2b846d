"""Paging through lists: one bounded `offset` for every list that pages.

Unbounded, a huge offset reached the database as an integer it cannot hold (OverflowError on SQLite,
"bigint out of range" on PostgreSQL): a 500. Past the bound a client narrows its search instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"items to skip (at most {MAX_OFFSET:,}; "
                                                                "narrow the search to reach further)")]
