"""The clocks of a looked-after child's reviews and of the IRO service (timescales rules 15-17,
28, 29 and the dispute protocol).

"Within N working days of X" counts X as day 0 (:func:`app.calendar.add_working_days`: weekends
and England bank holidays skipped); "within N months" is calendar months clamped to the month's
last day (31 August + 6 months = 28/29 February: :func:`app.calendar.add_months`). The rules
themselves (ids, sources) are declared once in :mod:`app.deadlines.care_rules`.
"""

from __future__ import annotations

from datetime import date

from app.calendar import add_months, add_working_days
from app.config import get_settings
from app.deadlines.care_rules import CLA_REVIEW, CLA_REVIEW_FIRST, CLA_REVIEW_SECOND
from app.deadlines.rules import Rule
from app.models.deadlines import DeadlineKind

#: Rule 15: the first review within 20 working days of becoming looked after (reg 33(1)).
FIRST_REVIEW_WORKING_DAYS = 20
#: Rule 16: the second review within 3 months of the first (reg 33(2)).
SECOND_REVIEW_MONTHS = 3
#: Rule 17: each later review within 6 months of the previous one (reg 33(2)).
LATER_REVIEW_MONTHS = 6

#: The kinds of the review clock, in the order a period of care meets them.
REVIEW_KINDS: tuple[DeadlineKind, ...] = (
    DeadlineKind.cla_review_first,
    DeadlineKind.cla_review_second,
    DeadlineKind.cla_review,
)


def first_review_due(care_started: date) -> date:
    """Rule 15 (reg 33(1)): 20 working days after the day the child became looked after."""
    return add_working_days(care_started, FIRST_REVIEW_WORKING_DAYS)


def next_review(held: date, *, sequence: int) -> tuple[Rule, date]:
    """The review due after review number ``sequence`` held on ``held``: rule 16 (3 months) after
    the first, rule 17 (6 months) after each later one. Counted from the date the review was
    actually held, so an early review brings the next one forward ("resets the clock")."""
    if sequence == 1:
        return CLA_REVIEW_SECOND, add_months(held, SECOND_REVIEW_MONTHS)
    return CLA_REVIEW, add_months(held, LATER_REVIEW_MONTHS)


def first_review_rule() -> Rule:
    return CLA_REVIEW_FIRST


def iro_allocation_due(care_started: date) -> date:
    """Rule 28 (s.25A Children Act 1989; IRO Handbook 2010): an IRO appointed within
    ``CASEWORK_IRO_ALLOCATION_WORKING_DAYS`` (5) working days, and never later than the first
    review is due."""
    days = get_settings().iro_allocation_working_days
    return min(add_working_days(care_started, days), first_review_due(care_started))


def review_decisions_due(held: date) -> date:
    """Rule 29 (IRO Handbook 2010): the review's decisions circulated within
    ``CASEWORK_REVIEW_DECISIONS_WORKING_DAYS`` (5) working days."""
    return add_working_days(held, get_settings().review_decisions_working_days)


def review_record_due(held: date) -> date:
    """Rule 29 (IRO Handbook 2010): the full record completed within
    ``CASEWORK_REVIEW_RECORD_WORKING_DAYS`` (20) working days."""
    return add_working_days(held, get_settings().review_record_working_days)


def dispute_stage_due(stage_started: date) -> date:
    """The council's dispute resolution protocol (IRO Handbook 2010 ch.5): each escalation stage
    answered within ``CASEWORK_IRO_DISPUTE_STAGE_WORKING_DAYS`` (5) working days."""
    return add_working_days(stage_started, get_settings().iro_dispute_stage_working_days)
