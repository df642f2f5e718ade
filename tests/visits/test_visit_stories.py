"""Stories of statutory visits to looked-after children (reg 28; timescales rules 18-22)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from app.care.codes import LegalStatus, PlacementProvider, PlacementType, ReasonPlaceChange
from app.care.schemas import PlacementIn
from app.deadlines import service as deadline_service
from app.deadlines.care_rules import CLA_REVIEW_FIRST
from app.deadlines.service import deadline_status
from app.models import AccessLog, CaseEvent, Deadline, DeadlineKind, DeadlineStatus
from app.models.care import PeriodOfCare
from app.models.visits import StatutoryVisit
from app.visits import service as visit_service
from tests.care.factories import (
    CareCast,
    bring_into_care,
    foster_placement,
    make_care_cast,
    noon,
    principal,
    referred_case,
)
from tests.factories import auth_headers


def _foster(**overrides: object) -> PlacementIn:
    """A foster placement with its provision's Ofsted URN (SSDA903 rule 218)."""
    fields: dict[str, object] = {"ofsted_urn": "SC123456", **overrides}
    return foster_placement(**fields)


def _visit_deadlines(db: Session, child_id: uuid.UUID) -> list[Deadline]:
    return list(
        db.scalars(
            select(Deadline)
            .where(Deadline.child_id == child_id, Deadline.kind == DeadlineKind.statutory_visit)
            .order_by(Deadline.start_date, Deadline.created_at)
        )
    )


def _visit(
    client: TestClient, db: Session, cast: CareCast, on: date, **body: object
) -> dict[str, Any]:
    with clock.frozen_at(noon(on)):
        response = client.post(
            f"/api/v1/children/{cast.child.id}/statutory-visits",
            json={"visit_date": on.isoformat(), "child_seen": True, **body},
            headers=auth_headers(db, cast.social_worker),
        )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _list(client: TestClient, db: Session, cast: CareCast, on: date) -> dict[str, Any]:
    with clock.frozen_at(noon(on)):
        response = client.get(
            f"/api/v1/children/{cast.child.id}/statutory-visits",
            headers=auth_headers(db, cast.social_worker),
        )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _events(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(CaseEvent.action == action)) or 0


def test_a_child_placed_in_foster_care_on_good_friday_is_visited_within_a_week(
    client: TestClient, db: Session
) -> None:
    """Rule 18: 7 calendar days from the placement's start (Easter Monday does not add a day);
    the visit meets it and opens the 6-weekly clock of the first year (rule 19)."""
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 4, 3), placement=_foster())
    listed = _list(client, db, cast, date(2026, 4, 3))
    assert listed["items"] == []
    assert listed["next_due"] == {
        "due_date": "2026-04-10",
        "rule_id": "TS18",
        "source": "Care Planning Regulations 2010, reg 28(2): timescales rule 18",
        "start_date": "2026-04-03",
    }
    visit = _visit(
        client,
        db,
        cast,
        date(2026, 4, 9),
        seen_alone=True,
        bedroom_seen=True,
        is_unannounced=True,
        notes="Settling in well",
    )
    assert (visit["child_seen"], visit["seen_alone"], visit["bedroom_seen"]) == (True, True, True)
    assert visit["is_unannounced"] is True
    assert visit["visited_by_id"] == str(cast.social_worker.id)
    listed = _list(client, db, cast, date(2026, 4, 9))
    assert [v["visit_date"] for v in listed["items"]] == ["2026-04-09"]
    assert listed["next_due"]["due_date"] == "2026-05-21"
    assert listed["next_due"]["rule_id"] == "TS19"
    first, second = _visit_deadlines(db, cast.child.id)
    assert deadline_status(first, date(2026, 4, 9)) is DeadlineStatus.met
    assert (second.start_date, second.met_date) == (date(2026, 4, 9), None)
    event = db.scalar(select(CaseEvent).where(CaseEvent.action == "statutory_visit_recorded"))
    assert event is not None
    assert event.changes["seen_alone"] is True
    # Every read that shows the child is access-logged.
    assert (
        db.scalar(
            select(func.count()).where(
                AccessLog.person_id == cast.child.id, AccessLog.resource == "statutory_visits"
            )
        )
        == 2
    )


def test_a_first_visit_after_the_week_is_recorded_as_missed(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 4, 3), placement=_foster())
    _visit(client, db, cast, date(2026, 4, 13))
    first, _second = _visit_deadlines(db, cast.child.id)
    assert deadline_status(first, date(2026, 4, 13)) is DeadlineStatus.missed


def test_a_visit_where_the_child_was_not_seen_leaves_the_clock_running(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    _visit(client, db, cast, date(2026, 3, 5), child_seen=False, notes="Child out at school")
    (only,) = _visit_deadlines(db, cast.child.id)
    assert (only.due_date, only.met_date) == (date(2026, 3, 9), None)
    assert _events(db, "statutory_visit_recorded") == 1


def test_after_the_first_year_a_placement_meant_to_last_until_18_is_visited_3_monthly(
    client: TestClient, db: Session
) -> None:
    """Rules 19 then 20: 6-weekly in the placement's first year, 3-monthly after it, the months
    clamped at the month's end (31 March + 3 months = 30 June)."""
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2025, 1, 31), placement=_foster(intended_until_18=True))
    _visit(client, db, cast, date(2025, 2, 5))
    _visit(client, db, cast, date(2026, 1, 30))  # in the first year: 6 weeks on
    assert _list(client, db, cast, date(2026, 1, 30))["next_due"]["due_date"] == "2026-03-13"
    _visit(client, db, cast, date(2026, 3, 31))
    listed = _list(client, db, cast, date(2026, 3, 31))
    assert listed["next_due"]["due_date"] == "2026-06-30"
    assert listed["next_due"]["rule_id"] == "TS20"
    statuses = [deadline_status(d, date(2026, 3, 31)) for d in _visit_deadlines(db, cast.child.id)]
    assert statuses == [
        DeadlineStatus.met,
        DeadlineStatus.missed,  # due 2025-03-19, visited 2026-01-30
        DeadlineStatus.missed,  # due 2026-03-13, visited 2026-03-31
        DeadlineStatus.due,
    ]


def test_a_child_placed_with_parents_is_visited_weekly_until_the_first_review(
    client: TestClient, db: Session
) -> None:
    """Rule 21 (reg 28(3)): weekly until the first review, then 6-weekly; when the child's
    ``cla_review_first`` deadline is met, ``visits_recompute`` re-derives the running clock and
    says so in the chronology."""
    cast = make_care_cast(db)
    period = bring_into_care(
        db,
        cast,
        on=date(2026, 1, 5),
        legal_status=LegalStatus.FULL_CARE_ORDER,
        placement=_foster(
            placement_type=PlacementType.P1,
            provider=PlacementProvider.PR0,
            placed_under_reg="reg 19",
            ofsted_urn=None,
        ),
    )
    _visit(client, db, cast, date(2026, 1, 9))
    running = _list(client, db, cast, date(2026, 1, 9))["next_due"]
    assert (running["due_date"], running["rule_id"]) == ("2026-01-16", "TS21")
    # The first review is held (the reviews module meets its deadline; made here by hand).
    review = _first_review_held(db, period, held=date(2026, 1, 30))
    with clock.frozen_at(noon(date(2026, 1, 30))):
        recomputed = visit_service.visits_recompute(db, child_id=cast.child.id)
    assert recomputed is not None
    assert (recomputed.due_date, recomputed.rule_id) == (date(2026, 2, 20), "TS21")
    assert review.met_date == date(2026, 1, 30)
    event = db.scalar(select(CaseEvent).where(CaseEvent.action == "statutory_visit_due_changed"))
    assert event is not None
    assert event.changes["due_date"] == {"before": "2026-01-16", "after": "2026-02-20"}
    # Nothing changes, nothing is written.
    with clock.frozen_at(noon(date(2026, 1, 30))):
        visit_service.visits_recompute(db, child_id=cast.child.id)
    assert _events(db, "statutory_visit_due_changed") == 1


def test_a_temporary_connected_person_placement_is_visited_4_weekly_after_the_first_review(
    client: TestClient, db: Session
) -> None:
    """Rule 21 (reg 28(4)): a visit after the first review opens a 4-week interval."""
    cast = make_care_cast(db)
    period = bring_into_care(
        db,
        cast,
        on=date(2026, 1, 5),
        placement=_foster(placement_type=PlacementType.U3, placed_under_reg="reg 24"),
    )
    _visit(client, db, cast, date(2026, 1, 9))
    _first_review_held(db, period, held=date(2026, 1, 30))
    _visit(client, db, cast, date(2026, 2, 2))
    running = _list(client, db, cast, date(2026, 2, 2))["next_due"]
    assert (running["due_date"], running["rule_id"]) == ("2026-03-02", "TS21")


def _first_review_held(db: Session, period: PeriodOfCare, *, held: date) -> Deadline:
    review = deadline_service.deadline_open(
        db,
        rule=CLA_REVIEW_FIRST,
        subject_type="period_of_care",
        subject_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=period.start_date,
        due_date=date(2026, 2, 2),
    )
    review.met_date = held
    db.flush()
    return review


def test_a_move_stops_the_old_placements_clock_and_starts_a_first_week_visit(
    client: TestClient, db: Session
) -> None:
    """``on_placement_started`` (the care service's listener): the previous placement's running
    visit deadline stops, the new placement is visited within a week (rule 18). A visit typed up
    late for the old placement is recorded against it and moves no clock."""
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    _visit(client, db, cast, date(2026, 3, 6))
    old = care_service.current_placement(db, child_id=cast.child.id)
    assert old is not None
    old.end_date = date(2026, 4, 20)
    old.end_reason = ReasonPlaceChange("CARPL")
    db.flush()
    new = care_service.new_placement(
        period=period,
        placement=_foster(carer_key="carer-2", carer_name="Ms New"),
        start_date=date(2026, 4, 20),
    )
    db.add(new)
    db.flush()
    with clock.frozen_at(noon(date(2026, 4, 20))):
        visit_service.on_placement_started(
            db, actor=principal(db, cast.manager), period=period, placement=new, previous=old
        )
    deadlines = _visit_deadlines(db, cast.child.id)
    stopped = [d for d in deadlines if d.subject_id == old.id and d.met_date is None]
    assert [d.stopped_date for d in stopped] == [date(2026, 4, 20)]
    running = _list(client, db, cast, date(2026, 4, 20))["next_due"]
    assert running == {
        "due_date": "2026-04-27",
        "rule_id": "TS18",
        "source": "Care Planning Regulations 2010, reg 28(2): timescales rule 18",
        "start_date": "2026-04-20",
    }
    late = _visit(client, db, cast, date(2026, 4, 17))
    assert late["placement_id"] == str(old.id)
    assert _list(client, db, cast, date(2026, 4, 21))["next_due"]["due_date"] == "2026-04-27"


def test_visits_are_refused_when_the_rules_say_so_and_nothing_is_written(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    headers = auth_headers(db, cast.social_worker)
    url = f"/api/v1/children/{cast.child.id}/statutory-visits"
    cases = [
        ({"visit_date": "2026-03-20", "child_seen": True}, "visit_date", None),  # future
        ({"visit_date": "2026-02-27", "child_seen": True}, "visit_date", "reg 28"),
        (
            {"visit_date": "2026-03-05", "child_seen": False, "seen_alone": True},
            "seen_alone",
            "reg 29",
        ),
        ({"visit_date": "2026-03-05", "child_seen": True, "colour": "red"}, "colour", None),
    ]
    for body, field, rule in cases:
        with clock.frozen_at(noon(date(2026, 3, 10))):
            response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert error["field"] == field
        if rule is not None:
            assert error["rule"] == rule
    assert db.scalar(select(func.count()).select_from(StatutoryVisit)) == 0
    assert _events(db, "statutory_visit_recorded") == 0
    (only,) = _visit_deadlines(db, cast.child.id)
    assert only.met_date is None


def test_no_visit_is_recorded_after_the_childs_death(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    cast.child.date_of_death = date(2026, 3, 4)
    db.flush()
    with clock.frozen_at(noon(date(2026, 3, 10))):
        response = client.post(
            f"/api/v1/children/{cast.child.id}/statutory-visits",
            json={"visit_date": "2026-03-05", "child_seen": True},
            headers=auth_headers(db, cast.social_worker),
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "no activity after PersonDeathDate"


def test_a_child_who_is_not_looked_after_has_no_statutory_visits(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    referred_case(db, cast, opened=date(2026, 3, 2))
    with clock.frozen_at(noon(date(2026, 3, 3))):
        response = client.post(
            f"/api/v1/children/{cast.child.id}/statutory-visits",
            json={"child_seen": True},
            headers=auth_headers(db, cast.social_worker),
        )
        listed = client.get(
            f"/api/v1/children/{cast.child.id}/statutory-visits",
            headers=auth_headers(db, cast.social_worker),
        )
    assert response.status_code == 409
    assert response.json()["code"] == "not_looked_after"
    assert listed.json() == {"items": [], "next_due": None}


def test_another_team_may_read_but_not_record_and_a_restricted_child_is_not_found(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2), placement=_foster())
    url = f"/api/v1/children/{cast.child.id}/statutory-visits"
    with clock.frozen_at(noon(date(2026, 3, 5))):
        other = client.post(
            url, json={"child_seen": True}, headers=auth_headers(db, cast.other_social_worker)
        )
        assert other.status_code == 403
        cast.child.is_restricted = True
        db.flush()
        hidden_write = client.post(
            url, json={"child_seen": True}, headers=auth_headers(db, cast.social_worker)
        )
        hidden_read = client.get(url, headers=auth_headers(db, cast.social_worker))
    assert (hidden_write.status_code, hidden_read.status_code) == (404, 404)
    assert db.scalar(select(func.count()).select_from(StatutoryVisit)) == 0
    assert [v.visit_date for v in visit_service.visits_for_child(db, child_id=cast.child.id)] == []
