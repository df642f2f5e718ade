"""When a child's record may be destroyed: every rule that applies, and the longest wins.

Rule 39 (Care Planning, Placement and Case Review (England) Regulations 2010 reg. 50): the record
of a child who was looked after at any time is kept until the 75th birthday, or for 15 years after
death if the child died before turning 18. Rule 40 (Adoption Agencies Regulations 2005 reg. 42):
an adoption case record is kept for 100 years from the adoption order. Every other record is kept
for a period the council sets (``Settings.retention_default_*``): until the later of the child's
Nth birthday (25 by default, what most records management policies say for a child in need or
child protection record) and N years after the last case closed (7 by default, so that a record
closed at 17 is not destroyed at 25 before it has been closed a while).

Nothing is destroyed while any of the child's cases is open, nor before the last one closed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.calendar import add_months
from app.config import Settings


class RetentionRule(StrEnum):
    """The rule that set a record's disposal date (stored in ``RecordDisposal.rule``)."""

    looked_after_75th_birthday = "looked_after_75th_birthday"
    looked_after_15_years_after_death = "looked_after_15_years_after_death"
    adoption_100_years = "adoption_100_years"
    council_default = "council_default"


#: Where two rules give the same day, the statutory one is named (the order here).
_PRECEDENCE = (
    RetentionRule.adoption_100_years,
    RetentionRule.looked_after_75th_birthday,
    RetentionRule.looked_after_15_years_after_death,
    RetentionRule.council_default,
)


@dataclass(frozen=True)
class RetentionFacts:
    """What the rules read about one child (no names: only dates and flags)."""

    person_id: uuid.UUID
    born: date | None  # date of birth, or the expected date for an unborn child
    died: date | None
    looked_after: bool  # a period of care at any time (rule 39)
    adoption_order: date | None  # the latest adoption order (rule 40)
    open_cases: int
    last_closed: date | None


@dataclass(frozen=True)
class RetentionDecision:
    person_id: uuid.UUID
    rule: RetentionRule
    # None while a case is open: a record in use has no disposal date.
    disposal_due: date | None


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February -> 28 February in a common year)."""
    return add_months(day, 12 * years)


def decide(facts: RetentionFacts, settings: Settings) -> RetentionDecision:
    """The longest period any applicable rule gives, and the rule that gives it."""
    candidates: dict[RetentionRule, date] = {}
    born = facts.born
    if facts.looked_after and born is not None:
        if facts.died is not None and facts.died < add_years(born, 18):
            candidates[RetentionRule.looked_after_15_years_after_death] = add_years(facts.died, 15)
        else:
            candidates[RetentionRule.looked_after_75th_birthday] = add_years(born, 75)
    if facts.adoption_order is not None:
        candidates[RetentionRule.adoption_100_years] = add_years(facts.adoption_order, 100)
    default_dates = []
    if born is not None:
        default_dates.append(add_years(born, settings.retention_default_until_age))
    if facts.last_closed is not None:
        default_dates.append(
            add_years(facts.last_closed, settings.retention_default_years_after_closure)
        )
    if default_dates:
        candidates[RetentionRule.council_default] = max(default_dates)
    if not candidates:
        # No date of birth and no case ever closed: nothing to count from, so never due.
        return RetentionDecision(facts.person_id, RetentionRule.council_default, None)
    latest = max(candidates.values())
    rule = next(r for r in _PRECEDENCE if candidates.get(r) == latest)
    if facts.open_cases:
        return RetentionDecision(facts.person_id, rule, None)
    if facts.last_closed is not None:
        latest = max(latest, facts.last_closed)
    return RetentionDecision(facts.person_id, rule, latest)
