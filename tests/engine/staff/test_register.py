"""Who a staff sign-in is: the register's entry, or a 403 that says whom to ask (engine/staff/register.py)."""

from __future__ import annotations

import pytest

from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.errors import Forbidden
from bizportal.engine.principal import SYSTEM, Role
from bizportal.engine.staff import register
from bizportal.engine.staff.register import StaffChange, StaffInput, StaffRole
from bizportal.storage.database import read_session, transaction

ISSUER = "https://staff-id.example"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_register_says_who_a_staff_sign_in_is(engine: LicensingEngine) -> None:
    with transaction(engine.db) as session:
        member, created = register.add(engine.ctx, session, SYSTEM, StaffInput(
            issuer=ISSUER + "/", subject="olivia", role=StaffRole.AGENCY_OFFICER, agency="LAO",
            office="BKK-KHLONG-TOEI"))
    assert created and member.issuer == ISSUER  # kept without the trailing slash, as providers are compared
    with read_session(engine.db) as session:
        olivia = register.staff_principal(session, ISSUER, "olivia", name="  Olivia \n Srisuk ")
        assert register.names_anyone_of(session, ISSUER) and not register.names_anyone_of(session, "https://x")
    assert (olivia.role, olivia.agency, olivia.office, olivia.name) == (Role.AGENCY_OFFICER, "LAO",
                                                                         "BKK-KHLONG-TOEI", "Olivia Srisuk")
    assert olivia.label == "agency_officer:LAO:BKK-KHLONG-TOEI:olivia"
    with transaction(engine.db) as session:
        register.change(engine.ctx, session, SYSTEM, member.id, StaffChange(name="Olivia S."))
    with read_session(engine.db) as session:
        assert register.staff_principal(session, ISSUER, "olivia", name="Someone Else").name == "Olivia S."


def test_someone_unknown_or_deactivated_is_forbidden_with_the_hint(engine: LicensingEngine) -> None:
    with transaction(engine.db) as session:
        member, _ = register.add(engine.ctx, session, SYSTEM, StaffInput(
            issuer=ISSUER, subject="carl", role=StaffRole.COUNTER_OFFICER))
    with read_session(engine.db) as session:
        with pytest.raises(Forbidden, match="not in the staff register") as unknown:
            register.staff_principal(session, ISSUER, "nobody")
        with pytest.raises(Forbidden):  # the same `sub` at another provider is someone else
            register.staff_principal(session, "https://other-id.example", "carl")
    assert unknown.value.hint == register.REGISTER_HINT
    with transaction(engine.db) as session:
        register.deactivate(engine.ctx, session, SYSTEM, member.id)
    with read_session(engine.db) as session, pytest.raises(Forbidden, match="deactivated") as deactivated:
        register.staff_principal(session, ISSUER, "carl")
    assert "ask an administrator" in str(deactivated.value.hint)
