"""staff register: who signs in as staff, with the role, agency and office the administrators gave them

Revision ID: 0013_staff_register
Revises: 0012_idempotency_fingerprint
Create Date: 2026-12-12 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0013_staff_register'
down_revision = '0012_idempotency_fingerprint'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_member',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('office', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('idempotency_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer', 'subject', name='uq_staff_member_issuer_subject')
    )


def downgrade() -> None:
    op.drop_table('staff_member')
