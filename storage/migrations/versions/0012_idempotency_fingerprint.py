"""idempotency fingerprint: the request an Idempotency-Key was first used with

Revision ID: 0012_idempotency_fingerprint
Revises: 0011_refund_records
Create Date: 2026-12-10 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0012_idempotency_fingerprint'
down_revision = '0011_refund_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows created before it have none: a repeat of their key is still answered with the first result.
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('idempotency_fingerprint')
