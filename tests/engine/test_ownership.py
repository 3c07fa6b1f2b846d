"""Ownership (engine/access.py): by the ID number the sign-in vouches for, through a company's representatives,
or by a counter's consent; and the list filter answers exactly as the one-row check does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from bizportal.engine.access import is_owner, owner_filter
from bizportal.engine.principal import Principal, Role
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.consents import CounterConsentRow
from bizportal.storage.representatives import RepresentativeRow

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ANN, BEN, DON, EVE, COMPANY = "1101700203395", "3100600123450", "1100500123451", "3509900123450", "0105556123453"
KT, BR = "BKK-KHLONG-TOEI", "BKK-BANG-RAK"

PEOPLE = {
    "ann": Principal("ann", Role.APPLICANT, id_number=ANN),
    "ann-again": Principal("another-sub", Role.APPLICANT, id_number=ANN),  # the same person, another sign-in
    "ben": Principal("ben", Role.APPLICANT, id_number=BEN),  # acts for the company
    "don": Principal("don", Role.APPLICANT, id_number=DON),  # did, until revoked
    "eve": Principal("eve", Role.APPLICANT, id_number=EVE),  # did, until it ended
    "nobody": Principal("ann", Role.APPLICANT),  # Ann's subject, but no ID number vouched for
    "ann@officer": Principal("ann", Role.AGENCY_OFFICER, "LAO", KT, id_number=ANN),  # another role
    "cora": Principal("cora", Role.COUNTER_OFFICER, office=KT),
    "cody": Principal("cody", Role.COUNTER_OFFICER, office=KT),
    "bill": Principal("bill", Role.COUNTER_OFFICER, office=BR),
    "carl": Principal("carl", Role.COUNTER_OFFICER),  # a counter without an office
    "root": Principal("root", Role.ADMIN),
}
# application -> who may act on it as its applicant
EXPECTED = {
    "ann-online": {"ann", "ann-again", "root"},
    "company": {"ben", "root"},
    "kt-consented": {"ann", "ann-again", "cora", "cody", "root"},
    "kt-withdrawn": {"ann", "ann-again", "root"},
    "kt-ended": {"ann", "ann-again", "root"},
    "carl-consented": {"ann", "ann-again", "carl", "root"},
    "kt-no-consent": {"ann", "ann-again", "root"},  # filed before consents were kept
}


def _application(app_id: str, owner: str, filer: str = "ann", role: str = "applicant",
                 office: str | None = None) -> ApplicationRow:
    return ApplicationRow(id=app_id, owner=owner, created_by=filer, created_by_role=role, filed_at_office=office,
                          applicant_kind="juristic" if owner == COMPANY else "individual", applicant_id_number=owner,
                          applicant_name="x", business_name="b", business_address="a", business_province="p",
                          business_area_m2=80)


def _consent(app_id: str, office: str | None, until: datetime, withdrawn: bool = False) -> CounterConsentRow:
    return CounterConsentRow(id=f"consent-{app_id}", application_id=app_id, entrepreneur=ANN, given_by_id_number=ANN,
                             given_by_name="x", method="identity_checked_in_person", licences=["l"], officer="o",
                             office=office, given_at=NOW - timedelta(days=30), valid_until=until,
                             withdrawn_at=NOW - timedelta(days=1) if withdrawn else None)


def _representative(person: str, revoked: bool = False, until: datetime | None = None) -> RepresentativeRow:
    return RepresentativeRow(id=f"rep-{person}", juristic_number=COMPANY, id_number=person, basis="granted_by_director",
                             granted_by="x", granted_at=NOW - timedelta(days=30), valid_until=until,
                             revoked_at=NOW - timedelta(days=1) if revoked else None)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    later, earlier = NOW + timedelta(days=10), NOW - timedelta(seconds=1)
    with Session(engine) as session:
        session.add_all([
            _application("ann-online", ANN), _application("company", COMPANY, "ben"),
            _application("kt-consented", ANN, "cora", "counter_officer", KT),
            _application("kt-withdrawn", ANN, "cora", "counter_officer", KT),
            _application("kt-ended", ANN, "cora", "counter_officer", KT),
            _application("carl-consented", ANN, "carl", "counter_officer"),
            _application("kt-no-consent", ANN, "cora", "counter_officer", KT),
        ])
        session.flush()
        session.add_all([
            _consent("kt-consented", KT, later), _consent("kt-withdrawn", KT, later, withdrawn=True),
            _consent("kt-ended", KT, earlier), _consent("carl-consented", None, later),
            _representative(BEN), _representative(DON, revoked=True), _representative(EVE, until=earlier),
        ])
        session.commit()
        yield session
    engine.dispose()


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_who_acts_as_the_applicant_and_the_list_filter_agrees(session: Session, name: str) -> None:
    principal = PEOPLE[name]
    applications = session.exec(select(ApplicationRow)).all()
    one_by_one = {a.id for a in applications if is_owner(session, principal, a, NOW)}
    listed = set(session.exec(select(ApplicationRow.id).where(owner_filter(principal, NOW))).all())
    expected = {app_id for app_id, who in EXPECTED.items() if name in who}
    if principal.role == Role.ADMIN:
        assert listed == set(EXPECTED) and one_by_one == set()  # admins pass explicitly, lists show them all
    else:
        assert one_by_one == listed == expected
