"""Stories of a looked-after child's plans: the care plan (rule 13), placement plans (rule 14), the
permanence plan (rule 16P) and the PEP (rule 25) — each a dated record whose new versions
supersede the old, with its deadline met or missed."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.calendar import add_working_days
from app.care.codes import ReasonEpisodeCeased
from app.careplans import service as plan_service
from app.careplans import timescales
from app.deadlines.service import deadline_status
from app.models import AccessLog, CaseEvent, Deadline, DeadlineKind, DeadlineStatus
from app.models.care import PeriodOfCare, Placement
from app.models.careplans import CLAPlan, CLAPlanVersion
from tests.care.factories import (
    CareCast,
    bring_into_care,
    cease_care,
    foster_placement,
    make_care_cast,
    noon,
    principal,
)

# Maundy Thursday 2026: Good Friday (3 April) and Easter Monday (6 April) are bank holidays, and
# the early May bank holiday (4 May) falls inside the 20 working days of the PEP.
EASTER_THURSDAY = date(2026, 4, 2)


def _deadline(db: Session, subject_id: uuid.UUID, kind: DeadlineKind) -> Deadline:
    db.expire_all()
    rows = list(
        db.scalars(
            select(Deadline)
            .where(Deadline.subject_id == subject_id, Deadline.kind == kind)
            .order_by(Deadline.start_date, Deadline.due_date)
        )
    )
    assert rows, f"no {kind} deadline"
    return rows[-1]


def _placement(db: Session, period: PeriodOfCare) -> Placement:
    placement = db.scalar(select(Placement).where(Placement.period_id == period.id))
    assert placement is not None
    return placement


def _cease(db: Session, cast: CareCast, period: PeriodOfCare, on: date) -> None:
    """Care ceases through the care service."""
    cease_care(db, cast, period, on=on, reason=ReasonEpisodeCeased.LIVING_WITH_PARENTS_NO_PR)


def test_care_starting_before_easter_puts_the_plans_due_after_the_bank_holidays(
    db: Session,
) -> None:
    """Rule 13: 10 working days; rule 14: 5; rule 25: 20 (the first review's day); rule 16P: 3
    months after that. Good Friday, Easter Monday and the May bank holiday do not count."""
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    placement = _placement(db, period)

    care_plan = _deadline(db, period.id, DeadlineKind.care_plan)
    assert (care_plan.start_date, care_plan.due_date) == (EASTER_THURSDAY, date(2026, 4, 20))
    assert care_plan.rule_id == "TS13"
    placement_plan = _deadline(db, placement.id, DeadlineKind.placement_plan)
    assert placement_plan.due_date == date(2026, 4, 13)
    assert placement_plan.rule_id == "TS14"
    pep = _deadline(db, period.id, DeadlineKind.pep)
    assert pep.due_date == date(2026, 5, 5) == add_working_days(EASTER_THURSDAY, 20)
    permanence = _deadline(db, period.id, DeadlineKind.permanence_plan)
    assert permanence.due_date == date(2026, 8, 5)
    assert permanence.rule_id == "TS16P"


def test_a_care_plan_recorded_in_time_then_revised_keeps_its_history(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 4, 17))):
        first = client.post(
            f"/api/v1/periods-of-care/{period.id}/care-plans",
            json={"summary": "Stay with foster carers while the assessment completes."},
            headers=headers,
        )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind"] == "care_plan"
    assert body["current"]["number"] == 1
    assert body["current"]["plan_date"] == "2026-04-17"
    assert body["current"]["author_id"] == str(cast.social_worker.id)
    assert first.headers["Location"] == f"/api/v1/plans/{body['id']}"
    deadline = _deadline(db, period.id, DeadlineKind.care_plan)
    assert deadline.met_date == date(2026, 4, 17)
    assert deadline_status(deadline, date(2026, 4, 17)) is DeadlineStatus.met

    with clock.frozen_at(noon(date(2026, 5, 11))):
        revised = client.post(
            f"/api/v1/plans/{body['id']}/versions",
            json={"summary": "Plan for a return home with support."},
            headers={**headers, "If-Match": first.headers["ETag"]},
        )
        assert revised.status_code == 201, revised.text
        # The old ETag is stale now: a second revision from it changes nothing.
        stale = client.post(
            f"/api/v1/plans/{body['id']}/versions",
            json={"summary": "A lost update"},
            headers={**headers, "If-Match": first.headers["ETag"]},
        )
    assert stale.status_code == 412, stale.text
    history = revised.json()["history"]
    assert [(v["number"], v["plan_date"], v["superseded_by"]) for v in history] == [
        (2, "2026-05-11", None),
        (1, "2026-04-17", 2),
    ]
    assert revised.json()["current"]["summary"] == "Plan for a return home with support."
    assert db.scalar(select(func.count()).select_from(CLAPlanVersion)) == 2

    actions = list(
        db.scalars(
            select(CaseEvent.action)
            .where(CaseEvent.case_id == period.case_id)
            .order_by(CaseEvent.seq)
        )
    )
    assert actions[-2:] == ["care_plan_recorded", "care_plan_revised"]


def test_a_placement_plan_recorded_after_five_working_days_is_missed(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    placement = _placement(db, period)
    with clock.frozen_at(noon(date(2026, 4, 14))):
        recorded = client.post(
            f"/api/v1/periods-of-care/{period.id}/placement-plans",
            json={"summary": "Contact with mother twice a week; school transport arranged."},
            headers=cast.headers(db),
        )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["placement_id"] == str(placement.id)
    deadline = _deadline(db, placement.id, DeadlineKind.placement_plan)
    assert (deadline.due_date, deadline.met_date) == (date(2026, 4, 13), date(2026, 4, 14))
    assert deadline_status(deadline, date(2026, 5, 1)) is DeadlineStatus.missed


def test_a_placement_move_opens_the_new_placements_plan_and_stops_the_old_one(
    db: Session,
) -> None:
    """Rule 14: a placement plan for each placement; the plan of a placement that ended before it
    was written is no longer due."""
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 1, 5))
    first = _placement(db, period)
    # The care service's placement change ends the old placement and calls the listeners.
    moved_on = date(2026, 1, 9)
    first.end_date = moved_on
    db.flush()
    second = Placement(
        period_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        placement_type=foster_placement().placement_type,
        provider=foster_placement().provider,
        start_date=moved_on,
    )
    db.add(second)
    db.flush()
    with clock.frozen_at(noon(moved_on)):
        plan_service.on_placement_started(
            db, actor=principal(db, cast.manager), period=period, placement=second, previous=first
        )
    old = _deadline(db, first.id, DeadlineKind.placement_plan)
    assert old.stopped_date == moved_on
    assert deadline_status(old, date(2026, 2, 1)) is DeadlineStatus.stopped
    new = _deadline(db, second.id, DeadlineKind.placement_plan)
    assert (new.start_date, new.due_date) == (moved_on, date(2026, 1, 16))


def test_a_pep_is_due_by_the_first_review_then_reviewed_each_term(
    client: TestClient, db: Session
) -> None:
    """Rule 25: the PEP by the first review; then a review within 4 months of the last PEP (our
    reading of "each term"), clamped to the month's end."""
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 4, 30))):
        pep = client.post(
            f"/api/v1/periods-of-care/{period.id}/peps",
            json={"summary": "Targets in reading; tutoring funded.", "school_name": "Oak Primary"},
            headers=headers,
        )
    assert pep.status_code == 201, pep.text
    assert _deadline(db, period.id, DeadlineKind.pep).met_date == date(2026, 4, 30)
    review = _deadline(db, period.id, DeadlineKind.pep_review)
    assert (review.rule_id, review.start_date, review.due_date) == (
        "TS25R",
        date(2026, 4, 30),
        date(2026, 8, 30),
    )
    with clock.frozen_at(noon(date(2026, 10, 31))):
        late = client.post(
            f"/api/v1/plans/{pep.json()['id']}/versions",
            json={"summary": "Autumn term review", "school_name": "Oak Primary"},
            headers={**headers, "If-Match": pep.headers["ETag"]},
        )
    assert late.status_code == 201, late.text
    db.expire_all()
    reviews = list(
        db.scalars(
            select(Deadline)
            .where(Deadline.subject_id == period.id, Deadline.kind == DeadlineKind.pep_review)
            .order_by(Deadline.start_date)
        )
    )
    assert [(r.due_date, r.met_date) for r in reviews] == [
        (date(2026, 8, 30), date(2026, 10, 31)),
        (date(2027, 2, 28), None),  # 31 October + 4 months = 28 February
    ]
    assert deadline_status(reviews[0], date(2026, 10, 31)) is DeadlineStatus.missed


def test_a_permanence_plan_names_its_option(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    url = f"/api/v1/periods-of-care/{period.id}/permanence-plans"
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 7, 1))):
        no_option = client.post(url, json={"summary": "Permanence"}, headers=headers)
        assert no_option.status_code == 422
        assert no_option.json()["errors"][0]["field"] == "permanence_option"
        assert "TS16P" in no_option.json()["errors"][0]["rule"]
        bad_option = client.post(
            url, json={"summary": "x", "permanence_option": "boarding_school"}, headers=headers
        )
        assert bad_option.status_code == 422
        recorded = client.post(
            url,
            json={
                "summary": "Long-term fostering with current carers",
                "permanence_option": "long_term_fostering",
            },
            headers=headers,
        )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["current"]["permanence_option"] == "long_term_fostering"
    assert _deadline(db, period.id, DeadlineKind.permanence_plan).met_date == date(2026, 7, 1)


def test_the_plans_of_a_period_are_listed_latest_first_and_the_read_is_logged(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    headers = cast.headers(db)
    base = f"/api/v1/periods-of-care/{period.id}"
    with clock.frozen_at(noon(date(2026, 4, 10))):
        assert (
            client.post(
                f"{base}/care-plans", json={"summary": "Care plan"}, headers=headers
            ).status_code
            == 201
        )
    with clock.frozen_at(noon(date(2026, 4, 24))):
        assert (
            client.post(f"{base}/peps", json={"summary": "PEP"}, headers=headers).status_code == 201
        )
        assert (
            client.post(
                f"{base}/placement-plans",
                json={"summary": "Placement plan", "plan_date": "2026-04-08"},
                headers=headers,
            ).status_code
            == 201
        )
        listed = client.get(f"{base}/plans", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [(p["kind"], p["current_plan_date"]) for p in listed.json()] == [
        ("pep", "2026-04-24"),
        ("care_plan", "2026-04-10"),
        ("placement_plan", "2026-04-08"),
    ]
    assert all(len(p["history"]) == 1 for p in listed.json())
    logged = db.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.person_id == cast.child.id, AccessLog.resource == "cla_plans")
    )
    assert logged == 1


def test_plans_refuse_bad_dates_naming_the_rule(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    headers = cast.headers(db)
    base = f"/api/v1/periods-of-care/{period.id}"
    with clock.frozen_at(noon(date(2026, 4, 20))):
        future = client.post(
            f"{base}/care-plans", json={"summary": "x", "plan_date": "2026-04-21"}, headers=headers
        )
        before_care = client.post(
            f"{base}/peps", json={"summary": "x", "plan_date": "2026-04-01"}, headers=headers
        )
        # A care plan may be prepared before the first placement (reg 4(2)), not before the case.
        before_case = client.post(
            f"{base}/care-plans", json={"summary": "x", "plan_date": "2026-03-01"}, headers=headers
        )
        school_on_care_plan = client.post(
            f"{base}/care-plans", json={"summary": "x", "school_name": "Oak"}, headers=headers
        )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "plan_date"
    assert before_care.status_code == 422
    assert "TS25" in before_care.json()["errors"][0]["rule"]
    assert before_case.status_code == 422
    assert "TS13" in before_case.json()["errors"][0]["rule"]
    assert school_on_care_plan.status_code == 422
    assert db.scalar(select(func.count()).select_from(CLAPlan)) == 0  # nothing partial

    cast.child.date_of_death = date(2026, 4, 15)
    db.commit()
    with clock.frozen_at(noon(date(2026, 4, 20))):
        after_death = client.post(
            f"{base}/care-plans", json={"summary": "x", "plan_date": "2026-04-16"}, headers=headers
        )
    assert after_death.status_code == 422
    assert after_death.json()["errors"][0]["rule"] == "no activity after PersonDeathDate"


def test_a_second_care_plan_is_a_conflict_naming_the_first(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    headers = cast.headers(db)
    url = f"/api/v1/periods-of-care/{period.id}/care-plans"
    with clock.frozen_at(noon(date(2026, 4, 9))):
        first = client.post(url, json={"summary": "one"}, headers=headers)
        second = client.post(url, json={"summary": "two"}, headers=headers)
    assert second.status_code == 409
    assert second.json()["code"] == "plan_already_recorded"
    assert second.json()["plan_id"] == first.json()["id"]


def test_a_placement_plan_for_another_periods_placement_is_refused(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    other_cast = make_care_cast(db)
    other_period = bring_into_care(db, other_cast, on=EASTER_THURSDAY)
    with clock.frozen_at(noon(date(2026, 4, 9))):
        refused = client.post(
            f"/api/v1/periods-of-care/{period.id}/placement-plans",
            json={"summary": "x", "placement_id": str(_placement(db, other_period).id)},
            headers=cast.headers(db),
        )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "placement_id"


def test_nothing_is_planned_on_a_period_that_ceased(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    headers = cast.headers(db)
    with clock.frozen_at(noon(date(2026, 4, 9))):
        pep = client.post(
            f"/api/v1/periods-of-care/{period.id}/peps", json={"summary": "PEP"}, headers=headers
        )
    db.expire_all()
    _cease(db, cast, period, date(2026, 4, 14))
    db.commit()
    with clock.frozen_at(noon(date(2026, 4, 20))):
        new = client.post(
            f"/api/v1/periods-of-care/{period.id}/care-plans",
            json={"summary": "x", "plan_date": "2026-04-10"},
            headers=headers,
        )
        revised = client.post(
            f"/api/v1/plans/{pep.json()['id']}/versions",
            json={"summary": "x"},
            headers={**headers, "If-Match": pep.headers["ETag"]},
        )
    assert new.status_code == 409
    assert new.json()["code"] == "period_of_care_ceased"
    assert revised.status_code == 409


def test_another_teams_worker_may_read_but_not_write_and_a_restricted_child_is_not_found(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=EASTER_THURSDAY)
    url = f"/api/v1/periods-of-care/{period.id}/care-plans"
    with clock.frozen_at(noon(date(2026, 4, 9))):
        other = client.post(
            url, json={"summary": "x"}, headers=cast.headers(db, cast.other_social_worker)
        )
        assert other.status_code == 403
        assert (
            client.get(
                f"/api/v1/periods-of-care/{period.id}/plans",
                headers=cast.headers(db, cast.other_social_worker),
            ).status_code
            == 200
        )
        cast.child.is_restricted = True
        db.commit()
        hidden_write = client.post(url, json={"summary": "x"}, headers=cast.headers(db))
        hidden_read = client.get(
            f"/api/v1/periods-of-care/{period.id}/plans", headers=cast.headers(db)
        )
    assert hidden_write.status_code == 404
    assert hidden_read.status_code == 404
    assert db.scalar(select(func.count()).select_from(CLAPlan)) == 0


def test_the_pep_review_clock_counts_terms_as_four_months() -> None:
    assert timescales.pep_review_due(date(2026, 10, 31)) == date(2027, 2, 28)
    assert timescales.pep_review_due(date(2027, 10, 31)) == date(2028, 2, 29)  # leap year
    assert timescales.permanence_plan_due(date(2026, 4, 2)) == date(2026, 8, 5)
