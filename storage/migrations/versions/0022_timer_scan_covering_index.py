"""the due-timer scan reads its index alone (issue 14)

`ix_workflow_timer_due` (state, due_at) gave the scan its order, but each of the 500 timers it takes sent it to the
table for the timer's instance and id: at 1,000,000 waiting timers 500 pages scattered over the table (EXPLAIN:
500 buffers read for 500 rows), at 10,000 the same rows in a few pages. With both in the index, it is an index-only
range of ~5 pages at any size.

Revision ID: 0022_timer_scan_covering_index
Revises: 0021_inbox_office_lane
Create Date: 2026-12-05 17:20:00
"""
from __future__ import annotations

from alembic import op

revision = '0022_timer_scan_covering_index'
down_revision = '0021_inbox_office_lane'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_workflow_timer_due', table_name='workflow_timer')
    op.create_index('ix_workflow_timer_due', 'workflow_timer', ['state', 'due_at', 'instance_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_workflow_timer_due', table_name='workflow_timer')
    op.create_index('ix_workflow_timer_due', 'workflow_timer', ['state', 'due_at'], unique=False)
