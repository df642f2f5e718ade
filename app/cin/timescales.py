"""The CIN plan's clock: timescales rule 11 (review 3 months after the start, then 3 months after
each review).

Rule 11 is local (confidence L): no national number, the council sets it. The default lives here
as a module constant until it becomes a council setting.
"""

from __future__ import annotations

from datetime import date

from app.calendar import add_months
from app.deadlines.rules import Rule
from app.models.deadlines import DeadlineKind

#: Rule 11 (L): months from the plan's start, then from each review, to the next review.
CIN_REVIEW_MONTHS = 3

CIN_REVIEW = Rule(
    rule_id="TS11",
    kind=DeadlineKind.cin_review,
    source="Local practice (no national number): timescales rule 11; council default 3 months",
    description="CIN plan reviewed within 3 months of its start, then within 3 months of each "
    "review (council default)",
)


def cin_review_due(from_date: date, *, months: int = CIN_REVIEW_MONTHS) -> date:
    """Rule 11: ``months`` calendar months after the start or the last review, clamped to the
    month's last day (30 November + 3 months = 28 or 29 February)."""
    return add_months(from_date, months)
