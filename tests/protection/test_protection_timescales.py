"""The protection clocks on dates around weekends, bank holidays and month ends (timescales.md
rules 4-10), and the enquiry's endings that need no conference."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.core_types import Sex
from app.deadlines.service import deadline_status
from app.models import Case, Deadline, DeadlineKind, DeadlineStatus, Person, PersonKind
from app.models.cin import CINPlan
from app.protection import service as protection_service
from app.protection import timescales
from tests.protection.factories import (
    Cast,
    conclude,
    deadlines,
    discuss,
    icpc,
    principal,
    referred_case,
    start_s47,
)


def at(day: date) -> Any:
    return clock.frozen_at(datetime(day.year, day.month, day.day, 10, tzinfo=UTC))


def test_the_clocks_count_working_days_over_easter_and_calendar_months_to_the_month_end() -> None:
    # Rule 5 across Good Friday (3 April 2026) and Easter Monday (6 April 2026).
    assert timescales.icpc_target(date(2026, 4, 2)) == date(2026, 4, 27)
    # Rule 4 from a concern on Maundy Thursday: the Tuesday after Easter.
    assert timescales.strategy_discussion_due(date(2026, 4, 2)) == date(2026, 4, 7)
    # ... and from a Saturday concern: the Monday.
    assert timescales.strategy_discussion_due(date(2026, 3, 7)) == date(2026, 3, 9)
    # Rule 6 over Christmas: ICPC on Monday 21 December 2026 → Thursday 7 January 2027
    # (25 December, 28 December — Boxing Day substitute — and 1 January are bank holidays).
    assert timescales.core_group_first_due(date(2026, 12, 21)) == date(2027, 1, 7)
    # Rules 7 and 8 clamp to the month's last day.
    assert timescales.rcpc_first_due(date(2026, 8, 31)) == date(2026, 11, 30)
    assert timescales.rcpc_due(date(2026, 8, 31)) == date(2027, 2, 28)
    assert timescales.rcpc_due(date(2027, 8, 31)) == date(2028, 2, 29)
    assert timescales.core_group_due(date(2026, 5, 7)) == date(2026, 6, 18)
    assert timescales.cp_visit_due(date(2026, 12, 24)) == date(2027, 1, 12)


def test_a_strategy_discussion_asked_for_before_easter_and_held_after_it_is_late(
    client: TestClient, db: Session, cast: Cast
) -> None:
    with at(date(2026, 4, 2)):
        case = referred_case(db, cast, opened=date(2026, 4, 2))
        due = protection_service.strategy_discussion_due(
            db, actor=principal(db, cast.manager), case_id=case.id, concern_date=date(2026, 4, 2)
        )
        again = protection_service.strategy_discussion_due(
            db, actor=principal(db, cast.manager), case_id=case.id, concern_date=date(2026, 4, 2)
        )
    assert again is due
    assert (due.rule_id, due.due_date) == ("TS4", date(2026, 4, 7))
    with at(date(2026, 4, 8)):
        held = discuss(
            client, cast.headers(db), case.id, held=date(2026, 4, 8), concern=date(2026, 4, 2)
        )
    assert held.status_code == 201, held.json()
    db.expire_all()
    [met] = deadlines(db, subject_id=case.id)["strategy_discussion"]
    assert (met.id, met.met_date) == (due.id, date(2026, 4, 8))
    assert deadline_status(met, date(2026, 4, 8)) is DeadlineStatus.missed


def test_an_enquiry_that_needs_no_conference_stops_its_clock_and_the_assessment_goes_on(
    client: TestClient, db: Session, cast: Cast
) -> None:
    headers = cast.headers(db)
    with at(date(2026, 4, 2)):
        case = referred_case(db, cast, opened=date(2026, 4, 2))
        discussion = discuss(client, headers, case.id, held=date(2026, 4, 2))
        s47 = start_s47(client, headers, case.id, discussion.json()["id"], date(2026, 4, 2))
    with at(date(2026, 4, 14)):
        concluded = conclude(
            client, headers, s47.json(), on=date(2026, 4, 14), outcome="icpc_not_required"
        )
        too_late = icpc(client, headers, s47.json()["id"], on=date(2026, 4, 14))
    assert concluded.status_code == 200, concluded.json()
    assert (concluded.json()["state"], concluded.json()["outcome"]) == (
        "concluded",
        "icpc_not_required",
    )
    assert too_late.status_code == 409
    db.expire_all()
    [clock_] = deadlines(db, subject_id=s47.json()["id"])["icpc_held"]
    assert deadline_status(clock_, date(2026, 5, 1)) is DeadlineStatus.stopped
    assert db.get(Case, case.id).state == "assessment"  # type: ignore[union-attr]


def test_an_enquiry_that_ends_in_a_cin_plan_starts_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    headers = cast.headers(db)
    with at(date(2026, 4, 2)):
        case = referred_case(db, cast, opened=date(2026, 4, 2))
        discussion = discuss(client, headers, case.id, held=date(2026, 4, 2))
        s47 = start_s47(client, headers, case.id, discussion.json()["id"], date(2026, 4, 2))
    with at(date(2026, 4, 14)):
        concluded = conclude(
            client,
            headers,
            s47.json(),
            on=date(2026, 4, 14),
            outcome="icpc_not_required",
            next_step="cin_plan",
        )
    assert concluded.status_code == 200, concluded.json()
    db.expire_all()
    assert db.get(Case, case.id).state == "cin_plan"  # type: ignore[union-attr]
    [plan] = db.scalars(select(CINPlan).where(CINPlan.child_id == cast.child.id))
    assert (plan.state, plan.start_date) == ("active", date(2026, 4, 14))


def test_a_pre_birth_conference_for_an_unborn_child_decides_a_plan(
    client: TestClient, db: Session, cast: Cast
) -> None:
    unborn = Person(
        kind=PersonKind.child,
        first_name="Baby",
        last_name="Example",
        search_first_name="baby",
        search_last_name="example",
        expected_date_of_birth=date(2026, 8, 1),
        sex=Sex.UNKNOWN,
    )
    db.add(unborn)
    db.flush()
    headers = cast.headers(db)
    with at(date(2026, 4, 2)):
        case = referred_case(db, cast, opened=date(2026, 4, 2), child=unborn)
        discussion = discuss(client, headers, case.id, held=date(2026, 4, 2))
        s47 = start_s47(client, headers, case.id, discussion.json()["id"], date(2026, 4, 2))
        conclude(client, headers, s47.json(), on=date(2026, 4, 2))
    with at(date(2026, 4, 20)):
        held = icpc(client, headers, s47.json()["id"], on=date(2026, 4, 20), category="PHY")
    assert held.status_code == 201, held.json()
    assert held.json()["cp_plan_id"] is not None
    # Rule 12: 28 weeks' gestation for a baby due on 1 August 2026 is 9 May 2026; the conference
    # on 20 April met it.
    pre_birth = db.scalars(
        select(Deadline).where(
            Deadline.subject_id == uuid.UUID(s47.json()["id"]),
            Deadline.kind == DeadlineKind.pre_birth_conference,
        )
    ).one()
    assert (pre_birth.rule_id, pre_birth.due_date) == ("TS12", date(2026, 5, 9))
    assert deadline_status(pre_birth, date(2026, 4, 20)) is DeadlineStatus.met


def test_a_concern_late_in_pregnancy_makes_the_pre_birth_conference_due_at_once() -> None:
    """Rule 12 cannot ask for a conference before the concern: it is then due straight away."""
    discussed = date(2026, 7, 1)
    assert timescales.pre_birth_conference_due(date(2026, 8, 1), not_before=discussed) == discussed
    assert timescales.pre_birth_conference_due(date(2026, 12, 25), not_before=discussed) == date(
        2026, 10, 2
    )


def test_deciding_on_a_strategy_discussion_on_a_friday_wants_it_by_monday(
    db: Session, cast: Cast
) -> None:
    """Rule 4 (1 working day, council default) starts when the referral decision is taken, so a
    case waiting in `protection` shows its clock before anyone records the discussion."""
    from app.cases import service as case_service

    friday = date(2026, 5, 29)  # the Monday after is not a bank holiday (25 May was)
    with at(friday):
        case = referred_case(db, cast, opened=friday)
        case_service.case_transition(
            db,
            actor=principal(db, cast.manager),
            case_id=case.id,
            event="start_strategy",
            expected_version=case.version,
        )
    [clock_] = deadlines(db, subject_id=str(case.id))["strategy_discussion"]
    assert (clock_.rule_id, clock_.start_date, clock_.due_date) == ("TS4", friday, date(2026, 6, 1))
