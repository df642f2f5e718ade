"""Stories of the IRO's allocation (timescales rule 28, s.25A Children Act 1989): within 5
working days of care starting and before the first review, siblings sharing an IRO, changes kept
as history, caseloads — and the care ending the allocation."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import get_settings
from app.deadlines.service import deadline_status
from app.iro import timescales
from app.models import (
    AccessLog,
    CaseEvent,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Role,
    TeamMembership,
)
from app.models.iro import IROAllocation
from tests.care.factories import bring_into_care, make_care_cast, noon
from tests.factories import auth_headers, make_child, make_user
from tests.iro.factories import allocate, cease_care, in_care_with_iro, sibling_of


def _deadline(db: Session, period_id: object, kind: DeadlineKind) -> Deadline:
    return db.scalars(
        select(Deadline).where(Deadline.subject_id == period_id, Deadline.kind == kind)
    ).one()


def test_a_child_in_care_before_christmas_needs_an_iro_in_5_working_days_and_a_review_in_20(
    db: Session,
) -> None:
    """Rules 28 and 15 across Christmas and New Year: 15 Dec 2025 + 5 working days = 22 Dec;
    + 20 working days, skipping 25, 26 Dec and 1 Jan = 15 Jan 2026."""
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2025, 12, 15))
    allocation = _deadline(db, period.id, DeadlineKind.iro_allocation)
    first = _deadline(db, period.id, DeadlineKind.cla_review_first)
    assert (allocation.due_date, allocation.rule_id) == (date(2025, 12, 22), "TS28")
    assert (first.due_date, first.rule_id) == (date(2026, 1, 15), "TS15")
    assert first.child_id == cast.child.id
    assert first.case_id == period.case_id
    allocate(db, cast, child=cast.child, on=date(2025, 12, 23))
    db.refresh(allocation)
    assert deadline_status(allocation, date(2025, 12, 23)) is DeadlineStatus.missed


def test_the_iro_is_never_due_after_the_first_review(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule 28: "always before the first review", whatever the council sets."""
    monkeypatch.setenv("CASEWORK_IRO_ALLOCATION_WORKING_DAYS", "30")
    get_settings.cache_clear()
    try:
        assert timescales.iro_allocation_due(date(2026, 3, 23)) == date(2026, 4, 22)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert timescales.iro_allocation_due(date(2026, 3, 23)) == date(2026, 3, 30)


def test_an_iro_manager_allocates_an_iro_then_changes_it_keeping_the_history(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = bring_into_care(db, cast, on=date(2026, 3, 2))
    headers = auth_headers(db, cast.iro_manager)
    url = f"/api/v1/children/{cast.child.id}/iro-allocations"
    with clock.frozen_at(noon(date(2026, 3, 4))):
        first = client.post(url, json={"iro_id": str(cast.iro.id)}, headers=headers)
        again = client.post(url, json={"iro_id": str(cast.iro.id)}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["start_date"] == "2026-03-04"
    assert again.status_code == 409
    assert again.json()["code"] == "already_allocated"
    assert _deadline(db, period.id, DeadlineKind.iro_allocation).met_date == date(2026, 3, 4)

    with clock.frozen_at(noon(date(2026, 5, 1))):
        no_reason = client.post(url, json={"iro_id": str(cast.other_iro.id)}, headers=headers)
        changed = client.post(
            url,
            json={"iro_id": str(cast.other_iro.id), "reason": "Caseload balancing"},
            headers=headers,
        )
        history = client.get(url, headers=auth_headers(db, cast.iro))
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    assert changed.status_code == 201, changed.text
    assert [
        (a["iro_id"], a["start_date"], a["end_date"], a["end_reason"]) for a in history.json()
    ] == [
        (str(cast.other_iro.id), "2026-05-01", None, None),
        (str(cast.iro.id), "2026-03-04", "2026-04-30", "Caseload balancing"),
    ]
    actions = db.scalars(
        select(CaseEvent.action)
        .where(CaseEvent.case_id == period.case_id, CaseEvent.subject_type == "iro_allocation")
        .order_by(CaseEvent.seq)
    ).all()
    assert actions == ["iro_allocated", "iro_reallocated"]
    logged = db.scalars(
        select(AccessLog).where(
            AccessLog.person_id == cast.child.id, AccessLog.resource == "iro_allocation"
        )
    ).all()
    assert len(logged) == 1


def test_only_an_independent_active_iro_can_be_allocated(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2))
    iro_who_manages_the_team = make_user(db, Role.iro)
    db.add(
        TeamMembership(
            team_id=cast.team.id,
            user_id=iro_who_manages_the_team.id,
            is_manager=True,
            start_date=date(2020, 1, 1),
        )
    )
    db.flush()
    headers = auth_headers(db, cast.iro_manager)
    url = f"/api/v1/children/{cast.child.id}/iro-allocations"
    with clock.frozen_at(noon(date(2026, 3, 3))):
        social_worker = client.post(
            url, json={"iro_id": str(cast.social_worker.id)}, headers=headers
        )
        manager = client.post(
            url, json={"iro_id": str(iro_who_manages_the_team.id)}, headers=headers
        )
        before_care = client.post(
            url, json={"iro_id": str(cast.iro.id), "start_date": "2026-03-01"}, headers=headers
        )
        nobody = client.post(url, json={}, headers=headers)
    assert social_worker.status_code == 422
    assert social_worker.json()["errors"][0]["rule"] == "Children Act 1989 s.25A"
    assert manager.status_code == 422
    assert manager.json()["errors"][0]["rule"] == "CPPCR 2010 reg 46(2)"
    assert before_care.status_code == 422
    assert before_care.json()["errors"][0]["rule"] == "timescales rule 28"
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "iro_id"
    assert db.scalars(select(IROAllocation)).all() == []


def test_who_may_allocate_and_to_whom(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2026, 3, 2))
    not_in_care = make_child(db, first_name="Cara")
    hidden = make_child(db, first_name="Dana", restricted=True)
    other_manager = make_user(db, Role.team_manager, team=cast.other_team, manager=True)
    body = {"iro_id": str(cast.iro.id)}
    with clock.frozen_at(noon(date(2026, 3, 3))):
        worker = client.post(
            f"/api/v1/children/{cast.child.id}/iro-allocations",
            json=body,
            headers=auth_headers(db, cast.social_worker),
        )
        other_team = client.post(
            f"/api/v1/children/{cast.child.id}/iro-allocations",
            json=body,
            headers=auth_headers(db, other_manager),
        )
        team_manager = client.post(
            f"/api/v1/children/{cast.child.id}/iro-allocations",
            json=body,
            headers=auth_headers(db, cast.manager),
        )
        headers = auth_headers(db, cast.iro_manager)
        outside_care = client.post(
            f"/api/v1/children/{not_in_care.id}/iro-allocations", json=body, headers=headers
        )
        restricted = client.post(
            f"/api/v1/children/{hidden.id}/iro-allocations", json=body, headers=headers
        )
    assert worker.status_code == 403
    assert other_team.status_code == 403
    assert team_manager.status_code == 201, team_manager.text
    assert outside_care.status_code == 409
    assert outside_care.json()["code"] == "not_looked_after"
    assert restricted.status_code == 404


def test_a_brother_coming_into_care_shares_his_sisters_iro_by_default(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    in_care_with_iro(db, cast, on=date(2026, 3, 2))
    brother = sibling_of(db, cast.child)
    bring_into_care(db, cast, on=date(2026, 3, 9), child=brother)
    headers = auth_headers(db, cast.iro_manager)
    url = f"/api/v1/children/{brother.id}/iro-allocations"
    with clock.frozen_at(noon(date(2026, 3, 10))):
        other_without_reason = client.post(
            url, json={"iro_id": str(cast.other_iro.id)}, headers=headers
        )
        shared = client.post(url, json={}, headers=headers)
    assert other_without_reason.status_code == 422
    assert other_without_reason.json()["errors"][0]["field"] == "reason"
    assert shared.status_code == 201, shared.text
    assert shared.json()["iro_id"] == str(cast.iro.id)
    event = db.scalars(
        select(CaseEvent).where(CaseEvent.subject_id == uuid.UUID(shared.json()["id"]))
    ).one()
    assert event.changes["shared_with_sibling"] is True


def test_iro_caseloads_count_the_looked_after_children_of_each_iro(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2))
    brother = sibling_of(db, cast.child)
    in_care_with_iro(db, cast, on=date(2026, 3, 2), child=brother)
    with clock.frozen_at(noon(date(2026, 3, 10))):
        before = client.get("/api/v1/iro/caseloads", headers=auth_headers(db, cast.iro_manager))
    counts = {row["iro_id"]: row["children"] for row in before.json()}
    assert counts[str(cast.iro.id)] == 2
    assert counts[str(cast.other_iro.id)] == 0
    cease_care(db, cast, period, on=date(2026, 4, 1))
    with clock.frozen_at(noon(date(2026, 4, 2))):
        after = client.get("/api/v1/iro/caseloads", headers=auth_headers(db, cast.iro))
    assert {row["iro_id"]: row["children"] for row in after.json()}[str(cast.iro.id)] == 1


def test_when_care_ceases_the_iro_allocation_ends_and_the_review_clock_stops(db: Session) -> None:
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=date(2026, 3, 2))
    cease_care(db, cast, period, on=date(2026, 3, 20))
    allocation = db.scalars(select(IROAllocation)).one()
    assert (allocation.end_date, allocation.end_reason) == (date(2026, 3, 20), "care ceased (E4A)")
    first = _deadline(db, period.id, DeadlineKind.cla_review_first)
    assert first.stopped_date == date(2026, 3, 20)
    ended = db.scalars(select(CaseEvent).where(CaseEvent.action == "iro_allocation_ended")).one()
    assert ended.case_id == period.case_id
