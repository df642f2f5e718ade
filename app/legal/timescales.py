"""The clocks of legal planning: timescales rules 34 and 35.

Rule 34 (Children Act 1989 s.32(1)(a), as amended by the Children and Families Act 2014 s.14):
care or supervision proceedings are to be disposed of "without delay, and in any event within
twenty-six weeks beginning with the day on which the application was issued". A period "beginning
with" a day includes that day, so the last day of the 26 weeks is the issue date + 181 days
(issued on a Monday, the limit is the Sunday at the end of week 26).
s.32(5) lets the court extend it when necessary to resolve the proceedings justly, and s.32(7)
limits each extension to 8 weeks; an extension moves the last day on by whole weeks.

Rule 35 (PLO practice guidance, local: ``CASEWORK_PRE_PROCEEDINGS_REVIEW_WEEKS``, default 12):
pre-proceedings are reviewed — to proceedings or stepped down — within that many weeks of the
decision to enter them (or of the last review that kept them open).
"""

from __future__ import annotations

from datetime import date, timedelta

from app.config import get_settings

TIME_LIMIT_WEEKS = 26
#: s.32(7): "...an extension ... is not to exceed eight weeks".
MAX_EXTENSION_WEEKS = 8
S32_7 = "Children Act 1989 s.32(7): each extension at most 8 weeks"


def proceedings_time_limit(application_date: date) -> date:
    """The last day of the 26 weeks beginning with the day the application was issued."""
    return application_date + timedelta(weeks=TIME_LIMIT_WEEKS, days=-1)


def extended_time_limit(current_limit: date, weeks: int) -> date:
    """The time limit after an extension of ``weeks`` (s.32(5); at most 8: s.32(7))."""
    return current_limit + timedelta(weeks=weeks)


def proceedings_week(application_date: date, on: date) -> int:
    """The week of the proceedings ``on`` falls in: week 1 is the 7 days beginning with the issue
    date, so the 26-week limit ends on the last day of week 26."""
    return (on - application_date).days // 7 + 1


def duration_weeks(application_date: date, end_date: date) -> float:
    """How long the proceedings ran, in weeks to one decimal, counting both the issue date and the
    day of the final order (as s.32(1)(a) counts: an order on the last day of the limit is 26.0
    weeks, within it; one the day after is 26.1)."""
    return round(((end_date - application_date).days + 1) / 7, 1)


def pre_proceedings_review_due(from_date: date, *, weeks: int | None = None) -> date:
    """Rule 35: ``weeks`` (default the council's setting, 12) after the decision or last review."""
    return from_date + timedelta(weeks=weeks or get_settings().pre_proceedings_review_weeks)
