"""The scope checks (engine/access.py) and the principal's label, without a database (ownership:
test_ownership.py)."""

from __future__ import annotations

from itertools import combinations

import pytest

from bizportal.engine.access import AGENCY_ROLES, OFFICERS, in_scope
from bizportal.engine.principal import Principal, Role

KT, BR = "BKK-KHLONG-TOEI", "BKK-BANG-RAK"


@pytest.mark.parametrize(("principal", "agency", "office", "expected"), [
    (Principal("olivia", Role.AGENCY_OFFICER, "LAO", KT), "LAO", KT, True),
    (Principal("oscar", Role.AGENCY_OFFICER, "LAO", BR), "LAO", KT, False),  # another office (H2)
    (Principal("hq", Role.AGENCY_OFFICER, "LAO"), "LAO", KT, False),  # no office: no local case (M1)
    (Principal("sue", Role.AGENCY_SUPERVISOR, "LAO", KT), "LAO", KT, True),
    (Principal("sue", Role.AGENCY_SUPERVISOR, "LAO"), "LAO", KT, False),
    (Principal("eve", Role.AGENCY_OFFICER, "EXCISE"), "EXCISE", None, True),  # a case of the agency itself
    (Principal("eve", Role.AGENCY_OFFICER, "EXCISE", "SOME-OFFICE"), "EXCISE", None, True),
    (Principal("eve", Role.AGENCY_OFFICER, "EXCISE"), "LAO", KT, False),
    (Principal("olivia", Role.APPLICANT, "LAO", KT), "LAO", KT, False),  # claims on another role mean nothing
    (Principal("carl", Role.COUNTER_OFFICER, "LAO", KT), "LAO", KT, False),
    (Principal("root", Role.ADMIN, "LAO", KT), "LAO", KT, False),  # admins pass explicitly, not by scope
])
def test_scope_is_agency_and_office(principal: Principal, agency: str, office: str | None, expected: bool) -> None:
    assert in_scope(principal, agency, office) is expected


def test_supervisors_can_be_left_out_of_a_scope() -> None:
    supervisor = Principal("sue", Role.AGENCY_SUPERVISOR, "LAO", KT)
    assert in_scope(supervisor, "LAO", KT, AGENCY_ROLES) and not in_scope(supervisor, "LAO", KT, OFFICERS)


def test_labels_name_one_principal_each() -> None:
    """The label decides who claimed a task and who took a payment: no two principals share one."""
    principals = [
        Principal("olivia", Role.AGENCY_OFFICER, "LAO", KT),
        Principal(f"{KT}:olivia", Role.AGENCY_OFFICER, "LAO"),  # the review's example
        Principal(f"LAO:{KT}:olivia", Role.AGENCY_OFFICER),
        Principal("olivia", Role.AGENCY_OFFICER, "LAO", f"{KT}:x"),
        Principal("x:olivia", Role.AGENCY_OFFICER, "LAO", KT),
        Principal("carl", Role.COUNTER_OFFICER, office="LAO"),  # an office without an agency
        Principal("carl", Role.COUNTER_OFFICER, "LAO"),
        Principal("LAO:carl", Role.COUNTER_OFFICER),
        Principal("LAO%3Acarl", Role.COUNTER_OFFICER),
        Principal("carl", Role.COUNTER_OFFICER),
        Principal("carl", Role.APPLICANT),
    ]
    for one, other in combinations(principals, 2):
        assert one.label != other.label, (one, other)
    # Ordinary codes and subjects read as before.
    assert principals[0].label == f"agency_officer:LAO:{KT}:olivia"
    assert principals[-2].label == "counter_officer:carl"
    assert principals[1].label == f"agency_officer:LAO:{KT}%3Aolivia"
