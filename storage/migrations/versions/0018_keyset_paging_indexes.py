"""keyset paging indexes: every list pages by cursor in its order, with an index behind each filter (issue 14)

Each part of the inbox's order (overdue first, then deadline, age and id) is one index range for an agency's
queue, one for the whole list, and one for each of its step and claim filters; each other list's order with its
scope or filter column first, and the public register's area get theirs; a case is found from its task's instance by index (the inbox's
join). `ix_incident_state` (state, created_at) gives way to the same columns with the id that ends the order.

Revision ID: 0018_keyset_paging_indexes
Revises: 0017_satisfaction_surveys
Create Date: 2026-12-05 14:40:00
"""
from __future__ import annotations

from alembic import op

revision = '0018_keyset_paging_indexes'
down_revision = '0017_satisfaction_surveys'
branch_labels = None
depends_on = None

INDEXES: list[tuple[str, str, list[str]]] = [
    ('ix_human_task_queue', 'human_task', ['state', 'agency', 'overdue', 'due_at', 'opened_at', 'id']),
    ('ix_human_task_order', 'human_task', ['state', 'overdue', 'due_at', 'opened_at', 'id']),
    ('ix_human_task_step', 'human_task', ['state', 'step', 'overdue', 'due_at', 'opened_at', 'id']),
    ('ix_human_task_assignee', 'human_task', ['state', 'assignee', 'overdue', 'due_at', 'opened_at', 'id']),
    ('ix_licence_case_instance_id', 'licence_case', ['instance_id']),
    ('ix_application_owner_created', 'application', ['owner', 'created_at', 'id']),
    ('ix_application_office_created', 'application', ['filed_at_office', 'created_at', 'id']),
    ('ix_application_created', 'application', ['created_at', 'id']),
    ('ix_application_area', 'application', ['business_province', 'business_district']),
    ('ix_case_clock_escalated', 'case_clock', ['decided_at', 'escalated_at', 'due_at', 'case_id']),
    ('ix_counter_consent_entrepreneur_given', 'counter_consent', ['entrepreneur', 'given_at', 'id']),
    ('ix_counter_consent_office_given', 'counter_consent', ['office', 'given_at', 'id']),
    ('ix_counter_consent_officer_given', 'counter_consent', ['officer', 'given_at', 'id']),
    ('ix_counter_consent_given', 'counter_consent', ['given_at', 'id']),
    ('ix_incident_created', 'incident', ['created_at', 'id']),
    ('ix_incident_state_created', 'incident', ['state', 'created_at', 'id']),
    ('ix_issued_licence_register', 'issued_licence', ['issued_on', 'number']),
    ('ix_staff_member_created', 'staff_member', ['created_at', 'id']),
    ('ix_staff_member_active_created', 'staff_member', ['active', 'created_at', 'id']),
]


def upgrade() -> None:
    op.drop_index('ix_incident_state', table_name='incident')
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index('ix_incident_state', 'incident', ['state', 'created_at'], unique=False)
