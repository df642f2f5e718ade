"""Child protection timescales (timescales.md rules 4-10 and 12), each naming its number and source.

"Within N working days of X" counts X as day 0 (:func:`app.calendar.add_working_days`); months are
calendar months clamped to the month's last day (:func:`app.calendar.add_months`). Local rules
(confidence L) come from Settings: ``CASEWORK_STRATEGY_DISCUSSION_WORKING_DAYS``,
``CASEWORK_CP_VISIT_WORKING_DAYS`` and ``CASEWORK_CORE_GROUP_WEEKS``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.calendar import add_months, add_working_days
from app.config import get_settings
from app.deadlines.rules import Rule
from app.deadlines.service import deadline_open
from app.models.deadlines import Deadline, DeadlineKind

STRATEGY_DISCUSSION = Rule(
    rule_id="TS4",
    kind=DeadlineKind.strategy_discussion,
    source="Local procedures (no national number): timescales rule 4",
    description="Strategy discussion within 1 working day of the concern of significant harm "
    "(council default)",
)
ICPC_HELD = Rule(
    rule_id="TS5",
    kind=DeadlineKind.icpc_held,
    source="Working Together 2018/2023; CIN census InitialCPCtarget, rule 8675Q: timescales rule 5",
    description="Initial child protection conference within 15 working days of the strategy "
    "discussion that started the section 47 enquiry",
)
CORE_GROUP_FIRST = Rule(
    rule_id="TS6",
    kind=DeadlineKind.core_group_first,
    source="Working Together 2018 (flowchart): timescales rule 6",
    description="First core group within 10 working days of the initial conference",
)
RCPC_FIRST = Rule(
    rule_id="TS7",
    kind=DeadlineKind.rcpc_first,
    source="Working Together 2018/2023: timescales rule 7",
    description="First review conference within 3 months of the initial conference",
)
RCPC = Rule(
    rule_id="TS8",
    kind=DeadlineKind.rcpc,
    source="Working Together 2018/2023: timescales rule 8",
    description="Next review conference within 6 months of the previous one, while the plan lasts",
)
CP_VISIT = Rule(
    rule_id="TS9",
    kind=DeadlineKind.cp_visit,
    source="Local procedures: timescales rule 9",
    description="Child on a CP plan visited and seen every 10 working days (council default)",
)
CORE_GROUP = Rule(
    rule_id="TS10",
    kind=DeadlineKind.core_group,
    source="Local procedures: timescales rule 10",
    description="Next core group within 6 weeks of the previous one (council default)",
)
PRE_BIRTH_CONFERENCE = Rule(
    rule_id="TS12",
    kind=DeadlineKind.pre_birth_conference,
    source="Local procedures (pre-birth protocol): timescales rule 12",
    description="For an unborn child, the initial conference by 28 weeks' gestation "
    "(council default)",
)

RULES: dict[DeadlineKind, Rule] = {
    r.kind: r
    for r in (
        STRATEGY_DISCUSSION,
        ICPC_HELD,
        CORE_GROUP_FIRST,
        RCPC_FIRST,
        RCPC,
        CP_VISIT,
        CORE_GROUP,
        PRE_BIRTH_CONFERENCE,
    )
}

#: Rule 5: initial conference within 15 working days of the strategy discussion.
ICPC_WORKING_DAYS = 15
#: Rule 6: first core group within 10 working days of the initial conference.
CORE_GROUP_FIRST_WORKING_DAYS = 10
#: Rule 7: first review conference within 3 months of the initial conference.
RCPC_FIRST_MONTHS = 3
#: Rule 8: later review conferences within 6 months of the previous one.
RCPC_MONTHS = 6
#: Rule 12 (local default): a pre-birth conference by 28 weeks' gestation; a full-term pregnancy
#: is 40 weeks, so that is 12 weeks before the expected date of birth.
PRE_BIRTH_CONFERENCE_GESTATION_WEEKS = 28
FULL_TERM_WEEKS = 40


def pre_birth_conference_due(expected_date_of_birth: date, *, not_before: date) -> date:
    """Rule 12: the date of 28 weeks' gestation (12 weeks before the expected date of birth) — or
    ``not_before`` (the strategy discussion) when the concern arose later in the pregnancy."""
    due = expected_date_of_birth - timedelta(
        weeks=FULL_TERM_WEEKS - PRE_BIRTH_CONFERENCE_GESTATION_WEEKS
    )
    return max(due, not_before)


def strategy_discussion_due(concern_date: date) -> date:
    """Rule 4: 1 working day (council default) from the concern of significant harm."""
    return add_working_days(concern_date, get_settings().strategy_discussion_working_days)


def icpc_target(strategy_discussion_date: date) -> date:
    """Rule 5: 15 working days from the strategy discussion (the CIN census InitialCPCtarget)."""
    return add_working_days(strategy_discussion_date, ICPC_WORKING_DAYS)


def core_group_first_due(plan_start: date) -> date:
    """Rule 6: 10 working days from the initial conference (the plan's start)."""
    return add_working_days(plan_start, CORE_GROUP_FIRST_WORKING_DAYS)


def core_group_due(last_core_group: date) -> date:
    """Rule 10: 6 weeks (calendar) from the last core group."""
    return last_core_group + timedelta(weeks=get_settings().core_group_weeks)


def rcpc_first_due(plan_start: date) -> date:
    """Rule 7: 3 calendar months from the initial conference (31 August → 30 November)."""
    return add_months(plan_start, RCPC_FIRST_MONTHS)


def rcpc_due(last_review: date) -> date:
    """Rule 8: 6 calendar months from the previous review conference (31 Aug → 28/29 Feb)."""
    return add_months(last_review, RCPC_MONTHS)


def cp_visit_due(last_visit: date) -> date:
    """Rule 9: 10 working days from the plan start or the last visit at which the child was seen."""
    return add_working_days(last_visit, get_settings().cp_visit_working_days)


def deadline_open_once(
    session: Session,
    *,
    rule: Rule,
    subject_type: str,
    subject_id: uuid.UUID,
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    start_date: date,
    due_date: date,
) -> Deadline:
    """Open ``rule``'s deadline for the subject unless one of its kind is already open."""
    existing = session.scalars(
        select(Deadline).where(
            Deadline.subject_type == subject_type,
            Deadline.subject_id == subject_id,
            Deadline.kind == rule.kind,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    return deadline_open(
        session,
        rule=rule,
        subject_type=subject_type,
        subject_id=subject_id,
        case_id=case_id,
        child_id=child_id,
        start_date=start_date,
        due_date=due_date,
    )


def deadlines_stop_for_subject(
    session: Session,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    on: date,
    kinds: Iterable[DeadlineKind] = (),
) -> list[Deadline]:
    """Stop the open deadlines of one subject (a plan that ended, an enquiry that needs no
    conference) — timescales.md: "deadlines stop when their case, plan or episode ends".

    ``app.deadlines.service.deadlines_stop`` stops a whole case; this is its per-subject sibling,
    through the same model.
    """
    clauses = [
        Deadline.subject_type == subject_type,
        Deadline.subject_id == subject_id,
        Deadline.met_date.is_(None),
        Deadline.stopped_date.is_(None),
    ]
    wanted = list(kinds)
    if wanted:
        clauses.append(Deadline.kind.in_(wanted))
    rows = list(session.scalars(select(Deadline).where(and_(*clauses))))
    for deadline in rows:
        # A deadline started after the end (never, in practice) still stops on its start date.
        deadline.stopped_date = max(on, deadline.start_date)
    return rows
