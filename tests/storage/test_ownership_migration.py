"""0014_ownership_by_id_number: applications and licences filed before it become the applicant's, by the ID
number they name, whoever filed them; going back restores the filer as the owner."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from bizportal.storage.database import make_engine
from bizportal.storage.migrate import alembic_config, upgrade_to_head

ALICE_ID, COMPANY = "1101700203395", "0105556123453"


def _filed(connection: sa.Connection, app_id: str, filer: str, role: str, applicant: str, kind: str) -> None:
    connection.execute(sa.text(
        "INSERT INTO application (id, owner, created_by, created_by_role, applicant_kind, applicant_id_number, "
        "applicant_name, language, business_name, business_address, business_province, business_area_m2, form, "
        "obtained_documents, status, created_at, updated_at) VALUES (:id, :filer, :filer, :role, :kind, :applicant, "
        "'h', 'th', 'b', 'a', 'p', 80, '{}', '[]', 'issued', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
        {"id": app_id, "filer": filer, "role": role, "kind": kind, "applicant": applicant})
    connection.execute(sa.text(
        "INSERT INTO licence_case (id, application_id, licence_code, agency, status, updated_at) "
        "VALUES (:id, :app, 'food_premises_notice_small', 'LAO', 'issued', CURRENT_TIMESTAMP)"),
        {"id": f"case-{app_id}", "app": app_id})
    connection.execute(sa.text(
        "INSERT INTO issued_licence (number, licence_case_id, application_id, licence_code, agency, holder_name, "
        "holder_subject, holder_role, business_name, issued_on, status, pdf_key, pdf_sha256, pdf_size, created_at) "
        "VALUES (:number, :case, :app, 'food_premises_notice_small', 'LAO', 'h', :filer, :role, 'b', '2026-01-05', "
        "'valid', 'k', :sha, 1, '2026-01-05 09:00:00')"),
        {"number": f"LAO-{app_id}", "case": f"case-{app_id}", "app": app_id, "filer": filer, "role": role,
         "sha": "0" * 64})



def test_what_was_filed_before_becomes_the_applicants_and_going_back_restores_the_filer(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0012_idempotency_fingerprint")
        _filed(connection, "online", "alice", "applicant", ALICE_ID, "individual")
        _filed(connection, "counter", "carl", "counter_officer", ALICE_ID, "individual")
        _filed(connection, "company", "alice", "applicant", COMPANY, "juristic")
    upgrade_to_head(engine)
    with engine.connect() as connection:
        owners = {row[0]: row[1] for row in connection.execute(sa.text("SELECT id, owner FROM application"))}
        holders = {row[0]: row[1] for row in connection.execute(
            sa.text("SELECT application_id, holder_id_number FROM issued_licence"))}
        offices = set(connection.execute(sa.text("SELECT filed_at_office FROM application")).scalars())
    assert owners == {"online": ALICE_ID, "counter": ALICE_ID, "company": COMPANY}
    assert holders == owners
    assert offices == {None}  # the counter's office was never recorded: only Alice and admins reach it
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012_idempotency_fingerprint")
        filers = {row[0]: row[1] for row in connection.execute(sa.text("SELECT id, owner FROM application"))}
        held_by = {row[0]: (row[1], row[2]) for row in connection.execute(
            sa.text("SELECT application_id, holder_subject, holder_role FROM issued_licence"))}
    engine.dispose()
    assert filers == {"online": "alice", "counter": "carl", "company": "alice"}
    assert held_by == {"online": ("alice", "applicant"), "counter": ("carl", "counter_officer"),
                       "company": ("alice", "applicant")}
