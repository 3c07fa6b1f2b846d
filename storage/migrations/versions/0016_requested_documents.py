"""requested documents: the documents (codes) an agency asked for on a licence case, and when

Revision ID: 0016_requested_documents
Revises: 0015_uploaded_documents
Create Date: 2026-12-12 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016_requested_documents'
down_revision = '0015_uploaded_documents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cases asked for documents before this named none: their request stays a comment.
    with op.batch_alter_table('licence_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_documents', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('documents_requested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Not batch mode: SQLite would copy the table, and dropping the original breaks its rows' foreign keys.
    op.execute("ALTER TABLE licence_case DROP COLUMN documents_requested_at")
    op.execute("ALTER TABLE licence_case DROP COLUMN requested_documents")
