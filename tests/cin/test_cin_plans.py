"""Stories of child in need plans: started, reviewed on rule 11's clock, ended — and ended as a
consequence when a child protection plan starts (CIN census 4001/4016/4017)."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cin import service as cin_service
from app.cin.timescales import cin_review_due
from app.config import get_settings
from app.deadlines.service import deadline_status
from app.models import CaseEvent, Deadline, DeadlineKind, DeadlineStatus
from app.models.cin import CINPlan
from tests.assessments.factories import Cast, at, principal, referred_case
from tests.factories import auth_headers, make_child

REFERRAL = date(2025, 11, 3)


def _reviews(db: Session, plan: CINPlan) -> list[Deadline]:
    return list(
        db.scalars(
            select(Deadline)
            .where(Deadline.subject_id == plan.id, Deadline.kind == DeadlineKind.cin_review)
            .order_by(Deadline.start_date)
        )
    )


def _start(db: Session, cast: Cast, on: date) -> CINPlan:
    case = referred_case(db, cast, referral_on=REFERRAL)
    with clock.frozen_at(at(on)):
        return cin_service.cin_plan_start(
            db, actor=principal(db, cast.social_worker), case_id=case.id, start_date=on
        )


def test_a_plan_starting_on_30_november_is_first_reviewed_by_28_february_then_3_months_on(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """Rule 11: 3 months, clamped to the month's end; each review opens the next from its date."""
    assert get_settings().cin_review_months == 3  # the council default (rule 11, L)
    case = referred_case(db, cast, referral_on=REFERRAL)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(at(date(2025, 12, 1))):
        started = client.post(
            f"/api/v1/cases/{case.id}/cin-plans", json={"start_date": "2025-11-30"}, headers=headers
        )
    assert started.status_code == 201, started.text
    assert started.json()["next_review_due"] == "2026-02-28"
    db.refresh(case)
    assert case.state == "cin_plan"
    url = f"/api/v1/cin-plans/{started.json()['id']}"
    with clock.frozen_at(at(date(2026, 2, 20))):
        reviewed = client.post(
            f"{url}/reviews",
            json={"outcome": "Plan continues", "notes": "Going well"},
            headers=headers,
        )
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["next_review_due"] == "2026-05-20"
    assert [r["review_date"] for r in reviewed.json()["reviews"]] == ["2026-02-20"]
    assert reviewed.headers["ETag"] != started.headers["ETag"]
    plan = db.get(CINPlan, uuid.UUID(started.json()["id"]))
    assert plan is not None
    first, second = _reviews(db, plan)
    assert (first.due_date, first.met_date) == (date(2026, 2, 28), date(2026, 2, 20))
    assert deadline_status(first, date(2026, 2, 20)) is DeadlineStatus.met
    assert (second.start_date, second.due_date, second.met_date) == (
        date(2026, 2, 20),
        date(2026, 5, 20),
        None,
    )
    assert first.rule_id == "TS11"


def test_a_leap_year_february_takes_the_29th() -> None:
    assert cin_review_due(date(2027, 11, 30)) == date(2028, 2, 29)
    assert cin_review_due(date(2025, 8, 31)) == date(2025, 11, 30)


def test_a_second_cin_plan_while_one_is_open_is_refused_citing_4004(
    client: TestClient, db: Session, cast: Cast
) -> None:
    plan = _start(db, cast, date(2025, 11, 20))
    with clock.frozen_at(at(date(2025, 11, 21))):
        again = client.post(
            f"/api/v1/cases/{plan.case_id}/cin-plans",
            json={},
            headers=auth_headers(db, cast.social_worker),
        )
    assert again.status_code == 409
    assert "4004" in again.json()["detail"]
    assert again.json()["existing_plan_id"] == str(plan.id)


def test_starting_a_cp_plan_ends_the_cin_plan_that_day_as_an_audited_consequence(
    db: Session, cast: Cast
) -> None:
    plan = _start(db, cast, date(2025, 11, 20))
    with clock.frozen_at(at(date(2026, 1, 12))):
        ended = cin_service.cin_plan_end_for_cp_plan(
            db,
            actor=principal(db, cast.manager),
            child_id=cast.child.id,
            end_date=date(2026, 1, 12),
        )
    assert ended is plan
    assert (plan.state, plan.end_date) == ("ended", date(2026, 1, 12))
    event = db.scalar(
        select(CaseEvent).where(
            CaseEvent.subject_id == plan.id, CaseEvent.action == "cin_plan_ended"
        )
    )
    assert event is not None
    assert event.reason == "a child protection plan started (CIN census rules 4001/4016/4017)"
    (review,) = _reviews(db, plan)
    assert deadline_status(review, date(2026, 3, 1)) is DeadlineStatus.stopped
    with clock.frozen_at(at(date(2026, 1, 13))):
        assert (
            cin_service.cin_plan_end_for_cp_plan(
                db,
                actor=principal(db, cast.manager),
                child_id=cast.child.id,
                end_date=date(2026, 1, 13),
            )
            is None
        )


def test_a_plan_ends_with_if_match_and_not_before_it_started(
    client: TestClient, db: Session, cast: Cast
) -> None:
    plan = _start(db, cast, date(2025, 11, 20))
    headers = auth_headers(db, cast.social_worker)
    url = f"/api/v1/cin-plans/{plan.id}"
    with clock.frozen_at(at(date(2026, 1, 5))):
        current = client.get(url, headers=headers)
        stale = client.post(
            f"{url}/end", json={"reason": "Needs met"}, headers={**headers, "If-Match": '"99"'}
        )
        early = client.post(
            f"{url}/end",
            json={"reason": "Needs met", "end_date": "2025-11-19"},
            headers={**headers, "If-Match": current.headers["ETag"]},
        )
        ended = client.post(
            f"{url}/end",
            json={"reason": "Needs met"},
            headers={**headers, "If-Match": current.headers["ETag"]},
        )
        late_review = client.post(f"{url}/reviews", json={}, headers=headers)
    assert stale.status_code == 412
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "end_date"
    assert ended.status_code == 200, ended.text
    assert (ended.json()["state"], ended.json()["end_date"]) == ("ended", "2026-01-05")
    assert ended.json()["next_review_due"] is None
    assert late_review.status_code == 409


def test_another_teams_worker_cannot_review_the_plan(
    client: TestClient, db: Session, cast: Cast
) -> None:
    plan = _start(db, cast, date(2025, 11, 20))
    with clock.frozen_at(at(date(2025, 12, 1))):
        outsider = client.post(
            f"/api/v1/cin-plans/{plan.id}/reviews",
            json={},
            headers=auth_headers(db, cast.other_social_worker),
        )
    assert outsider.status_code == 403
    assert db.scalar(select(CaseEvent).where(CaseEvent.action == "cin_plan_reviewed")) is None


def test_a_plan_cannot_start_before_the_referral_or_on_a_case_still_at_referral(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = referred_case(db, cast, referral_on=REFERRAL)
    headers = auth_headers(db, cast.social_worker)
    with clock.frozen_at(at(date(2025, 11, 10))):
        early = client.post(
            f"/api/v1/cases/{case.id}/cin-plans", json={"start_date": "2025-11-02"}, headers=headers
        )
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "start_date"
    other = referred_case(
        db, cast, referral_on=REFERRAL, child=make_child(db, first_name="Bo"), state="referral"
    )
    with clock.frozen_at(at(date(2025, 11, 10))):
        too_soon = client.post(f"/api/v1/cases/{other.id}/cin-plans", json={}, headers=headers)
    assert too_soon.status_code == 409
    assert "start_cin_plan" in too_soon.json()["detail"]


def test_closing_the_case_ends_its_cin_plan_the_same_day(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """Nothing continues after closure (CIN census 8565): the plan ends with the case."""
    plan = _start(db, cast, date(2025, 12, 1))
    case_id = plan.case_id
    with clock.frozen_at(at(date(2026, 3, 2))):
        closed = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={
                "event": "close",
                "reason": "Needs met; the family no longer needs a plan.",
                "data": {"closure_reason": "RC7"},
            },
            headers=auth_headers(db, cast.manager)
            | {"If-Match": f'"{plan_case_version(db, plan)}"'},
        )
    assert closed.status_code == 200, closed.text
    db.expire_all()
    ended = db.get(CINPlan, plan.id)
    assert ended is not None
    assert (ended.state, ended.end_date) == ("ended", date(2026, 3, 2))
    assert all(
        deadline_status(d, date(2026, 3, 2)) is DeadlineStatus.stopped
        for d in _reviews(db, ended)
        if d.met_date is None
    )
    actions = db.scalars(
        select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).all()
    assert actions[-2:] == ["close", "cin_plan_ended"]


def plan_case_version(db: Session, plan: CINPlan) -> int:
    from app.models import Case

    case = db.get(Case, plan.case_id)
    assert case is not None
    return case.version
