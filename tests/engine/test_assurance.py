"""Assurance levels in DGA's Digital ID notation (engine/assurance.py)."""

from __future__ import annotations

import pytest

from bizportal.engine.assurance import (
    IAL_LEVELS,
    Ial,
    LevelError,
    Requirement,
    aal_satisfies,
    ial_satisfies,
    levels_of,
    parse_aal,
    parse_ial,
    require,
)
from bizportal.engine.errors import Forbidden
from bizportal.engine.principal import Principal, Role


def test_every_dga_ial_parses_and_prints_back() -> None:
    assert [str(parse_ial(level)) for level in IAL_LEVELS] == list(IAL_LEVELS)
    assert parse_ial(2) == parse_ial("2") == Ial(2) and parse_ial(" 2.3 ") == Ial(2, 3)
    assert [parse_aal(level) for level in ("1", "2", "3", 2)] == [1, 2, 3, 2]


@pytest.mark.parametrize("bad", ["", "4", "0", "3.1", "2.4", "2.", "1.0", "ial2", "2,3", True, 4, "AAL2"])
def test_anything_else_is_not_an_ial(bad: object) -> None:
    with pytest.raises(LevelError, match="is not an IAL: use one of 1.1, 1.2, 1.3, 2.1, 2.2, 2.3, 3"):
        parse_ial(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "0", "4", "2.1", "aal2", True, 4])
def test_anything_else_is_not_an_aal(bad: object) -> None:
    with pytest.raises(LevelError, match="is not an AAL: use one of 1, 2, 3"):
        parse_aal(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("have", "needed", "ok"), [
    ("2.3", 2, True), ("2.1", "2", True), ("2.3", "2.2", True), ("2.2", "2.2", True), ("2.1", "2.2", False),
    ("1.3", 2, False), ("3", 2, True), ("3", "2.3", True), ("2.3", 3, False), ("1.1", 1, True),
    ("2", "2.1", False), ("2", 2, True),
])
def test_a_level_is_at_least_another_when_its_number_is_not_smaller(have: str, needed: str | int, ok: bool) -> None:
    assert ial_satisfies(have, needed) is ok


def test_aal_compares_by_number() -> None:
    assert aal_satisfies("2", 2) and aal_satisfies("3", "2") and not aal_satisfies("1", 2)


def test_a_principal_without_levels_counts_as_the_development_default() -> None:
    assert levels_of(Principal("alice", Role.APPLICANT)) == (Ial(2, 3), 2)
    assert levels_of(Principal("alice", Role.APPLICANT, ial="1.2", aal="1")) == (Ial(1, 2), 1)


CLINIC = Requirement(ial=Ial(3), aal=3, what="clinic_business_licence")
FOOD = Requirement(ial=Ial(2), aal=2, what="food_premises_notice_small")


def test_an_applicant_below_the_level_is_refused_with_the_step_up() -> None:
    low = Principal("alice", Role.APPLICANT, ial="2.3", aal="2")
    require(low, [FOOD], "submit this application")
    with pytest.raises(Forbidden) as refused:
        require(low, [FOOD, CLINIC], "submit this application")
    error = refused.value
    assert "IAL 3 and AAL 3" in error.message and "clinic_business_licence" in error.message
    assert "food_premises" not in error.message and "IAL 2.3, AAL 2" in error.message
    assert error.hint is not None and "acr_values=ial3 aal3" in error.hint
    assert error.details["ial_required"] == "3" and error.details["aal_required"] == "3"


def test_only_the_short_level_is_raised_in_the_step_up() -> None:
    with pytest.raises(Forbidden) as refused:
        require(Principal("alice", Role.APPLICANT, ial="3", aal="1"), [FOOD], "pay")
    assert refused.value.details["acr_values"] == "ial3 aal2"


@pytest.mark.parametrize("role", [r for r in Role if r != Role.APPLICANT])
def test_staff_are_not_checked_against_a_licences_levels(role: Role) -> None:
    require(Principal("carl", role, agency="LAO", ial="1.1", aal="1"), [CLINIC], "file")


def test_a_level_not_in_the_notation_counts_as_the_lowest_never_an_error() -> None:
    """A provider's claim mapped wrongly (e.g. a URN instead of "2.3") must neither pass nor crash."""
    odd = Principal("alice", Role.APPLICANT, ial="urn:dga:ial:2.3", aal="two")
    assert levels_of(odd) == (Ial(1, 1), 1)
    with pytest.raises(Forbidden, match="you are signed in at IAL 1.1, AAL 1"):
        require(odd, [FOOD], "submit this application")
