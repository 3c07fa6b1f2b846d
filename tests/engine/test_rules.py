"""Small rules: Thai IDs, working days, the expression whitelist, application status."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bizportal.engine.applications.thai_id import is_valid_thai_id, mask_thai_id
from bizportal.engine.deadlines.working_days import add_working_days, calendar_deadline, is_working_day
from bizportal.engine.statuses import application_status
from bizportal.engine.workflow.expressions import ExpressionRejected, evaluate, validate_expression


@pytest.mark.parametrize("number", ["1101700203395", "3100600123450", "0105556123453"])
def test_valid_thai_ids(number: str) -> None:
    assert is_valid_thai_id(number)


@pytest.mark.parametrize("number", ["1101700203391", "110170020339", "11017002033955", "110170020339x"])
def test_invalid_thai_ids(number: str) -> None:
    assert not is_valid_thai_id(number)


def test_mask_keeps_only_first_and_last_digit() -> None:
    assert mask_thai_id("1101700203395") == "1-1017-xxxxx-xx-5"


def test_working_days_skip_weekends_and_thai_holidays() -> None:
    assert not is_working_day(date(2026, 12, 5))  # Saturday (King Bhumibol's birthday)
    assert not is_working_day(date(2026, 12, 7))  # its substitute holiday
    assert not is_working_day(date(2026, 12, 10))  # Constitution Day
    thursday = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    # Fri 4, (Sat, Sun, Mon 7 substitute), Tue 8, Wed 9 -> 3 working days end on Wed 9 Dec.
    assert add_working_days(thursday, 3) == datetime(2026, 12, 9, 16, 59, 59, tzinfo=UTC)
    assert add_working_days(thursday, 0).date() == date(2026, 12, 3)


def test_a_calendar_deadline_ending_on_a_closed_day_moves_to_the_next_working_day() -> None:
    thursday = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    # +2 days is Saturday 5 Dec; Monday 7 Dec is the substitute holiday for King Bhumibol's birthday.
    assert calendar_deadline(thursday, 2) == datetime(2026, 12, 8, 16, 59, 59, tzinfo=UTC)
    assert calendar_deadline(thursday, 1) == datetime(2026, 12, 4, 16, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "names", "expected"), [
    ('decision == "approve"', {"decision": "approve"}, True),
    ('decision in ["approve", "reject"] and not late', {"decision": "reject", "late": False}, True),
    ("area > 200 or area <= 0", {"area": 80}, False),
    ("1 < x < 3", {"x": 2}, True),
    ("-x + 2 * 3", {"x": 1}, 5),
    ('invoice["due_at"]', {"invoice": {"due_at": "2026-12-31T23:59:59+07:00"}}, "2026-12-31T23:59:59+07:00"),
])
def test_whitelisted_expressions_evaluate(expression: str, names: dict[str, object], expected: object) -> None:
    assert evaluate(expression, names, {}) == expected


@pytest.mark.parametrize("expression", [
    "x.__class__", "().__class__.__bases__[0]", "__import__('os')", "open('/etc/passwd')", "[c for c in x]",
    "lambda: 1", "x[0]", "x[y]", "x[1:2]", 'x["__class__"][0]', "f'{x}'", "_secret", "x if y else z", "(x := 1)",
])
def test_everything_else_is_rejected(expression: str) -> None:
    with pytest.raises(ExpressionRejected):
        validate_expression(expression, {"due_in_working_days"})


def test_undefined_names_are_an_error_not_a_default() -> None:
    with pytest.raises(NameError):
        evaluate("missing == 1", {}, {})
    with pytest.raises(NameError):
        evaluate('invoice["missing"]', {"invoice": {}}, {})


def test_only_mappings_have_fields() -> None:
    with pytest.raises(ExpressionRejected):
        evaluate('name["upper"]', {"name": "text"}, {})


@pytest.mark.parametrize(("statuses", "expected"), [
    (["document_check", "awaiting_payment"], "document_check"),
    (["issued", "awaiting_payment"], "awaiting_payment"),
    (["under_consideration", "documents_requested"], "documents_requested"),
    (["issued", "rejected"], "issued"),
    (["rejected", "cancelled"], "rejected"),
    (["cancelled"], "cancelled"),
])
def test_application_status_follows_its_licences(statuses: list[str], expected: str) -> None:
    assert application_status(statuses) == expected
