"""When the next statutory visit to a looked-after child is due, and under which rule.

Care Planning, Placement and Case Review (England) Regulations 2010 (SI 2010/959), reg 28 (as
made, checked against legislation.gov.uk; para (3A) inserted in 2015):

- 28(2)(a) "within one week of the start of any placement": 7 calendar days (timescales rule 18).
  The regulation counts weeks, not working days: a visit due on a bank holiday is due that day.
- 28(2)(b) "at intervals of not more than six weeks for the first year of any placement" (19).
- 28(2)(c) thereafter "(i) where the placement is intended to last until C is aged 18, at
  intervals of not more than three months, (ii) and in any other case, at intervals of not more
  than six weeks" (20).
- 28(3) where reg 19 applies (placed with a parent before assessment is complete): "at least once
  a week until the first review ... and thereafter at intervals of not more than six weeks"; 28(4)
  where reg 24 applies (temporary approval of a connected person): weekly until the first review,
  "thereafter at intervals of not more than four weeks" (21).
- 28(3A) a long-term foster placement that has lasted a year, the child (of sufficient age and
  understanding) agreeing to be visited less often: at intervals of not more than six months (22).

An interval runs from the last visit at which the child was seen (reg 29: the representative sees
and speaks to the child); whether it is a first-year interval is decided by the date of that
visit, so the last visit of a placement's first year is followed within 6 weeks whatever comes
after (the stricter reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.calendar import add_months
from app.care.codes import PlacementType
from app.deadlines.care_rules import (
    VISIT_AFTER_FIRST_YEAR,
    VISIT_FIRST_WEEK,
    VISIT_LONG_TERM_AGREED,
    VISIT_PLACED_WITH_PARENTS,
    VISIT_SIX_WEEKLY,
)
from app.deadlines.rules import Rule
from app.models.care import Placement

ONE_WEEK = timedelta(weeks=1)
FOUR_WEEKS = timedelta(weeks=4)
SIX_WEEKS = timedelta(weeks=6)
#: SSDA903 PLACE codes of long-term fostering (U1 with a relative or friend, U4 with another
#: foster carer): the placements reg 28(3A) speaks of.
LONG_TERM_FOSTER = frozenset({PlacementType.U1, PlacementType.U4})
PLACED_WITH_PARENTS_BEFORE_ASSESSMENT = "reg 19"
TEMPORARY_CONNECTED_PERSON = "reg 24"


@dataclass(frozen=True)
class VisitDue:
    """The due date of the next visit and the rule (with its paragraph of reg 28) that set it."""

    due_date: date
    rule: Rule
    paragraph: str


def visit_due(
    placement: Placement, *, last_visit: date | None, first_review_held: bool
) -> VisitDue:
    """The next statutory visit in ``placement``, given the last visit in it at which the child
    was seen (None: no visit yet) and whether the child's first review has been held."""
    start = placement.start_date
    if last_visit is None or last_visit < start:
        return VisitDue(start + ONE_WEEK, VISIT_FIRST_WEEK, "reg 28(2)(a)")
    reg = placement.placed_under_reg
    if reg in (PLACED_WITH_PARENTS_BEFORE_ASSESSMENT, TEMPORARY_CONNECTED_PERSON):
        paragraph = "reg 28(3)" if reg == PLACED_WITH_PARENTS_BEFORE_ASSESSMENT else "reg 28(4)"
        if not first_review_held:
            return VisitDue(last_visit + ONE_WEEK, VISIT_PLACED_WITH_PARENTS, f"{paragraph}(a)")
        interval = SIX_WEEKS if reg == PLACED_WITH_PARENTS_BEFORE_ASSESSMENT else FOUR_WEEKS
        return VisitDue(last_visit + interval, VISIT_PLACED_WITH_PARENTS, f"{paragraph}(b)")
    first_year_ends = add_months(start, 12)
    if last_visit < first_year_ends:
        return VisitDue(last_visit + SIX_WEEKS, VISIT_SIX_WEEKLY, "reg 28(2)(b)")
    if placement.placement_type in LONG_TERM_FOSTER and placement.child_agrees_six_monthly_visits:
        return VisitDue(add_months(last_visit, 6), VISIT_LONG_TERM_AGREED, "reg 28(3A)")
    if placement.intended_until_18:
        return VisitDue(add_months(last_visit, 3), VISIT_AFTER_FIRST_YEAR, "reg 28(2)(c)(i)")
    return VisitDue(last_visit + SIX_WEEKS, VISIT_AFTER_FIRST_YEAR, "reg 28(2)(c)(ii)")
