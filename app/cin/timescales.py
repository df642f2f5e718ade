"""The CIN plan's clock: timescales rule 11 (review 3 months after the start, then 3 months after
each review).

Rule 11 is local (confidence L): no national number, the council sets it. The default lives here
as a module constant until it becomes a council setting.
"""

from __future__ import annotations

from datetime import date

from app.calendar import add_months
from app.config import get_settings
from app.deadlines.rules import Rule
from app.models.deadlines import DeadlineKind

CIN_REVIEW = Rule(
    rule_id="TS11",
    kind=DeadlineKind.cin_review,
    source="Local practice (no national number): timescales rule 11; council default 3 months",
    description="CIN plan reviewed within 3 months of its start, then within 3 months of each "
    "review (council default)",
)


def cin_review_due(from_date: date, *, months: int | None = None) -> date:
    """Rule 11: ``months`` (default ``CASEWORK_CIN_REVIEW_MONTHS``, 3) calendar months after the
    start or the last review, clamped to the month's last day (30 November + 3 months = 28 or 29
    February)."""
    return add_months(from_date, months or get_settings().cin_review_months)
