"""ownership by ID number: applications and licences belong to the person or juristic person they name;
counter consents; a juristic person's representatives

Revision ID: 0014_ownership_by_id_number
Revises: 0013_staff_register
Create Date: 2026-12-12 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0014_ownership_by_id_number'
down_revision = '0013_staff_register'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An application was its filer's (`owner` = their token subject); it is now the applicant's, by the ID
    # number it names. Counter filings made before consents were kept get none: their counter office is
    # unknown, so only the applicant (once signed in) and admins reach them.
    op.execute("UPDATE application SET owner = applicant_id_number")
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filed_at_office', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_filed_at_office'), ['filed_at_office'], unique=False)
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_id_number', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True))
    # A successor's holder is its predecessor's, which is the applicant of the first application: every
    # application of a licence's line names the same applicant, so the licence's own application says it.
    op.execute("UPDATE issued_licence SET holder_id_number = (SELECT applicant_id_number FROM application "
               "WHERE application.id = issued_licence.application_id)")
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.alter_column('holder_id_number', existing_type=sqlmodel.sql.sqltypes.AutoString(length=13),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_issued_licence_holder_id_number'), ['holder_id_number'], unique=False)
        batch_op.drop_column('holder_subject')
        batch_op.drop_column('holder_role')
    op.create_table(
        'counter_consent',
        sa.Column('licences', sa.JSON(), nullable=False),
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('application_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('entrepreneur', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column('given_by_id_number', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column('given_by_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('officer', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column('office', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdrawn_by', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id'),
    )
    with op.batch_alter_table('counter_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_consent_entrepreneur'), ['entrepreneur'], unique=False)
        batch_op.create_index(batch_op.f('ix_counter_consent_office'), ['office'], unique=False)
    op.create_table(
        'company_representative',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('juristic_number', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('granted_by', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('company_representative', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_representative_juristic_number'), ['juristic_number'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_company_representative_id_number'), ['id_number'], unique=False)


def downgrade() -> None:
    op.drop_table('company_representative')
    op.drop_table('counter_consent')
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('holder_subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    # The filer's subject is what `owner` held before.
    op.execute("UPDATE issued_licence SET holder_subject = (SELECT created_by FROM application WHERE "
               "application.id = issued_licence.application_id), holder_role = (SELECT created_by_role FROM "
               "application WHERE application.id = issued_licence.application_id)")
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.alter_column('holder_subject', existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
                              nullable=False)
        batch_op.alter_column('holder_role', existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
                              nullable=False)
        batch_op.drop_index(batch_op.f('ix_issued_licence_holder_id_number'))
        batch_op.drop_column('holder_id_number')
    op.drop_index('ix_application_filed_at_office', table_name='application')
    # Not batch mode: SQLite would copy the table, and dropping the original breaks its rows' foreign keys.
    op.execute("ALTER TABLE application DROP COLUMN filed_at_office")
    op.execute("UPDATE application SET owner = created_by")
