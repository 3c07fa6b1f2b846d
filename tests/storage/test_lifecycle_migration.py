"""0008_lifecycle schedules the first renewal reminder of licences issued before it, and only of those."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import command

from bizportal.storage.database import make_engine
from bizportal.storage.migrate import alembic_config, upgrade_to_head


def _insert_licence(connection: sa.Connection, number: str, valid_until: date | None, status: str) -> None:
    case = f"case-{number}"
    connection.execute(sa.text(
        "INSERT INTO licence_case (id, application_id, licence_code, agency, status, updated_at) "
        "VALUES (:id, 'app-1', :code, 'LAO', 'issued', CURRENT_TIMESTAMP)"), {"id": case, "code": f"licence-{number}"})
    connection.execute(sa.text(
        "INSERT INTO issued_licence (number, licence_case_id, application_id, licence_code, agency, holder_name, "
        "holder_subject, business_name, issued_on, valid_until, status, pdf_key, pdf_sha256, pdf_size, created_at) "
        "VALUES (:number, :case, 'app-1', 'food_premises_notice_small', 'LAO', 'h', 's', 'b', :issued_on, "
        ":valid_until, :status, 'k', :sha, 1, CURRENT_TIMESTAMP)"),
        {"number": number, "case": case, "issued_on": date(2026, 1, 5), "valid_until": valid_until,
         "status": status, "sha": "0" * 64})


def test_licences_issued_before_the_lifecycle_get_their_first_reminder_day(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        connection.execute(sa.text(
            "INSERT INTO application (id, owner, created_by, created_by_role, applicant_kind, applicant_id_number, "
            "applicant_name, language, business_name, business_address, business_province, business_area_m2, form, "
            "obtained_documents, status, created_at, updated_at) VALUES ('app-1', 'alice', 'alice', 'applicant', "
            "'individual', '1101700203395', 'h', 'th', 'b', 'a', 'p', 80, '{}', '[]', 'issued', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"))
        _insert_licence(connection, "LAO-2569-000001", date(2027, 1, 4), "valid")
        _insert_licence(connection, "LAO-2569-000002", None, "valid")
        _insert_licence(connection, "LAO-2569-000003", date(2027, 1, 4), "revoked")
    upgrade_to_head(engine)
    with engine.connect() as connection:
        rows: dict[str, Any] = dict(
            connection.execute(sa.text("SELECT number, next_reminder_on FROM issued_licence")).all())
        kinds = {row[0] for row in connection.execute(sa.text("SELECT kind FROM licence_case"))}
    engine.dispose()
    assert {number: (day if day is None or isinstance(day, date) else date.fromisoformat(day))
            for number, day in rows.items()} == {
        "LAO-2569-000001": date(2026, 10, 6), "LAO-2569-000002": None, "LAO-2569-000003": None}
    assert kinds == {"new"}  # cases filed before are new-licence cases
