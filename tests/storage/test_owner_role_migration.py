"""0010_owner_role gives licences issued before it their holder's role: the role their application was filed in,
and for a renewed or amended licence its predecessor's, whoever filed the request."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from bizportal.storage.database import make_engine
from bizportal.storage.migrate import alembic_config


def _application(connection: sa.Connection, app_id: str, owner: str, role: str) -> None:
    connection.execute(sa.text(
        "INSERT INTO application (id, owner, created_by, created_by_role, applicant_kind, applicant_id_number, "
        "applicant_name, language, business_name, business_address, business_province, business_area_m2, form, "
        "obtained_documents, status, created_at, updated_at) VALUES (:id, :owner, :owner, :role, 'individual', "
        "'1101700203395', 'h', 'th', 'b', 'a', 'p', 80, '{}', '[]', 'issued', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)"), {"id": app_id, "owner": owner, "role": role})


def _licence(connection: sa.Connection, number: str, app_id: str, holder: str, created_at: str,
             predecessor: str | None = None) -> None:
    case = f"case-{number}"
    connection.execute(sa.text(
        "INSERT INTO licence_case (id, application_id, licence_code, agency, status, updated_at) "
        "VALUES (:id, :app, 'food_premises_notice_small', 'LAO', 'issued', CURRENT_TIMESTAMP)"),
        {"id": case, "app": app_id})
    connection.execute(sa.text(
        "INSERT INTO issued_licence (number, licence_case_id, application_id, licence_code, agency, holder_name, "
        "holder_subject, business_name, issued_on, status, pdf_key, pdf_sha256, pdf_size, created_at, "
        "predecessor_number) VALUES (:number, :case, :app, 'food_premises_notice_small', 'LAO', 'h', :holder, 'b', "
        "'2026-01-05', 'valid', 'k', :sha, 1, :created_at, :predecessor)"),
        {"number": number, "case": case, "app": app_id, "holder": holder, "sha": "0" * 64,
         "created_at": created_at, "predecessor": predecessor})


def test_licences_issued_before_get_their_holders_role(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        _application(connection, "app-alice", "alice", "applicant")
        _application(connection, "app-carl", "carl", "counter_officer")  # Carl filed for a citizen
        _application(connection, "app-renewal", "alice", "applicant")  # renews Carl's filing, asked by "alice"
        _licence(connection, "LAO-2569-000001", "app-alice", "alice", "2026-01-05 09:00:00")
        _licence(connection, "LAO-2569-000002", "app-carl", "carl", "2026-01-06 09:00:00")
        _licence(connection, "LAO-2570-000001", "app-renewal", "carl", "2027-01-05 09:00:00",
                 predecessor="LAO-2569-000002")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012_idempotency_fingerprint")  # 0014 replaced holder roles by ID numbers
    with engine.connect() as connection:
        roles: dict[str, str] = dict(
            connection.execute(sa.text("SELECT number, holder_role FROM issued_licence")).all())
    engine.dispose()
    assert roles == {"LAO-2569-000001": "applicant", "LAO-2569-000002": "counter_officer",
                     "LAO-2570-000001": "counter_officer"}
