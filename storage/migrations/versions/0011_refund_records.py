"""refunds of payments that settled nothing: unique per invoice and payment, not per invoice

A second payment of an invoice (paid twice, or paid after a withdrawal or expiry) is refunded with a refund
record of its own, next to the refund of the payment that settled the invoice.

Revision ID: 0011_refund_records
Revises: 0010_owner_role
Create Date: 2026-12-05 06:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_refund_records'
down_revision = '0010_owner_role'
branch_labels = None
depends_on = None

# SQLite keeps 0008's UNIQUE (invoice_id) unnamed: batch mode names reflected constraints with this.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _invoice_unique_name() -> str:
    """0008's unique constraint on refund.invoice_id: named by PostgreSQL, unnamed (see NAMING) on SQLite."""
    names = [uc["name"] for uc in sa.inspect(op.get_bind()).get_unique_constraints('refund')
             if uc["column_names"] == ['invoice_id']]
    return names[0] if names and names[0] else "uq_refund_invoice_id"


def upgrade() -> None:
    name = _invoice_unique_name()
    with op.batch_alter_table('refund', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(name, type_='unique')
        batch_op.create_unique_constraint('uq_refund_invoice_payment', ['invoice_id', 'payment_id'])


def downgrade() -> None:
    with op.batch_alter_table('refund', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint('uq_refund_invoice_payment', type_='unique')
        batch_op.create_unique_constraint('uq_refund_invoice_id', ['invoice_id'])
