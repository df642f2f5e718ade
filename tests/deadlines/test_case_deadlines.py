"""Stories of the front door's clocks: contact decisions, referral decisions and assessments,
across weekends and bank holidays, met on time, missed, and stopped when the case closes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.config import Environment, Settings
from app.deadlines import rules
from app.deadlines.service import (
    deadline_meet,
    deadline_open,
    deadline_status,
    deadline_status_clause,
    deadline_status_expr,
)
from app.models import Deadline, DeadlineKind, DeadlineStatus
from tests.cases.factories import Cast, deadlines_of, open_case, take


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A London wall-clock instant (GMT or BST as the date has it)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_a_referral_on_christmas_eve_is_decided_by_the_monday_after_boxing_day(
    db: Session, cast: Cast
) -> None:
    """Rule 2 (1 working day) and rule 3 (45 working days) from Wednesday 24 December 2025:
    Christmas Day, Boxing Day, the weekend and New Year's Day do not count."""
    with clock.frozen_at(at(2025, 12, 22, 9, 30)):
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    with clock.frozen_at(at(2025, 12, 24, 11, 0)):
        take(db, case, "accept_referral", by=cast.mash_officer)

    deadlines = deadlines_of(db, case)
    referral = deadlines["referral_decision"]
    assessment = deadlines["assessment_authorised"]
    assert (referral.start_date, referral.due_date) == (date(2025, 12, 24), date(2025, 12, 29))
    assert (referral.rule_id, assessment.rule_id) == ("TS2", "TS3")
    assert "Working Together" in referral.source
    assert "8670Q" in assessment.source
    assert (assessment.start_date, assessment.due_date) == (date(2025, 12, 24), date(2026, 3, 2))
    assert deadlines["contact_decision"].met_date == date(2025, 12, 24)


def test_a_referral_dated_earlier_than_its_recording_counts_from_the_referral_date(
    db: Session, cast: Cast
) -> None:
    with clock.frozen_at(at(2025, 12, 22, 9, 30)):
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    with clock.frozen_at(at(2025, 12, 29, 9, 0)):
        take(
            db, case, "accept_referral", by=cast.mash_officer, data={"referral_date": "2025-12-24"}
        )
    assert deadlines_of(db, case)["referral_decision"].due_date == date(2025, 12, 29)


@pytest.mark.parametrize(
    ("received", "due_at"),
    [
        # Friday 15:30: 1½ hours on Friday, 2½ on Monday.
        (at(2025, 11, 28, 15, 30), at(2025, 12, 1, 11, 30)),
        # Friday before the early May bank holiday (BST): Monday 4 May 2026 does not count.
        (at(2026, 5, 1, 15, 30), at(2026, 5, 5, 11, 30)),
        # Saturday evening: the clock starts at 09:00 on Monday.
        (at(2025, 11, 29, 20, 0), at(2025, 12, 1, 13, 0)),
        # Christmas Eve afternoon: next working hours are on Monday 29 December.
        (at(2025, 12, 24, 16, 0), at(2025, 12, 29, 12, 0)),
    ],
)
def test_a_red_contact_must_be_decided_within_four_working_hours(
    db: Session, cast: Cast, received: datetime, due_at: datetime
) -> None:
    with clock.frozen_at(received):
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team, rag="red")
    contact = deadlines_of(db, case)["contact_decision"]
    assert contact.due_at == due_at.astimezone(UTC)
    assert contact.due_date == due_at.date()
    assert contact.start_date == received.date()
    assert contact.rule_id == "TS1"


@pytest.mark.parametrize(
    ("rag", "received", "due"),
    [
        ("amber", at(2025, 11, 29, 10, 0), date(2025, 12, 1)),  # Saturday → Monday
        ("amber", at(2025, 12, 24, 10, 0), date(2025, 12, 29)),
        ("green", at(2025, 12, 24, 10, 0), date(2025, 12, 31)),
        ("green", at(2026, 4, 2, 10, 0), date(2026, 4, 9)),  # over Good Friday and Easter Monday
    ],
)
def test_amber_and_green_contacts_count_working_days(
    db: Session, cast: Cast, rag: str, received: datetime, due: date
) -> None:
    with clock.frozen_at(received):
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team, rag=rag)
    contact = deadlines_of(db, case)["contact_decision"]
    assert (contact.due_date, contact.due_at) == (due, None)


def test_a_council_sets_its_own_contact_timescales(db: Session, cast: Cast) -> None:
    settings = Settings(
        environment=Environment.development,
        contact_decision_red_hours=2,
        contact_decision_green_days=5,
    )
    with clock.frozen_at(at(2025, 11, 28, 15, 30)):
        red = open_case(
            db, by=cast.mash_officer, child=cast.child, team=cast.team, rag="red", settings=settings
        )
    assert deadlines_of(db, red)["contact_decision"].due_at == at(2025, 12, 1, 9, 30)


def test_a_contact_decision_goes_from_due_to_overdue_to_missed(db: Session, cast: Cast) -> None:
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):  # Monday, amber: due Tuesday
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    contact = deadlines_of(db, case)["contact_decision"]
    assert contact.due_date == date(2025, 11, 25)
    assert deadline_status(contact, date(2025, 11, 24)) is DeadlineStatus.due
    assert deadline_status(contact, date(2025, 11, 25)) is DeadlineStatus.due
    assert deadline_status(contact, date(2025, 11, 26)) is DeadlineStatus.overdue
    with clock.frozen_at(at(2025, 11, 26, 9, 0)):
        take(db, case, "accept_referral", by=cast.mash_officer)
    assert contact.met_date == date(2025, 11, 26)
    assert deadline_status(contact, date(2025, 11, 26)) is DeadlineStatus.missed
    assert deadline_status(contact, date(2026, 1, 1)) is DeadlineStatus.missed


def test_a_contact_decided_on_its_due_day_is_met(db: Session, cast: Cast) -> None:
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    with clock.frozen_at(at(2025, 11, 25, 16, 59)):
        take(db, case, "nfa_contact", by=cast.mash_officer)
    contact = deadlines_of(db, case)["contact_decision"]
    assert deadline_status(contact, date(2025, 12, 25)) is DeadlineStatus.met


def test_each_step_meets_the_deadline_that_waited_for_it(db: Session, cast: Cast) -> None:
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):
        case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
        take(db, case, "accept_referral", by=cast.manager)
    with clock.frozen_at(at(2025, 11, 25, 10, 0)):
        take(db, case, "start_assessment", by=cast.manager)
    deadlines = deadlines_of(db, case)
    assert deadlines["referral_decision"].met_date == date(2025, 11, 25)
    assert deadlines["assessment_authorised"].met_date is None
    assert deadlines["assessment_authorised"].due_date == date(2026, 1, 29)
    with clock.frozen_at(at(2026, 1, 28, 16, 0)):
        take(db, case, "start_cin_plan", by=cast.manager)
    # A plan starting does not meet the assessment: the assessment module meets it when a manager
    # authorises the assessment (rule 3), which a strategy discussion may run alongside.
    assert deadlines["assessment_authorised"].met_date is None
    with clock.frozen_at(at(2026, 1, 29, 16, 0)):  # the 45th working day: still on time
        deadline_meet(
            db,
            subject_type="case",
            subject_id=case.id,
            kind=DeadlineKind.assessment_authorised,
            met_date=clock.today(),
        )
    today = date(2026, 2, 2)
    assert {k: deadline_status(d, today) for k, d in deadlines.items()} == {
        "contact_decision": DeadlineStatus.met,
        "referral_decision": DeadlineStatus.met,
        "assessment_authorised": DeadlineStatus.met,
        # Rule 37: no manager's oversight on the file within 6 weeks of the referral.
        "management_oversight": DeadlineStatus.overdue,
    }


@pytest.mark.parametrize("event", ["start_strategy", "referral_nfa"])
def test_a_strategy_discussion_or_no_further_action_decides_the_referral(
    db: Session, cast: Cast, event: str
) -> None:
    """Rule 2: the type of response is decided by an assessment, a strategy discussion or NFA."""
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):
        case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
        take(db, case, "accept_referral", by=cast.manager)
    with clock.frozen_at(at(2025, 11, 26, 10, 0)):  # a day late
        take(db, case, event, by=cast.manager)
    deadlines = deadlines_of(db, case)
    assert deadlines["referral_decision"].met_date == date(2025, 11, 26)
    assert deadline_status(deadlines["referral_decision"], date(2025, 12, 1)) is (
        DeadlineStatus.missed
    )
    assessment = deadline_status(deadlines["assessment_authorised"], date(2025, 12, 1))
    # A strategy discussion leaves the assessment running; NFA closes the case and stops it.
    assert assessment is (
        DeadlineStatus.due if event == "start_strategy" else DeadlineStatus.stopped
    )


def test_closing_the_case_stops_every_open_clock(db: Session, cast: Cast) -> None:
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):
        case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
        take(db, case, "accept_referral", by=cast.manager)
    with clock.frozen_at(at(2025, 12, 10, 10, 0)):
        take(db, case, "close", by=cast.manager)
    deadlines = deadlines_of(db, case)
    today = date(2026, 6, 1)
    assert {k: deadline_status(d, today) for k, d in deadlines.items()} == {
        "contact_decision": DeadlineStatus.met,
        "referral_decision": DeadlineStatus.stopped,
        "assessment_authorised": DeadlineStatus.stopped,
        "management_oversight": DeadlineStatus.stopped,
    }
    assert deadlines["assessment_authorised"].stopped_date == date(2025, 12, 10)


def test_the_sql_status_agrees_with_the_python_status_for_every_kind_of_row(
    db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    due = date(2025, 11, 25)
    made = []
    for met, stopped, due_at in itertools.product(
        (None, date(2025, 11, 24), due, date(2025, 11, 26)),
        (None, date(2025, 11, 24)),
        (None, at(2025, 11, 25, 13, 0)),
    ):
        deadline = deadline_open(
            db,
            rule=rules.CONTACT_DECISION,
            subject_type="test",
            subject_id=case.id,
            case_id=case.id,
            child_id=cast.child.id,
            start_date=date(2025, 11, 24),
            due_date=due,
            due_at=due_at,
        )
        deadline.met_date, deadline.stopped_date = met, stopped
        made.append(deadline)
    db.flush()
    ids = [d.id for d in made]
    moments = [
        (date(2025, 11, 24), None),
        (due, None),
        (due, at(2025, 11, 25, 12, 59)),
        (due, at(2025, 11, 25, 13, 1)),
        (date(2025, 11, 26), at(2025, 11, 26, 9, 0)),
    ]
    for today, now in moments:
        expr = dict(
            db.execute(
                select(Deadline.id, deadline_status_expr(today, now=now)).where(
                    Deadline.id.in_(ids)
                )
            ).all()
        )
        for deadline in made:
            expected = deadline_status(deadline, today, now=now)
            assert expr[deadline.id] == expected.value
            for status in DeadlineStatus:
                matched = db.scalar(
                    select(Deadline.id).where(
                        Deadline.id == deadline.id, deadline_status_clause(status, today, now=now)
                    )
                )
                assert (matched is not None) == (status is expected), (deadline, status, today)


def test_a_red_contact_is_overdue_the_moment_its_four_hours_are_up(db: Session, cast: Cast) -> None:
    with clock.frozen_at(at(2025, 11, 24, 9, 0)):
        case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team, rag="red")
    contact = deadlines_of(db, case)["contact_decision"]
    today = date(2025, 11, 24)
    assert deadline_status(contact, today, now=at(2025, 11, 24, 13, 0)) is DeadlineStatus.due
    assert deadline_status(contact, today, now=at(2025, 11, 24, 13, 1)) is DeadlineStatus.overdue
    assert deadline_status(contact, today) is DeadlineStatus.due  # day granularity without now


def test_every_rule_cites_its_number_and_source() -> None:
    for kind, rule in rules.RULES.items():
        assert rule.kind is kind
        assert rule.rule_id.startswith("TS")
        assert f"rule {rule.rule_id.removeprefix('TS')}" in rule.source
    assert set(rules.RULES) == {
        DeadlineKind.contact_decision,
        DeadlineKind.referral_decision,
        DeadlineKind.assessment_authorised,
    }
