"""an office's open tasks with their lane in the index: counting them reads the index alone (issue 14)

Agency staff see the open tasks of the agency lane of their agency's offices in scope. `lane` was not in
`ix_human_task_office` nor `ix_human_task_office_overdue`, so every entry an officer's count read (up to 1,001 per
office and per count) sent it to the table for the row's lane: at 1,000,000 open tasks, thousands of rows scattered
over the whole table. With `lane` after the agency, the count is an index-only range (an equality more in the
same range: the step choices, the step filter and the inbox's order read the indexes as before).

Revision ID: 0021_inbox_office_lane
Revises: 0020_inbox_office_overdue_index
Create Date: 2026-12-05 16:45:00
"""
from __future__ import annotations

from alembic import op

revision = '0021_inbox_office_lane'
down_revision = '0020_inbox_office_overdue_index'
branch_labels = None
depends_on = None

ORDER = ['due_at', 'opened_at', 'id']


def upgrade() -> None:
    op.drop_index('ix_human_task_office', table_name='human_task')
    op.drop_index('ix_human_task_office_overdue', table_name='human_task')
    op.create_index('ix_human_task_office', 'human_task',
                    ['state', 'agency', 'lane', 'office', 'step', 'overdue', *ORDER], unique=False)
    op.create_index('ix_human_task_office_overdue', 'human_task',
                    ['state', 'agency', 'lane', 'office', 'overdue', *ORDER], unique=False)


def downgrade() -> None:
    op.drop_index('ix_human_task_office_overdue', table_name='human_task')
    op.drop_index('ix_human_task_office', table_name='human_task')
    op.create_index('ix_human_task_office_overdue', 'human_task',
                    ['state', 'agency', 'office', 'overdue', *ORDER], unique=False)
    op.create_index('ix_human_task_office', 'human_task',
                    ['state', 'agency', 'office', 'step', 'overdue', *ORDER], unique=False)
