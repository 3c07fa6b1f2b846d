"""issued licences record the holder's role: ownership is (role, subject), not the subject alone

Revision ID: 0010_owner_role
Revises: 0009
Create Date: 2026-12-10 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0010_owner_role'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    # Backfill: a licence is held in the role its application was filed in; a renewed or amended licence
    # stays with its predecessor's holder (whoever filed the request), so predecessors are done first.
    issued = sa.table('issued_licence', sa.column('number', sa.String), sa.column('application_id', sa.String),
                      sa.column('predecessor_number', sa.String), sa.column('created_at', sa.DateTime),
                      sa.column('holder_role', sa.String))
    application = sa.table('application', sa.column('id', sa.String), sa.column('created_by_role', sa.String))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(issued.c.number, issued.c.predecessor_number, application.c.created_by_role)
        .join(application, application.c.id == issued.c.application_id)
        .order_by(issued.c.created_at, issued.c.number)).all()
    roles: dict[str, str] = {}
    for number, predecessor, filed_as in rows:
        roles[number] = roles.get(predecessor, filed_as) if predecessor else filed_as
        connection.execute(sa.update(issued).where(issued.c.number == number).values(holder_role=roles[number]))

    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.alter_column('holder_role', existing_type=sqlmodel.sql.sqltypes.AutoString(length=40),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('issued_licence', schema=None) as batch_op:
        batch_op.drop_column('holder_role')
