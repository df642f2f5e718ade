"""The plans' clocks (timescales rules 13, 14, 16P and 25).

- Rule 13 (reg 4(2)): the care plan before the first placement, or within 10 working days of it.
- Rule 14 (reg 9, number unchecked): the placement plan before each placement, or within
  ``CASEWORK_PLACEMENT_PLAN_WORKING_DAYS`` (5) working days of its start.
- Rule 25 (statutory guidance on the PEP): the PEP in place by the first review, 20 working days
  after becoming looked after (the same date as rule 15), then reviewed each term.
- Permanence (rule 16P, guidance vol 2 ch.2, unchecked): the permanence plan by the second review,
  3 months after the first (20 working days + 3 calendar months after care started).

"Each term" is not a fixed number of days: English schools have three terms a year whose dates each
council (and academy) sets. Casework counts a term as **4 calendar months** from the last PEP (or
PEP review), clamped to the month's end: 12 months / 3 terms, and never later than the end of the
term after the one the PEP was held in, whatever the council's term dates. A council that wants
its own term dates can later replace :func:`pep_review_due`.
"""

from __future__ import annotations

from datetime import date

from app.calendar import add_months, add_working_days
from app.config import get_settings

CARE_PLAN_WORKING_DAYS = 10  # reg 4(2): confidence C
FIRST_REVIEW_WORKING_DAYS = 20  # reg 33(1), rule 15: the PEP's deadline is the same day
SECOND_REVIEW_MONTHS = 3  # reg 33(2), rule 16
PEP_REVIEW_MONTHS = 4  # "each term": see the module docstring


def care_plan_due(first_placement_start: date) -> date:
    """Rule 13: 10 working days after the first placement started (day 0)."""
    return add_working_days(first_placement_start, CARE_PLAN_WORKING_DAYS)


def placement_plan_due(placement_start: date, *, working_days: int | None = None) -> date:
    """Rule 14: ``placement_plan_working_days`` (default 5) working days after the placement."""
    days = get_settings().placement_plan_working_days if working_days is None else working_days
    return add_working_days(placement_start, days)


def pep_due(care_started: date) -> date:
    """Rule 25: by the first review, 20 working days after becoming looked after."""
    return add_working_days(care_started, FIRST_REVIEW_WORKING_DAYS)


def permanence_plan_due(care_started: date) -> date:
    """Rule 16P: by the second review, 3 months after the first review's due date (clamped to the
    month's end)."""
    return add_months(pep_due(care_started), SECOND_REVIEW_MONTHS)


def pep_review_due(last_pep: date) -> date:
    """Rule 25, "reviewed each term": 4 calendar months after the last PEP or PEP review."""
    return add_months(last_pep, PEP_REVIEW_MONTHS)
