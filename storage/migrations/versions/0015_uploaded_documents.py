"""uploaded documents: what applicants upload for an application, one row per version

Revision ID: 0015_uploaded_documents
Revises: 0014_ownership_by_id_number
Create Date: 2026-12-05 11:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0015_uploaded_documents'
down_revision = '0014_ownership_by_id_number'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'uploaded_document',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('application_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('licence_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('document', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('object_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deleted_by', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column('answers_request', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'document', 'version', name='uq_uploaded_document_version'),
    )
    with op.batch_alter_table('uploaded_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploaded_document_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    op.drop_table('uploaded_document')
