"""The practice scorecard: is oversight on each case and supervision of each worker happening in
time, how do audits grade each team's work, and are audit actions done by the date agreed — each
figure a numerator over a denominator that a manager can check by hand, with its rule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.deadlines.practice_rules import AUDIT_ACTION, MANAGEMENT_OVERSIGHT, SUPERVISION
from app.deadlines.service import deadline_open, deadlines_stop
from app.models import Case, Role, Team, TeamKind, TeamMembership, UserAccount
from app.models.audit import AccessLog
from app.models.audits import AuditGrade, AuditTool, CaseAudit, ModerationOutcome
from app.models.deadlines import Deadline, DeadlineKind
from tests.care.factories import noon, principal
from tests.factories import auth_headers, make_child, make_team, make_user

TODAY = date(2026, 6, 15)  # a Monday
MAY = "2026-05"


@dataclass
class World:
    north: Team
    south: Team
    quiet: Team
    manager: UserAccount
    workers: dict[str, UserAccount]
    cases: dict[str, Case]
    tool: AuditTool


def _case(db: Session, team: Team, manager: UserAccount, worker: UserAccount, name: str) -> Case:
    """A contact accepted as a referral on 5 January. The oversight clock the referral starts is
    met that day (so only the deadlines each test makes are in play)."""
    child = make_child(db, first_name=name)
    actor = principal(db, manager)
    with clock.frozen_at(noon(date(2026, 1, 5))):
        case = case_service.case_open(
            db,
            actor=actor,
            child_id=child.id,
            team_id=team.id,
            opened_date=date(2026, 1, 5),
            worker_id=worker.id,
        )
        case = case_service.case_transition(
            db, actor=actor, case_id=case.id, event="accept_referral", expected_version=case.version
        )
    for clock_started in db.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.kind == DeadlineKind.management_oversight
        )
    ):
        clock_started.met_date = clock_started.start_date
    return case


def _oversight(db: Session, case: Case, due: date, *, met: date | None = None) -> Deadline:
    deadline = deadline_open(
        db,
        rule=MANAGEMENT_OVERSIGHT,
        subject_type="case",
        subject_id=case.id,
        case_id=case.id,
        child_id=case.child_id,
        start_date=date(2026, 1, 5),
        due_date=due,
    )
    deadline.met_date = met
    return deadline


def _supervision(db: Session, worker: UserAccount, due: date, *, met: date | None = None) -> None:
    deadline = deadline_open(
        db,
        rule=SUPERVISION,
        subject_type="user",
        subject_id=worker.id,
        case_id=None,
        child_id=None,
        start_date=date(2026, 1, 5),
        due_date=due,
    )
    deadline.met_date = met


def _action(db: Session, case: Case, due: date, *, met: date | None = None) -> None:
    deadline = deadline_open(
        db,
        rule=AUDIT_ACTION,
        subject_type="audit_action",
        subject_id=uuid.uuid4(),
        case_id=case.id,
        child_id=case.child_id,
        start_date=date(2026, 4, 1),
        due_date=due,
    )
    deadline.met_date = met


def _audit(
    db: Session,
    world: World,
    case: Case,
    *,
    submitted_at: datetime | None,
    grade: AuditGrade | None,
    moderated: AuditGrade | None = None,
) -> None:
    db.add(
        CaseAudit(
            tool_id=world.tool.id,
            case_id=case.id,
            child_id=case.child_id,
            team_id=case.team_id,
            state="moderated" if moderated else ("submitted" if submitted_at else "assigned"),
            overall_grade=grade,
            submitted_at=submitted_at,
            moderation_outcome=ModerationOutcome.adjusted if moderated else None,
            moderated_grade=moderated,
        )
    )


def _may(day: int) -> date:
    return date(2026, 5, day)


@pytest.fixture
def world(db: Session) -> World:
    """Two teams with work in May 2026 and a quiet team with none; today is 15 June 2026."""
    north = make_team(db, name="North", kind=TeamKind.cin_cp)
    south = make_team(db, name="South", kind=TeamKind.cin_cp)
    quiet = make_team(db, name="Quiet", kind=TeamKind.cin_cp)
    manager = make_user(db, Role.team_manager, team=north, manager=True)
    south_manager = make_user(db, Role.team_manager, team=south, manager=True)
    ann = make_user(db, Role.social_worker, team=north)  # also a member of South
    db.add(
        TeamMembership(team_id=south.id, user_id=ann.id, start_date=date(2025, 1, 1)),
    )
    bea = make_user(db, Role.social_worker, team=north)
    cal = make_user(db, Role.social_worker, team=south)
    # Cal was in North until January: his supervision counts for South, his team now.
    db.add(
        TeamMembership(
            team_id=north.id, user_id=cal.id, start_date=date(2024, 1, 1), end_date=date(2026, 1, 1)
        )
    )
    tool = AuditTool(name="Case file audit")
    db.add(tool)
    db.flush()
    cases = {
        "n1": _case(db, north, manager, ann, "Nia"),
        "n2": _case(db, north, manager, bea, "Noor"),
        "n_closed": _case(db, north, manager, bea, "Nell"),
        "s1": _case(db, south, south_manager, cal, "Sam"),
    }
    # A contact about Nat, not yet decided: no case file to oversee yet.
    with clock.frozen_at(noon(TODAY)):
        case_service.case_open(
            db,
            actor=principal(db, manager),
            child_id=make_child(db, first_name="Nat").id,
            team_id=north.id,
            opened_date=TODAY,
            worker_id=ann.id,
        )
    closed = cases["n_closed"]
    with clock.frozen_at(noon(date(2026, 2, 2))):
        case_service.case_transition(
            db,
            actor=principal(db, manager),
            case_id=closed.id,
            event="referral_nfa",
            expected_version=closed.version,
            reason="No further action: the family's needs are met by universal services.",
        )
    return World(north, south, quiet, manager, {"ann": ann, "bea": bea, "cal": cal}, cases, tool)


def _get(client: TestClient, db: Session, user: UserAccount, **params: str) -> Any:
    with clock.frozen_at(noon(TODAY)):
        response = client.get(
            "/api/v1/practice/measures", params=params, headers=auth_headers(db, user)
        )
    assert response.status_code == 200, response.text
    return response.json()


def _team(body: Any, name: str) -> Any:
    (team,) = [t for t in body["teams"] if t["team_name"] == name]
    return team["measures"]


def _figure(measure: Any) -> tuple[int, int, float | None]:
    return measure["numerator"], measure["denominator"], measure["percent"]


def test_management_oversight_in_time_counts_met_over_met_missed_and_overdue(
    client: TestClient, db: Session, world: World
) -> None:
    n1, n2, n_closed, s1 = (world.cases[k] for k in ("n1", "n2", "n_closed", "s1"))
    # North, due in May: met early, met late, still not done, and stopped (its case closed).
    _oversight(db, n1, _may(5), met=_may(4))
    _oversight(db, n2, _may(10), met=_may(12))
    _oversight(db, n1, _may(20))
    _oversight(db, n_closed, _may(25))
    deadlines_stop(db, case_id=n_closed.id, on=_may(24))
    # North in June: one overdue today, one due later this month (not counted yet).
    _oversight(db, n1, date(2026, 6, 1))
    _oversight(db, n2, date(2026, 6, 20))
    # South: met on its due day in May, and in April.
    _oversight(db, s1, _may(15), met=_may(15))
    _oversight(db, s1, date(2026, 4, 10), met=date(2026, 4, 9))
    db.commit()

    body = _get(client, db, world.manager, month=MAY)

    assert body["month"] == MAY
    assert body["as_of"] == TODAY.isoformat()
    north, south = _team(body, "North"), _team(body, "South")
    # North: 1 met of (1 met + 1 missed + 1 overdue); the stopped one does not count.
    assert _figure(north["management_oversight"]) == (1, 3, 33.3)
    assert north["management_oversight"]["rule_id"] == "TS37"
    assert _figure(south["management_oversight"]) == (1, 1, 100.0)
    # The council: met 2 (one each) of 4.
    assert _figure(body["council"]["management_oversight"]) == (2, 4, 50.0)
    # A quiet team has nothing to count: no percentage, not a division by zero.
    assert _figure(_team(body, "Quiet")["management_oversight"]) == (0, 0, None)

    # The trend: twelve months to May, oldest first.
    trend = south["management_oversight"]["trend"]
    months = [p["month"] for p in trend]
    assert (len(months), months[0], months[-1]) == (12, "2025-06", MAY)
    assert (trend[-2]["month"], trend[-2]["numerator"], trend[-2]["denominator"]) == (
        "2026-04",
        1,
        1,
    )
    assert trend[0]["percent"] is None

    # June so far: North's overdue one counts (0 of 1); the one due on the 20th does not yet.
    june = _get(client, db, world.manager, month="2026-06")
    assert _figure(_team(june, "North")["management_oversight"]) == (0, 1, 0.0)

    # Today: of North's two open cases (the closed one is not counted, nor is a contact not yet
    # accepted), Nia's oversight is overdue and Noor's is not; South's one open case is not.
    assert _figure(north["oversight_today"]) == (1, 2, 50.0)
    assert north["oversight_today"]["trend"] == []
    assert _figure(south["oversight_today"]) == (1, 1, 100.0)
    assert _figure(body["council"]["oversight_today"]) == (2, 3, 66.7)


def test_supervision_in_time_counts_the_teams_current_members(
    client: TestClient, db: Session, world: World
) -> None:
    ann, bea, cal = (world.workers[k] for k in ("ann", "bea", "cal"))
    _supervision(db, ann, _may(8), met=_may(8))  # Ann (North and South): on time
    _supervision(db, bea, _may(9))  # Bea (North): not held, overdue
    _supervision(db, cal, _may(12), met=_may(20))  # Cal (South, formerly North): late
    _supervision(db, bea, date(2026, 6, 30))  # due later: not counted
    db.commit()

    body = _get(client, db, world.manager, month=MAY)

    north, south = _team(body, "North"), _team(body, "South")
    assert _figure(north["supervision"]) == (1, 2, 50.0)  # Ann met, Bea overdue
    assert _figure(south["supervision"]) == (1, 2, 50.0)  # Ann met, Cal missed
    assert north["supervision"]["rule_id"] == "TS36"
    # The council counts each worker's supervision once: Ann, Bea, Cal.
    assert _figure(body["council"]["supervision"]) == (1, 3, 33.3)


def test_audit_grades_by_team_count_the_final_grade_in_the_london_month(
    client: TestClient, db: Session, world: World
) -> None:
    n1, n2, s1 = world.cases["n1"], world.cases["n2"], world.cases["s1"]
    may = datetime(2026, 5, 12, 10, tzinfo=UTC)
    _audit(db, world, n1, submitted_at=may, grade=AuditGrade.good)
    # Graded outstanding, moderated down: requires improvement is the grade that counts.
    _audit(
        db,
        world,
        n2,
        submitted_at=may,
        grade=AuditGrade.outstanding,
        moderated=AuditGrade.requires_improvement,
    )
    _audit(db, world, n1, submitted_at=may, grade=AuditGrade.inadequate)
    _audit(db, world, n2, submitted_at=datetime(2026, 3, 3, 9, tzinfo=UTC), grade=AuditGrade.good)
    _audit(db, world, s1, submitted_at=may, grade=AuditGrade.outstanding)
    _audit(db, world, s1, submitted_at=None, grade=None)  # assigned, not submitted: not counted
    # 23:30 UTC on 31 May is 00:30 on 1 June in London: a June audit.
    _audit(
        db,
        world,
        n1,
        submitted_at=datetime(2026, 5, 31, 23, 30, tzinfo=UTC),
        grade=AuditGrade.good,
    )
    db.commit()

    body = _get(client, db, world.manager, month=MAY)

    north = _team(body, "North")
    month = {g["grade"]: (g["count"], g["percent"]) for g in north["audit_grades_month"]["grades"]}
    assert north["audit_grades_month"]["submitted"] == 3
    assert month == {
        "outstanding": (0, 0.0),
        "good": (1, 33.3),
        "requires_improvement": (1, 33.3),
        "inadequate": (1, 33.3),
    }
    twelve = {g["grade"]: g["count"] for g in north["audit_grades_12_months"]["grades"]}
    assert twelve == {"outstanding": 0, "good": 2, "requires_improvement": 1, "inadequate": 1}
    assert _figure(north["audits_good_or_better"]) == (1, 3, 33.3)
    assert north["audits_good_or_better"]["rule_id"] is None
    assert _figure(_team(body, "South")["audits_good_or_better"]) == (1, 1, 100.0)
    assert _figure(body["council"]["audits_good_or_better"]) == (2, 4, 50.0)
    quiet = _team(body, "Quiet")["audit_grades_month"]
    assert quiet["submitted"] == 0
    assert {g["percent"] for g in quiet["grades"]} == {None}

    june = _get(client, db, world.manager, month="2026-06")
    assert _figure(_team(june, "North")["audits_good_or_better"]) == (1, 1, 100.0)


def test_audit_actions_overdue_today_and_completed_late_in_the_month(
    client: TestClient, db: Session, world: World
) -> None:
    n1, n2, s1 = world.cases["n1"], world.cases["n2"], world.cases["s1"]
    _action(db, n1, date(2026, 6, 1))  # open, past due today
    _action(db, n2, date(2026, 6, 30))  # open, not yet due
    _action(db, n1, _may(10), met=_may(9))  # done in May, on time
    _action(db, n2, _may(10), met=_may(14))  # done in May, late
    _action(db, s1, _may(20), met=_may(25))  # done in May, late
    db.commit()

    body = _get(client, db, world.manager, month=MAY)

    north, south = _team(body, "North"), _team(body, "South")
    assert _figure(north["actions_overdue"]) == (1, 2, 50.0)
    assert north["actions_overdue"]["rule_id"] == "TS38"
    assert _figure(south["actions_overdue"]) == (0, 0, None)
    assert _figure(north["actions_completed_late"]) == (1, 2, 50.0)
    assert _figure(south["actions_completed_late"]) == (1, 1, 100.0)
    council = body["council"]
    assert _figure(council["actions_overdue"]) == (1, 2, 50.0)
    assert _figure(council["actions_completed_late"]) == (2, 3, 66.7)


def test_one_team_can_be_asked_for_and_the_council_total_still_comes(
    client: TestClient, db: Session, world: World
) -> None:
    _oversight(db, world.cases["n1"], _may(5), met=_may(4))
    _oversight(db, world.cases["s1"], _may(5), met=_may(9))
    db.commit()
    body = _get(client, db, world.manager, month=MAY, team_id=str(world.south.id))
    assert [t["team_name"] for t in body["teams"]] == ["South"]
    assert _figure(_team(body, "South")["management_oversight"]) == (0, 1, 0.0)
    assert _figure(body["council"]["management_oversight"]) == (1, 2, 50.0)


def test_this_month_is_the_default_and_reading_the_figures_logs_no_child(
    client: TestClient, db: Session, world: World
) -> None:
    before = db.scalar(select(func.count()).select_from(AccessLog))
    body = _get(client, db, world.manager)
    assert body["month"] == "2026-06"
    assert db.scalar(select(func.count()).select_from(AccessLog)) == before


@pytest.mark.parametrize("month", ["2026-5", "2026-13", "May 2026", "2026-05-01", "26-05"])
def test_a_month_not_written_yyyy_mm_is_refused_naming_the_field(
    client: TestClient, db: Session, world: World, month: str
) -> None:
    with clock.frozen_at(noon(TODAY)):
        response = client.get(
            "/api/v1/practice/measures",
            params={"month": month},
            headers=auth_headers(db, world.manager),
        )
    assert response.status_code == 422
    assert "month" in response.text


def test_a_month_still_to_come_is_refused(client: TestClient, db: Session, world: World) -> None:
    with clock.frozen_at(noon(TODAY)):
        response = client.get(
            "/api/v1/practice/measures",
            params={"month": "2026-07"},
            headers=auth_headers(db, world.manager),
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "month"


def test_an_unknown_team_is_not_found(client: TestClient, db: Session, world: World) -> None:
    with clock.frozen_at(noon(TODAY)):
        response = client.get(
            "/api/v1/practice/measures",
            params={"team_id": str(uuid.uuid4())},
            headers=auth_headers(db, world.manager),
        )
    assert response.status_code == 404


def test_a_role_without_practice_read_is_refused(client: TestClient, db: Session) -> None:
    administrator = make_user(db, Role.administrator)
    with clock.frozen_at(noon(TODAY)):
        response = client.get("/api/v1/practice/measures", headers=auth_headers(db, administrator))
    assert response.status_code == 403
