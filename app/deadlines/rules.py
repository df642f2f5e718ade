"""The timescale rules deadlines are opened under, each naming its number and source.

Numbers and sources are those of ``shared/domain/timescales.md`` (Front door, assessment,
protection). "Within N working days of X" counts X as day 0 (:func:`app.calendar.add_working_days`).
Local rules (confidence L) take their numbers from Settings so a council can set its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from app.calendar import LONDON, add_working_days, add_working_hours
from app.models.deadlines import DeadlineKind


@dataclass(frozen=True)
class Rule:
    """A timescale rule: what kind of deadline it opens and where the number comes from."""

    rule_id: str
    kind: DeadlineKind
    source: str
    description: str


CONTACT_DECISION = Rule(
    rule_id="TS1",
    kind=DeadlineKind.contact_decision,
    source="Local MASH practice (RAG rating): timescales rule 1; CASEWORK_CONTACT_DECISION_*",
    description="Decision on a contact: red 4 working hours, amber 1 working day, green 3 working "
    "days (council defaults)",
)
REFERRAL_DECISION = Rule(
    rule_id="TS2",
    kind=DeadlineKind.referral_decision,
    source="Working Together to Safeguard Children 2018/2023, ch.1: timescales rule 2",
    description="Decision on the type of response within 1 working day of the referral",
)
ASSESSMENT_AUTHORISED = Rule(
    rule_id="TS3",
    kind=DeadlineKind.assessment_authorised,
    source="Working Together 2018/2023; DfE CIN census rule 8670Q: timescales rule 3",
    description="Child and family assessment authorised within 45 working days of the referral",
)

RULES: dict[DeadlineKind, Rule] = {
    r.kind: r for r in (CONTACT_DECISION, REFERRAL_DECISION, ASSESSMENT_AUTHORISED)
}


def all_rules() -> dict[DeadlineKind, Rule]:
    """Every rule any module opens deadlines under, by kind (worklists and reports name the rule
    behind each deadline from here). Imported lazily: those modules import this one."""
    from app.cin.timescales import CIN_REVIEW
    from app.deadlines.care_rules import RULES as CARE_RULES
    from app.deadlines.practice_rules import RULES as PRACTICE_RULES
    from app.protection.timescales import RULES as PROTECTION_RULES

    return {
        **RULES,
        **PROTECTION_RULES,
        CIN_REVIEW.kind: CIN_REVIEW,
        **CARE_RULES,
        **PRACTICE_RULES,
    }


#: Rule 2: a decision on the type of response within 1 working day of the referral.
REFERRAL_DECISION_WORKING_DAYS = 1
#: Rule 3: the assessment authorised within 45 working days of the referral.
ASSESSMENT_WORKING_DAYS = 45
#: Working hours for hour-counted rules (rule 1, red): 09:00-17:00 London time.
WORKDAY_START, WORKDAY_END = time(9), time(17)


@dataclass(frozen=True)
class Due:
    due_date: date
    due_at: datetime | None = None


def contact_decision_due(
    received_at: datetime,
    rag: str,
    *,
    red_hours: int,
    amber_days: int,
    green_days: int,
) -> Due:
    """Rule 1: when the decision on a contact received at ``received_at`` with RAG ``rag`` is due.

    Red counts working hours (an exact instant; its due date is that instant's London date); amber
    and green count working days from the day the contact came in.
    """
    received_on = received_at.astimezone(LONDON).date()
    if rag == "red":
        due_at = add_working_hours(
            received_at, red_hours, day_start=WORKDAY_START, day_end=WORKDAY_END
        )
        return Due(due_at.astimezone(LONDON).date(), due_at)
    if rag == "amber":
        return Due(add_working_days(received_on, amber_days))
    if rag == "green":
        return Due(add_working_days(received_on, green_days))
    raise ValueError(f"unknown RAG rating {rag!r}")


def referral_decision_due(referral_date: date) -> Due:
    """Rule 2: 1 working day from the referral."""
    return Due(add_working_days(referral_date, REFERRAL_DECISION_WORKING_DAYS))


def assessment_authorised_due(referral_date: date) -> Due:
    """Rule 3: 45 working days from the referral (CIN census 8670Q counts the same way)."""
    return Due(add_working_days(referral_date, ASSESSMENT_WORKING_DAYS))
