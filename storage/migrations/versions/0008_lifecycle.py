"""licence lifecycle: renewal, amendment and cancellation cases; successors; renewal reminders

Revision ID: 0008_lifecycle
Revises: 0007
Create Date: 2026-11-22 11:00:00
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0008_lifecycle'
down_revision = '0007'
branch_labels = None
depends_on = None

# The first reminder threshold (engine/licences/renewal_reminders.py REMINDER_DAYS[0]) when this revision was written.
# Licences issued before it get their first look-up on that day; the scan then sends only the reminder of
# the nearest threshold already passed (none once expired), so a late backfill never sends a burst.
FIRST_REMINDER_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('predecessor_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
        batch_op.add_column(sa.Column('successor_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
        batch_op.add_column(sa.Column('next_reminder_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_reminder_days', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_issued_licence_next_reminder_on'), ['next_reminder_on'], unique=False)

    with op.batch_alter_table('licence_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='new'))
        batch_op.add_column(sa.Column('subject_licence', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
        batch_op.add_column(sa.Column('request_details', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_licence_case_subject_licence'), ['subject_licence'], unique=False)

    issued = sa.table('issued_licence', sa.column('number', sa.String), sa.column('valid_until', sa.Date),
                      sa.column('status', sa.String), sa.column('next_reminder_on', sa.Date))
    connection = op.get_bind()
    rows = connection.execute(sa.select(issued.c.number, issued.c.valid_until)
                              .where(issued.c.status == 'valid', issued.c.valid_until.is_not(None))).all()
    for number, valid_until in rows:
        connection.execute(sa.update(issued).where(issued.c.number == number)
                           .values(next_reminder_on=valid_until - timedelta(days=FIRST_REMINDER_DAYS)))


def downgrade() -> None:
    with op.batch_alter_table('licence_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licence_case_subject_licence'))
        batch_op.drop_column('request_details')
        batch_op.drop_column('subject_licence')
        batch_op.drop_column('kind')

    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_licence_next_reminder_on'))
        batch_op.drop_column('last_reminder_days')
        batch_op.drop_column('next_reminder_on')
        batch_op.drop_column('successor_number')
        batch_op.drop_column('predecessor_number')
