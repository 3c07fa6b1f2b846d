"""the audit trail becomes a hash chain: each entry carries its position, the previous entry's hash and its own
(issue 15); a one-row chain head holds the last position and hash

Entries written before it are chained in id order (their commit order is not known; id order is the order they
were inserted in), a page at a time, with `storage.audit_chain.entry_hash`: the chain's format is that function's,
and a later change of it would need a migration that chains again anyway.

Revision ID: 0023_audit_chain
Revises: 0022_timer_scan_covering_index
Create Date: 2026-12-05 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from bizportal.storage.audit_chain import GENESIS_HASH, HEAD_ID, entry_hash
from bizportal.storage.columns import UTCDateTime

revision = '0023_audit_chain'
down_revision = '0022_timer_scan_covering_index'
branch_labels = None
depends_on = None

_PAGE = 1000

# The columns as the tables read them (UTC-aware times, JSON parsed), so the backfill hashes what a read gives.
_audit_event = sa.table(
    'audit_event', sa.column('id', sa.Integer()), sa.column('application_id', sa.String()),
    sa.column('at', UTCDateTime()), sa.column('actor', sa.String()), sa.column('actor_role', sa.String()),
    sa.column('event', sa.String()), sa.column('detail', sa.JSON()), sa.column('position', sa.Integer()),
    sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    position, last_hash = _chain_existing_entries(op.get_bind())
    op.execute(sa.table('audit_chain_head', sa.column('id', sa.Integer()), sa.column('position', sa.Integer()),
                        sa.column('hash', sa.String()))
               .insert().values(id=HEAD_ID, position=position, hash=last_hash))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_position'), ['position'], unique=True)


def _chain_existing_entries(connection: sa.Connection) -> tuple[int, str]:
    """Chain the entries there are, in id order; the last position and hash (0 and the genesis hash if none)."""
    position, prev_hash, after = 0, GENESIS_HASH, None
    columns = [_audit_event.c[name] for name in
               ('id', 'application_id', 'at', 'actor', 'actor_role', 'event', 'detail')]
    while True:
        query = sa.select(*columns).order_by(_audit_event.c.id).limit(_PAGE)
        if after is not None:
            query = query.where(_audit_event.c.id > after)
        page = connection.execute(query).all()
        if not page:
            return position, prev_hash
        links = []
        for entry in page:
            position += 1
            digest = entry_hash(entry, position, prev_hash)
            links.append({'entry_id': entry.id, 'new_position': position, 'new_prev_hash': prev_hash,
                          'new_hash': digest})
            prev_hash = digest
        connection.execute(_audit_event.update().where(_audit_event.c.id == sa.bindparam('entry_id')).values(
            position=sa.bindparam('new_position'), prev_hash=sa.bindparam('new_prev_hash'),
            hash=sa.bindparam('new_hash')), links)
        after = page[-1].id


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_position'))
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('position')
    op.drop_table('audit_chain_head')
