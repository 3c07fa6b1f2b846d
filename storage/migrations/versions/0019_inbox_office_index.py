"""the inbox by office and by a prefix of the tracking number (issue 14)

An officer's tasks are one range of an index (state, agency, office, step, then the inbox's order), in place of
`ix_human_task_inbox` (agency, office, state), which no query reads by agency without the open state.

An officer's count reads only their office's entries (and the agency's own), the filters' step choices are
one index seek per step (a loose index scan, engine/cases/tasks.py `inbox_choices`), and a step filter is one
range in the inbox's order. The number filter (a prefix of the tracking number: storage/prefix.py) is on
PostgreSQL a LIKE, which reads a range of `ix_application_tracking_prefix` (text_pattern_ops: in any collation);
on SQLite a range of the unique index (the new index duplicates it there: one schema for both).

Revision ID: 0019_inbox_office_index
Revises: 0018_keyset_paging_indexes
Create Date: 2026-12-05 15:20:00
"""
from __future__ import annotations

from alembic import op

revision = '0019_inbox_office_index'
down_revision = '0018_keyset_paging_indexes'
branch_labels = None
depends_on = None

COLUMNS = ['state', 'agency', 'office', 'step', 'overdue', 'due_at', 'opened_at', 'id']


def upgrade() -> None:
    op.drop_index('ix_human_task_inbox', table_name='human_task')
    op.create_index('ix_human_task_office', 'human_task', COLUMNS, unique=False)
    op.create_index('ix_application_tracking_prefix', 'application', ['tracking_number'], unique=False,
                    postgresql_ops={'tracking_number': 'text_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_application_tracking_prefix', table_name='application')
    op.drop_index('ix_human_task_office', table_name='human_task')
    op.create_index('ix_human_task_inbox', 'human_task', ['agency', 'office', 'state'], unique=False)
