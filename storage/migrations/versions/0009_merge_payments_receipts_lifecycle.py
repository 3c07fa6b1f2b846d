"""merge: payment deadlines and refunds, receipts, licence lifecycle

The three were developed side by side from 0007; this revision joins them so the schema has one head.

Revision ID: 0009
Revises: 0008_lifecycle, 0008_payment_deadline, 0008_receipts
Create Date: 2026-11-22 11:10:00
"""
from __future__ import annotations

revision = '0009'
down_revision = ('0008_lifecycle', '0008_payment_deadline', '0008_receipts')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # a merge point: the schema changes are in the three revisions it joins


def downgrade() -> None:
    pass
