"""Stories of a child's social workers over time (SSDA903 SWEpisodes): derived from the case's
allocations, with the reason each new worker took over (SW_REASON)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.models import AccessLog, Case, CaseEvent, Role
from app.models.security import RestrictedAccessGrant
from tests.care.factories import CareCast, bring_into_care, make_care_cast, noon, referred_case
from tests.factories import auth_headers, make_child, make_user

INTO_CARE = date(2025, 3, 3)


@pytest.fixture
def cast(db: Session) -> CareCast:
    cast = make_care_cast(db)
    cast.social_worker.swe_registration_number = "SW123456"
    db.flush()
    return cast


def _allocate(
    client: TestClient, db: Session, cast: CareCast, case: Case, on: date, **body: Any
) -> Any:
    headers = auth_headers(db, cast.manager)
    with clock.frozen_at(noon(on)):
        etag = client.get(f"/api/v1/cases/{case.id}", headers=headers).headers["ETag"]
        return client.post(
            f"/api/v1/cases/{case.id}/allocation",
            json={"team_id": str(cast.team.id), **body},
            headers={**headers, "If-Match": etag},
        )


def test_a_looked_after_childs_new_worker_needs_a_reason_and_the_episodes_show_it(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    period = bring_into_care(db, cast, on=INTO_CARE)
    case = db.get(Case, period.case_id)
    assert case is not None
    newcomer = make_user(db, Role.social_worker, team=cast.team)  # no SWE number yet
    without = _allocate(client, db, cast, case, date(2025, 4, 14), worker_id=str(newcomer.id))
    first_contact = _allocate(
        client, db, cast, case, date(2025, 4, 14), worker_id=str(newcomer.id), sw_reason="FCONTA"
    )
    changed = _allocate(
        client, db, cast, case, date(2025, 4, 14), worker_id=str(newcomer.id), sw_reason="LEFTRL"
    )
    assert without.status_code == 422
    assert without.json()["errors"][0]["rule"] == "SSDA903 SW15"
    assert first_contact.status_code == 422
    assert "SW10b" in first_contact.json()["errors"][0]["rule"]
    assert changed.status_code == 200, changed.text
    event = db.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "allocated")
        .order_by(CaseEvent.seq.desc())
    ).first()
    assert event is not None
    assert event.changes["sw_reason"] == "LEFTRL"
    with clock.frozen_at(noon(date(2025, 4, 15))):
        episodes = client.get(
            f"/api/v1/children/{cast.child.id}/social-worker-episodes", headers=cast.headers(db)
        )
        allocations = client.get(
            f"/api/v1/cases/{case.id}/allocations", headers=cast.headers(db)
        ).json()
    assert episodes.status_code == 200, episodes.text
    assert [
        (e["worker_id"], e["sw_id"], e["sw_decom"], e["sw_dec"], e["sw_reason"], e["flags"])
        for e in episodes.json()
    ] == [
        (str(cast.social_worker.id), "SW123456", "2025-03-03", "2025-04-14", "FCONTA", []),
        (str(newcomer.id), None, "2025-04-14", None, "LEFTRL", ["sw_id_missing"]),
    ]
    assert [a["sw_reason"] for a in allocations] == [None, "LEFTRL"]
    logged = db.scalars(
        select(AccessLog).where(
            AccessLog.person_id == cast.child.id, AccessLog.resource == "social_worker_episodes"
        )
    ).all()
    assert len(logged) == 1


def test_a_transfer_with_the_same_worker_continues_the_episode_and_takes_no_reason(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    period = bring_into_care(db, cast, on=INTO_CARE)
    case = db.get(Case, period.case_id)
    assert case is not None
    reason_without_change = _allocate(
        client,
        db,
        cast,
        case,
        date(2025, 4, 1),
        sw_reason="MANAGE",
    )
    assert reason_without_change.status_code == 422
    assert reason_without_change.json()["errors"][0]["field"] == "sw_reason"
    episodes = case_service.social_worker_episodes_for_child(db, child_id=cast.child.id)
    assert [(e.worker_id, e.sw_dec, e.sw_reason) for e in episodes] == [
        (cast.social_worker.id, None, "FCONTA")
    ]


def test_a_child_not_in_care_may_change_worker_without_a_reason_which_the_episode_flags(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    case = referred_case(db, cast, opened=date(2025, 1, 6))
    other = make_user(db, Role.social_worker, team=cast.team)
    other.swe_registration_number = "SW654321"
    db.flush()
    moved = _allocate(client, db, cast, case, date(2025, 2, 3), worker_id=str(other.id))
    assert moved.status_code == 200, moved.text
    # The first worker held the case again only on 10 February: not an episode (SW19, SW09),
    # so the second worker's episode runs on unbroken.
    brief = _allocate(
        client, db, cast, case, date(2025, 2, 10), worker_id=str(cast.social_worker.id)
    )
    back = _allocate(client, db, cast, case, date(2025, 2, 10), worker_id=str(other.id))
    assert (brief.status_code, back.status_code) == (200, 200)
    episodes = case_service.social_worker_episodes_for_child(db, child_id=cast.child.id)
    assert [(e.sw_id, e.sw_decom, e.sw_dec, e.sw_reason, e.flags) for e in episodes] == [
        ("SW123456", date(2025, 1, 6), date(2025, 2, 3), "FCONTA", ()),
        ("SW654321", date(2025, 2, 3), None, None, ("sw_reason_missing",)),
    ]


def test_a_restricted_childs_social_workers_do_not_exist_for_others(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    hidden = make_child(db, first_name="Rae", restricted=True)
    db.add(
        RestrictedAccessGrant(
            person_id=hidden.id, user_id=cast.manager.id, granted_by_id=cast.manager.id
        )
    )
    db.flush()
    referred_case(db, cast, opened=date(2025, 1, 6), child=hidden)
    with clock.frozen_at(noon(date(2025, 1, 7))):
        outsider = client.get(
            f"/api/v1/children/{hidden.id}/social-worker-episodes", headers=cast.headers(db)
        )
        named = client.get(
            f"/api/v1/children/{hidden.id}/social-worker-episodes",
            headers=auth_headers(db, cast.manager),
        )
    assert outsider.status_code == 404
    assert named.status_code == 200
    assert len(named.json()) == 1
