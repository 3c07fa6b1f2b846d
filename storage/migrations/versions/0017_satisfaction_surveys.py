"""satisfaction surveys: the entrepreneur's rating (1-5) and comment, one per licence case after its decision

Revision ID: 0017_satisfaction_surveys
Revises: 0016_requested_documents
Create Date: 2026-12-12 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0017_satisfaction_surveys'
down_revision = '0016_requested_documents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'satisfaction_survey',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('application_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('licence_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['case_id'], ['licence_case.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    with op.batch_alter_table('satisfaction_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_satisfaction_survey_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_survey_licence_code'), ['licence_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_survey_agency'), ['agency'], unique=False)


def downgrade() -> None:
    op.drop_table('satisfaction_survey')
