"""an office's overdue open tasks in one index range (issue 14)

`ix_human_task_office` orders an office's tasks by step before `overdue` (the step filter and the step choices
need that), so an officer's overdue count walked every task of the office up to its cap: 3x slower at 1,000,000
tasks than at 100,000. This index holds an office's tasks overdue first, in the inbox's order.

Revision ID: 0020_inbox_office_overdue_index
Revises: 0019_inbox_office_index
Create Date: 2026-12-05 15:50:00
"""
from __future__ import annotations

from alembic import op

revision = '0020_inbox_office_overdue_index'
down_revision = '0019_inbox_office_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_human_task_office_overdue', 'human_task',
                    ['state', 'agency', 'office', 'overdue', 'due_at', 'opened_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_human_task_office_overdue', table_name='human_task')
