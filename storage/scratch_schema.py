"""A PostgreSQL schema of one's own, for a test or a benchmark that shares a database with others.

Everything made through the URL it yields lands in that schema (its `search_path` names only it: tables, indexes
and Alembic's version table alike), and the schema is dropped with all of it afterwards, so runs side by side in
one database never meet, and nothing is left in `public` or anywhere else.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# A schema name we put in SQL ourselves: a prefix of lower-case letters, digits and underscores, then random hex.
_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,40}")


def with_search_path(url: str, schema: str) -> str:
    """`url` with its connections' `search_path` set to `schema` alone (libpq's `options`)."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def scratch_schema(url: str, prefix: str) -> Iterator[str]:
    """Create a fresh schema `<prefix><12 hex digits>` in the database at `url` (postgresql://...), yield a URL
    whose connections use it, and drop it (CASCADE) when the block ends, however it ends.

    Raises:
        ValueError: a prefix that is not a plain lower-case identifier.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"schema prefix {prefix!r}: lower-case letters, digits and underscores only")
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield with_search_path(url, schema)
        finally:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
