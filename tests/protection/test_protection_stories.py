"""Stories of a child's protection journey: strategy discussion, section 47 enquiry, initial
conference, CP plan with its core groups, visits and reviews (Working Together 2018/2023;
timescales rules 4-10; CIN census rules 2884, 2885, 8841, 8875, 8935)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.cin import service as cin_service
from app.core_types import CategoryOfAbuse
from app.deadlines.service import deadline_status
from app.models import AccessLog, Case, CaseEvent, DeadlineStatus
from app.models.protection import CPPlan
from tests.factories import auth_headers, make_child
from tests.protection.factories import (
    Cast,
    conclude,
    deadlines,
    discuss,
    icpc,
    principal,
    referred_case,
    review,
    start_s47,
)

MAUNDY_THURSDAY = date(2026, 4, 2)  # Good Friday 3 April and Easter Monday 6 April follow
ICPC_TARGET = date(2026, 4, 27)  # 15 working days later, across Easter


def at(day: date, hour: int = 10) -> Any:
    return clock.frozen_at(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


def _to_icpc(
    client: TestClient, db: Session, cast: Cast, *, discussed: date, case: Case | None = None
) -> tuple[Case, dict[str, Any]]:
    """A referred case, a strategy discussion on ``discussed`` that starts a s47 the same day, and
    the enquiry concluded with a conference needed: ready for its ICPC."""
    headers = cast.headers(db)
    with at(discussed):
        case = case or referred_case(db, cast, opened=discussed)
        discussion = discuss(client, headers, case.id, held=discussed)
        assert discussion.status_code == 201, discussion.json()
        s47 = start_s47(client, headers, case.id, discussion.json()["id"], discussed)
        assert s47.status_code == 201, s47.json()
        concluded = conclude(client, headers, s47.json(), on=discussed)
        assert concluded.status_code == 200, concluded.json()
    return case, concluded.json()


def _plan(
    client: TestClient, db: Session, cast: Cast, *, discussed: date, conference: date
) -> tuple[Case, dict[str, Any]]:
    case, s47 = _to_icpc(client, db, cast, discussed=discussed)
    with at(conference):
        held = icpc(client, cast.headers(db), s47["id"], on=conference)
        assert held.status_code == 201, held.json()
        plan = client.get(f"/api/v1/cp-plans/{held.json()['cp_plan_id']}", headers=cast.headers(db))
    assert plan.status_code == 200, plan.json()
    return case, plan.json()


def test_police_health_and_social_care_meet_before_easter_and_the_icpc_is_due_after_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    headers = cast.headers(db)
    with at(MAUNDY_THURSDAY):
        case = referred_case(db, cast, opened=date(2026, 4, 1))
        discussion = discuss(
            client, headers, case.id, held=MAUNDY_THURSDAY, concern=date(2026, 4, 1)
        )
        assert discussion.status_code == 201, discussion.json()
        body = discussion.json()
        assert [p["agency"] for p in body["participants"]] == ["social_care", "police", "health"]
        assert discussion.headers["ETag"] == '"1"'
        db.expire_all()
        assert db.get(Case, case.id).state == "protection"  # type: ignore[union-attr]
        enquiry = start_s47(client, headers, case.id, body["id"], MAUNDY_THURSDAY)

    assert enquiry.status_code == 201, enquiry.json()
    s47 = enquiry.json()
    assert (s47["state"], s47["icpc_target_date"]) == ("open", ICPC_TARGET.isoformat())
    icpc_clock = deadlines(db, subject_id=s47["id"])["icpc_held"][0]
    assert (icpc_clock.rule_id, icpc_clock.start_date, icpc_clock.due_date) == (
        "TS5",
        MAUNDY_THURSDAY,
        ICPC_TARGET,
    )
    # Rule 4: nobody asked for the discussion in advance, so its clock opens from the concern
    # (1 April) and is met by the discussion the next working day.
    strategy = deadlines(db, subject_id=case.id)["strategy_discussion"][0]
    assert (strategy.due_date, strategy.met_date) == (date(2026, 4, 2), MAUNDY_THURSDAY)
    with at(MAUNDY_THURSDAY):
        seen = client.get(f"/api/v1/strategy-discussions/{body['id']}", headers=headers)
    assert seen.status_code == 200
    assert seen.json()["start_s47"] is True
    actions = list(
        db.scalars(
            select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )
    assert actions[-3:] == ["start_strategy", "strategy_discussion_held", "s47_started"]


def test_a_strategy_discussion_without_the_police_cannot_start_a_section_47(
    client: TestClient, db: Session, cast: Cast
) -> None:
    headers = cast.headers(db)
    no_police = [
        {"agency": "social_care", "name": "Sam Social Worker"},
        {"agency": "health", "name": "Dr Okafor"},
    ]
    with at(MAUNDY_THURSDAY):
        case = referred_case(db, cast, opened=MAUNDY_THURSDAY)
        refused = discuss(client, headers, case.id, held=MAUNDY_THURSDAY, participants=no_police)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "participants"
        assert "police" in refused.json()["detail"]
        # Recorded as it happened (no s47 decided), it cannot start one either.
        recorded = discuss(
            client,
            headers,
            case.id,
            held=MAUNDY_THURSDAY,
            participants=no_police,
            start_s47=False,
            decision_reason="Police unavailable; reconvene tomorrow.",
        )
        assert recorded.status_code == 201, recorded.json()
        enquiry = start_s47(client, headers, case.id, recorded.json()["id"], MAUNDY_THURSDAY)
    assert enquiry.status_code == 409
    assert enquiry.json()["missing_agencies"] == ["police"]


def test_an_icpc_is_never_held_on_a_saturday(client: TestClient, db: Session, cast: Cast) -> None:
    _case, s47 = _to_icpc(client, db, cast, discussed=MAUNDY_THURSDAY)
    with at(date(2026, 4, 27)):
        refused = icpc(client, cast.headers(db), s47["id"], on=date(2026, 4, 25))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "8875"
    assert "8875" in refused.json()["detail"]


def test_an_icpc_before_the_strategy_discussion_is_refused(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _case, s47 = _to_icpc(client, db, cast, discussed=MAUNDY_THURSDAY)
    with at(date(2026, 4, 27)):
        refused = icpc(client, cast.headers(db), s47["id"], on=date(2026, 4, 1))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "conference_date"


@pytest.mark.parametrize(
    ("held", "status"),
    [(ICPC_TARGET, DeadlineStatus.met), (date(2026, 4, 28), DeadlineStatus.missed)],
)
def test_an_icpc_on_time_meets_its_deadline_and_a_late_one_misses_it(
    client: TestClient, db: Session, cast: Cast, held: date, status: DeadlineStatus
) -> None:
    _case, s47 = _to_icpc(client, db, cast, discussed=MAUNDY_THURSDAY)
    with at(held):
        response = icpc(client, cast.headers(db), s47["id"], on=held, outcome="no_further_action")
        assert response.status_code == 201, response.json()
        again = icpc(client, cast.headers(db), s47["id"], on=held, outcome="no_further_action")
    assert again.status_code == 409  # one initial conference per enquiry (CIN census 2884)
    db.expire_all()
    clock_ = deadlines(db, subject_id=s47["id"])["icpc_held"][0]
    assert deadline_status(clock_, held) is status


def test_the_icpc_decides_a_neglect_plan_and_its_clocks_start(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case, plan = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    assert (plan["start_date"], plan["initial_category"], plan["latest_category"]) == (
        "2026-04-27",
        "NEG",
        "NEG",
    )
    assert (plan["state"], plan["number_of_previous_cp_plans"]) == ("active", 0)
    db.expire_all()
    assert db.get(Case, case.id).state == "cp_plan"  # type: ignore[union-attr]
    clocks = deadlines(db, subject_id=plan["id"])
    # Rule 6: 10 working days, skipping the early May bank holiday (4 May 2026).
    assert clocks["core_group_first"][0].due_date == date(2026, 5, 12)
    assert clocks["rcpc_first"][0].due_date == date(2026, 7, 27)  # rule 7: 3 months
    assert clocks["cp_visit"][0].due_date == date(2026, 5, 12)  # rule 9: 10 working days


def test_a_plan_started_on_31_august_has_its_first_review_on_30_november(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _case, plan = _plan(client, db, cast, discussed=date(2027, 8, 16), conference=date(2027, 8, 31))
    assert deadlines(db, subject_id=plan["id"])["rcpc_first"][0].due_date == date(2027, 11, 30)


def test_starting_a_cp_plan_ends_the_open_cin_plan_the_same_day(
    client: TestClient, db: Session, cast: Cast
) -> None:
    with at(date(2026, 3, 2)):
        case = referred_case(db, cast, opened=date(2026, 3, 2))
        actor = principal(db, cast.manager)
        case_service.case_transition(
            db,
            actor=actor,
            case_id=case.id,
            event="start_assessment",
            expected_version=case.version,
        )
        cin_plan = cin_service.cin_plan_start(
            db, actor=actor, case_id=case.id, start_date=date(2026, 3, 2)
        )
    # New concerns while the child is on a CIN plan: strategy discussion, s47, conference.
    _case, s47 = _to_icpc(client, db, cast, discussed=MAUNDY_THURSDAY, case=case)
    with at(ICPC_TARGET):
        held = icpc(client, cast.headers(db), s47["id"], on=ICPC_TARGET)
    assert held.status_code == 201, held.json()
    db.expire_all()
    assert (cin_plan.state, cin_plan.end_date) == ("ended", ICPC_TARGET)
    assert db.get(Case, case.id).state == "cp_plan"  # type: ignore[union-attr]


def test_a_second_cp_plan_while_one_is_open_is_refused(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case, s47 = _to_icpc(client, db, cast, discussed=MAUNDY_THURSDAY)
    # A plan still open in the records migrated from the old system.
    db.add(
        CPPlan(
            case_id=case.id,
            child_id=cast.child.id,
            state="active",
            start_date=date(2026, 1, 5),
            initial_category=CategoryOfAbuse.EMO,
            latest_category=CategoryOfAbuse.EMO,
        )
    )
    db.commit()
    with at(ICPC_TARGET):
        refused = icpc(client, cast.headers(db), s47["id"], on=ICPC_TARGET)
    assert refused.status_code == 409
    assert refused.json()["code"] == "cp_plan_already_open"
    assert "8935" in refused.json()["detail"]


def test_core_groups_and_visits_meet_their_clocks_and_start_the_next(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _case, plan = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    headers = cast.headers(db)
    with at(date(2026, 5, 8)):
        core = client.post(
            f"/api/v1/cp-plans/{plan['id']}/core-groups",
            json={"meeting_date": "2026-05-07", "notes": "Plan agreed with the family."},
            headers=headers,
        )
        unseen = client.post(
            f"/api/v1/cp-plans/{plan['id']}/visits",
            json={"visit_date": "2026-05-05", "child_seen": False},
            headers=headers,
        )
        seen = client.post(
            f"/api/v1/cp-plans/{plan['id']}/visits",
            json={"visit_date": "2026-05-08", "child_seen": True, "seen_alone": True},
            headers=headers,
        )
        impossible = client.post(
            f"/api/v1/cp-plans/{plan['id']}/visits",
            json={"visit_date": "2026-05-08", "child_seen": False, "seen_alone": True},
            headers=headers,
        )
    assert (core.status_code, unseen.status_code, seen.status_code) == (201, 201, 201)
    assert impossible.status_code == 422
    db.expire_all()
    clocks = deadlines(db, subject_id=plan["id"])
    assert clocks["core_group_first"][0].met_date == date(2026, 5, 7)
    assert clocks["core_group"][0].due_date == date(2026, 6, 18)  # rule 10: 6 weeks
    first_visit, next_visit = clocks["cp_visit"]
    assert first_visit.met_date == date(2026, 5, 8)  # the unseen visit did not count
    assert next_visit.due_date == date(2026, 5, 22)


def test_a_review_conference_falls_after_the_plan_start(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _case, plan = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    with at(date(2026, 5, 1)):
        refused = review(client, cast.headers(db), plan["id"], on=date(2026, 4, 20), version=1)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "8841"


def test_a_review_changes_the_category_and_sets_the_next_review_six_months_on(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _case, plan = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    with at(date(2026, 7, 20)):
        stale = review(client, cast.headers(db), plan["id"], on=date(2026, 7, 20), version=7)
        held = review(
            client,
            cast.headers(db),
            plan["id"],
            on=date(2026, 7, 20),
            version=plan["version"],
            latest_category="MUL",
        )
    assert stale.status_code == 412
    assert held.status_code == 201, held.json()
    assert held.json()["cp_plan"]["latest_category"] == "MUL"
    assert held.json()["cp_plan"]["initial_category"] == "NEG"
    assert held.headers["ETag"] == f'"{held.json()["cp_plan"]["version"]}"'
    db.expire_all()
    clocks = deadlines(db, subject_id=plan["id"])
    assert clocks["rcpc_first"][0].met_date == date(2026, 7, 20)
    assert clocks["rcpc"][0].due_date == date(2027, 1, 20)  # rule 8: 6 months


def test_a_review_that_ends_the_plan_stops_its_clocks_and_steps_down_to_a_cin_plan(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case, plan = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    headers = cast.headers(db)
    with at(date(2026, 7, 20)):
        no_reason = review(
            client, headers, plan["id"], on=date(2026, 7, 20), version=1, outcome="end_plan"
        )
        ended = review(
            client,
            headers,
            plan["id"],
            on=date(2026, 7, 20),
            version=1,
            outcome="end_plan",
            end_reason="Risks reduced; the family engages with support.",
            next_step="cin_plan",
        )
        late_visit = client.post(
            f"/api/v1/cp-plans/{plan['id']}/visits",
            json={"visit_date": "2026-07-20", "child_seen": True},
            headers=headers,
        )
    assert no_reason.status_code == 422
    assert ended.status_code == 201, ended.json()
    result = ended.json()["cp_plan"]
    assert (result["state"], result["end_date"]) == ("ended", "2026-07-20")
    assert late_visit.status_code == 409
    db.expire_all()
    assert db.get(Case, case.id).state == "cin_plan"  # type: ignore[union-attr]
    clocks = deadlines(db, subject_id=plan["id"])
    statuses = {
        k: [deadline_status(d, date(2026, 12, 1)).value for d in v] for k, v in clocks.items()
    }
    assert statuses == {
        "core_group_first": ["stopped"],
        "cp_visit": ["stopped"],
        "rcpc_first": ["met"],
    }


def test_closing_the_case_when_the_plan_ends_needs_a_team_manager(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case, plan = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    ending = {
        "outcome": "end_plan",
        "end_reason": "The family moved to another authority.",
        "next_step": "close",
        "closure_reason": "RC5",
    }
    with at(date(2026, 7, 20)):
        worker = review(
            client, cast.headers(db), plan["id"], on=date(2026, 7, 20), version=1, **ending
        )
        manager = review(
            client,
            cast.headers(db, cast.manager),
            plan["id"],
            on=date(2026, 7, 20),
            version=1,
            **ending,
        )
    assert worker.status_code == 403
    assert manager.status_code == 201, manager.json()
    db.expire_all()
    closed = db.get(Case, case.id)
    assert closed is not None
    assert (closed.state, closed.closure_reason) == ("closed", "RC5")


def test_a_childs_second_plan_counts_one_previous_plan(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case, first = _plan(client, db, cast, discussed=MAUNDY_THURSDAY, conference=ICPC_TARGET)
    with at(date(2026, 7, 20)):
        ended = review(
            client,
            cast.headers(db),
            first["id"],
            on=date(2026, 7, 20),
            version=1,
            outcome="end_plan",
            end_reason="Risks reduced.",
            next_step="cin_plan",
        )
    assert ended.status_code == 201, ended.json()
    db.expire_all()
    case = db.get(Case, case.id)  # type: ignore[assignment]
    _case, second = _plan_on(
        client, db, cast, case, discussed=date(2026, 10, 1), conference=date(2026, 10, 15)
    )
    assert second["number_of_previous_cp_plans"] == 1
    with at(date(2026, 10, 15)):
        everything = client.get(f"/api/v1/cases/{case.id}/protection", headers=cast.headers(db))
    assert everything.status_code == 200
    body = everything.json()
    assert [p["number_of_previous_cp_plans"] for p in body["cp_plans"]] == [0, 1]
    assert [c["kind"] for c in body["conferences"]] == ["initial", "review", "initial"]
    assert len(body["strategy_discussions"]) == len(body["s47_enquiries"]) == 2


def _plan_on(
    client: TestClient, db: Session, cast: Cast, case: Case, *, discussed: date, conference: date
) -> tuple[Case, dict[str, Any]]:
    _c, s47 = _to_icpc(client, db, cast, discussed=discussed, case=case)
    with at(conference):
        held = icpc(client, cast.headers(db), s47["id"], on=conference, category="PHY")
        assert held.status_code == 201, held.json()
        plan = client.get(f"/api/v1/cp-plans/{held.json()['cp_plan_id']}", headers=cast.headers(db))
    return case, plan.json()


def test_another_teams_worker_cannot_record_protection_work(
    client: TestClient, db: Session, cast: Cast
) -> None:
    other = auth_headers(db, cast.other_social_worker)
    with at(MAUNDY_THURSDAY):
        case = referred_case(db, cast, opened=MAUNDY_THURSDAY)
        refused = discuss(client, other, case.id, held=MAUNDY_THURSDAY)
    assert refused.status_code == 403
    cast.child = make_child(db, first_name="Noor")
    _case, plan = _plan(client, db, cast, discussed=date(2026, 4, 9), conference=date(2026, 4, 20))
    with at(date(2026, 4, 21)):
        visit = client.post(
            f"/api/v1/cp-plans/{plan['id']}/visits",
            json={"visit_date": "2026-04-21", "child_seen": True},
            headers=other,
        )
        readable = client.get(f"/api/v1/cp-plans/{plan['id']}", headers=other)
    assert visit.status_code == 403
    assert (
        readable.status_code == 200
    )  # practitioners may read (Working Together: share to safeguard)


def test_a_restricted_childs_protection_records_do_not_exist_for_others(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = make_child(db, first_name="Rae", restricted=True)
    from app.models.security import RestrictedAccessGrant

    for user in (cast.manager, cast.social_worker):
        db.add(RestrictedAccessGrant(person_id=child.id, user_id=user.id, granted_by_id=user.id))
    db.flush()
    with at(MAUNDY_THURSDAY):
        case = referred_case(db, cast, opened=MAUNDY_THURSDAY, child=child)
    _case, s47 = _to_icpc(client, db, cast, discussed=MAUNDY_THURSDAY, case=case)
    with at(ICPC_TARGET):
        held = icpc(client, cast.headers(db), s47["id"], on=ICPC_TARGET)
        plan_id = held.json()["cp_plan_id"]
        outsider = auth_headers(db, cast.other_social_worker)
        hidden = [
            client.get(f"/api/v1/cp-plans/{plan_id}", headers=outsider),
            client.get(f"/api/v1/cases/{case.id}/protection", headers=outsider),
            client.get(f"/api/v1/s47-enquiries/{s47['id']}", headers=outsider),
            discuss(client, outsider, case.id, held=ICPC_TARGET),
            client.get(f"/api/v1/cp-plans/{uuid.uuid4()}", headers=outsider),
        ]
        named = client.get(f"/api/v1/cp-plans/{plan_id}", headers=cast.headers(db))
    assert [r.status_code for r in hidden] == [404] * 5
    assert named.status_code == 200
    logged = db.scalars(
        select(AccessLog).where(AccessLog.person_id == child.id, AccessLog.resource == "cp_plan")
    ).all()
    assert len(logged) >= 1


def test_a_stale_if_match_changes_nothing(client: TestClient, db: Session, cast: Cast) -> None:
    headers = cast.headers(db)
    with at(MAUNDY_THURSDAY):
        case = referred_case(db, cast, opened=MAUNDY_THURSDAY)
        discussion = discuss(client, headers, case.id, held=MAUNDY_THURSDAY)
        s47 = start_s47(client, headers, case.id, discussion.json()["id"], MAUNDY_THURSDAY).json()
        stale = conclude(client, headers, s47, on=MAUNDY_THURSDAY, version=9)
        current = client.get(f"/api/v1/s47-enquiries/{s47['id']}", headers=headers)
    assert stale.status_code == 412
    assert current.json()["state"] == "open"
    assert current.headers["ETag"] == '"1"'


def test_a_case_with_an_active_cp_plan_cannot_be_closed_around_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """A CP plan ends at a review conference; the manager cannot close the case past it."""
    case, plan = _plan(client, db, cast, discussed=date(2026, 1, 12), conference=date(2026, 1, 26))
    db.refresh(case)
    with at(date(2026, 2, 2)):
        response = client.post(
            f"/api/v1/cases/{case.id}/transitions",
            json={
                "event": "close",
                "reason": "Family moved away.",
                "data": {"closure_reason": "RC5"},
            },
            headers=cast.headers(db, cast.manager) | {"If-Match": f'"{case.version}"'},
        )
    assert response.status_code == 409, response.json()
    assert "review conference" in response.json()["detail"]
    db.refresh(case)
    assert case.state == "cp_plan"
    assert db.get(CPPlan, uuid.UUID(plan["id"])).state == "active"  # type: ignore[union-attr]


def test_nothing_is_recorded_as_happening_after_the_childs_death(
    client: TestClient, db: Session, cast: Cast
) -> None:
    _case, plan = _plan(client, db, cast, discussed=date(2026, 1, 12), conference=date(2026, 1, 26))
    cast.child.date_of_death = date(2026, 2, 3)
    db.flush()
    with at(date(2026, 2, 10)):
        visit = client.post(
            f"/api/v1/cp-plans/{plan['id']}/visits",
            json={"visit_date": "2026-02-09", "child_seen": True, "seen_alone": False},
            headers=cast.headers(db),
        )
    assert visit.status_code == 422, visit.json()
    assert visit.json()["errors"][0]["field"] == "visit_date"
    assert "death" in visit.json()["errors"][0]["message"]
