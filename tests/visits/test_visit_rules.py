"""The visiting rule of reg 28 (timescales rules 18-22), one case per rule, without a database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.care.codes import PlacementProvider, PlacementType
from app.models.care import Placement
from app.visits.timescales import visit_due

START = date(2025, 1, 31)


def _placement(**overrides: object) -> Placement:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "placement_type": PlacementType.U6,
        "provider": PlacementProvider.PR1,
        "start_date": START,
        "intended_until_18": False,
        "child_agrees_six_monthly_visits": False,
        "placed_under_reg": None,
    }
    fields.update(overrides)
    return Placement(**fields)


@pytest.mark.parametrize(
    ("placement", "last_visit", "review_held", "due", "rule_id", "paragraph"),
    [
        # Rule 18: 1 week is 7 calendar days from the start, whatever the placement.
        (_placement(), None, False, date(2025, 2, 7), "TS18", "reg 28(2)(a)"),
        (_placement(placed_under_reg="reg 19"), None, False, date(2025, 2, 7), "TS18", None),
        # A visit before this placement started does not count for it.
        (_placement(), date(2025, 1, 30), False, date(2025, 2, 7), "TS18", None),
        # Rule 19: 6 weeks in the placement's first year (up to the day before its anniversary).
        (_placement(), date(2025, 2, 3), False, date(2025, 3, 17), "TS19", "reg 28(2)(b)"),
        (_placement(), date(2026, 1, 30), False, date(2026, 3, 13), "TS19", None),
        # Rule 20: after the first year, 3 months (clamped) if intended to last until 18 ...
        (
            _placement(intended_until_18=True),
            date(2026, 3, 31),
            False,
            date(2026, 6, 30),
            "TS20",
            "reg 28(2)(c)(i)",
        ),
        (
            _placement(intended_until_18=True),
            date(2026, 11, 30),
            False,
            date(2027, 2, 28),
            "TS20",
            None,
        ),
        # ... else 6 weeks.
        (_placement(), date(2026, 1, 31), False, date(2026, 3, 14), "TS20", "reg 28(2)(c)(ii)"),
        # Rule 21: weekly until the first review; then 6-weekly (reg 19) or 4-weekly (reg 24).
        (
            _placement(placed_under_reg="reg 19"),
            date(2025, 2, 3),
            False,
            date(2025, 2, 10),
            "TS21",
            "reg 28(3)(a)",
        ),
        (
            _placement(placed_under_reg="reg 19"),
            date(2025, 2, 3),
            True,
            date(2025, 3, 17),
            "TS21",
            "reg 28(3)(b)",
        ),
        (
            _placement(placed_under_reg="reg 24"),
            date(2025, 2, 3),
            False,
            date(2025, 2, 10),
            "TS21",
            "reg 28(4)(a)",
        ),
        (
            _placement(placed_under_reg="reg 24"),
            date(2025, 2, 3),
            True,
            date(2025, 3, 3),
            "TS21",
            "reg 28(4)(b)",
        ),
        # Rule 22: long-term fostering (U1/U4) over a year, the child agreeing: 6 months.
        (
            _placement(
                placement_type=PlacementType.U4,
                intended_until_18=True,
                child_agrees_six_monthly_visits=True,
            ),
            date(2026, 2, 28),
            False,
            date(2026, 8, 28),
            "TS22",
            "reg 28(3A)",
        ),
        # ... not in the first year, and not without the child's agreement or in other placements.
        (
            _placement(placement_type=PlacementType.U1, child_agrees_six_monthly_visits=True),
            date(2025, 6, 1),
            False,
            date(2025, 7, 13),
            "TS19",
            None,
        ),
        (
            _placement(placement_type=PlacementType.U4, intended_until_18=True),
            date(2026, 2, 28),
            False,
            date(2026, 5, 28),
            "TS20",
            None,
        ),
        (
            _placement(
                placement_type=PlacementType.K2,
                provider=PlacementProvider.PR4,
                intended_until_18=True,
                child_agrees_six_monthly_visits=True,
            ),
            date(2026, 2, 28),
            False,
            date(2026, 5, 28),
            "TS20",
            None,
        ),
    ],
)
def test_the_next_visit_is_due_by_the_rule_that_applies(
    placement: Placement,
    last_visit: date | None,
    review_held: bool,
    due: date,
    rule_id: str,
    paragraph: str | None,
) -> None:
    result = visit_due(placement, last_visit=last_visit, first_review_held=review_held)
    assert (result.due_date, result.rule.rule_id) == (due, rule_id)
    assert result.rule.kind.value == "statutory_visit"
    if paragraph is not None:
        assert result.paragraph == paragraph


def test_the_first_week_is_seven_calendar_days_even_over_easter() -> None:
    """Reg 28(2)(a) counts a week, not working days: a placement starting on Good Friday 2026
    is visited by the next Friday, Easter Monday notwithstanding."""
    result = visit_due(
        _placement(start_date=date(2026, 4, 3)), last_visit=None, first_review_held=False
    )
    assert result.due_date == date(2026, 4, 10)
