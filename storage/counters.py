"""Named gap-free counters, and the yearly numbers built on them (tracking, licence and receipt numbers)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col


class CounterRow(SQLModel, table=True):
    __tablename__ = "counter"

    name: str = Field(primary_key=True, max_length=100)
    value: int = 0


def next_value(session: Session, name: str) -> int:
    """Increment and return the counter inside the caller's transaction.

    One upsert statement, so two transactions never read the same value and the first
    use of a name cannot race into a duplicate-key error.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(CounterRow).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": CounterRow.value + 1})
    return int(session.execute(stmt.returning(col(CounterRow.value))).scalar_one())


def yearly_number(session: Session, prefix: str, counter: str, year: int, digits: int) -> str:
    """`<prefix>-<year>-<sequence>`, the sequence zero-padded to `digits` and gap-free per `counter` and year.

    The counter's name is `<counter>:<year>`, so every year starts again at 1.
    """
    return f"{prefix}-{year}-{next_value(session, f'{counter}:{year}'):0{digits}d}"
