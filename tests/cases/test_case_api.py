"""Stories of opening, reading, listing and allocating cases, and reading their chronology."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import AccessLog, Allocation, Case, CaseEvent, Role
from tests.cases.factories import Cast, grant, move_to, open_case, take
from tests.factories import auth_headers, make_child, make_team, make_user


def _access_rows(db: Session, *, action: str, resource: str) -> list[AccessLog]:
    return list(
        db.scalars(
            select(AccessLog).where(AccessLog.action == action, AccessLog.resource == resource)
        )
    )


def test_a_mash_officer_opens_a_case_for_a_contact_and_it_is_allocated_and_timed(
    client: TestClient, db: Session, cast: Cast
) -> None:
    with clock.frozen_at(datetime(2025, 11, 24, 10, 0, tzinfo=UTC)):
        response = client.post(
            "/api/v1/cases",
            json={
                "child_id": str(cast.child.id),
                "team_id": str(cast.team.id),
                "worker_id": str(cast.social_worker.id),
                "rag": "green",
                "summary": "School nurse worried about attendance.",
            },
            headers=auth_headers(db, cast.mash_officer),
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/cases/{body['id']}"
    assert body["state"] == "contact"
    assert body["opened_date"] == "2025-11-24"
    assert body["allocated_worker_id"] == str(cast.social_worker.id)
    case_id = uuid.UUID(body["id"])
    opened = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).one()
    assert (opened.action, opened.seq, opened.to_state) == ("case_opened", 1, "contact")
    assert opened.changes["rag"] == "green"
    allocation = db.scalars(select(Allocation).where(Allocation.case_id == case_id)).one()
    assert (allocation.team_id, allocation.worker_id, allocation.ended_at) == (
        cast.team.id,
        cast.social_worker.id,
        None,
    )


def test_opening_a_case_refuses_bad_teams_workers_and_dates(
    client: TestClient, db: Session, cast: Cast
) -> None:
    headers = auth_headers(db, cast.manager)
    base = {"child_id": str(cast.child.id), "team_id": str(cast.team.id)}
    cases = [
        ({"team_id": str(uuid.uuid4())}, "team_id"),
        ({"worker_id": str(cast.other_social_worker.id)}, "worker_id"),
        ({"opened_date": "2999-01-01"}, "opened_date"),
        ({"rag": "purple"}, "rag"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/cases", json={**base, **change}, headers=headers)
        assert response.status_code == 422, (change, response.json())
        assert field in [e["field"] for e in response.json()["errors"]]
    assert db.scalar(select(func.count()).where(Case.child_id == cast.child.id)) == 0


def test_a_second_contact_while_a_case_is_open_points_to_the_open_case(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    response = client.post(
        "/api/v1/cases",
        json={"child_id": str(cast.child.id), "team_id": str(cast.team.id)},
        headers=auth_headers(db, cast.manager),
    )
    assert response.status_code == 409
    assert response.json()["existing_case_id"] == str(case.id)


def test_a_social_worker_cannot_open_a_case_for_another_team(
    client: TestClient, db: Session, cast: Cast
) -> None:
    response = client.post(
        "/api/v1/cases",
        json={"child_id": str(cast.child.id), "team_id": str(cast.other_team.id)},
        headers=auth_headers(db, cast.social_worker),
    )
    assert response.status_code == 403


def test_a_restricted_childs_case_is_not_found_for_anyone_not_named_on_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    secret = make_child(db, first_name="Rae", restricted=True)
    grant(db, secret, cast.manager)
    case = open_case(db, by=cast.manager, child=secret, team=cast.team)
    unnamed = auth_headers(db, cast.social_worker)

    for url in (
        f"/api/v1/cases/{case.id}",
        f"/api/v1/cases/{case.id}/chronology",
        f"/api/v1/cases/{case.id}/allocations",
    ):
        assert client.get(url, headers=unnamed).status_code == 404
    moved = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"event": "accept_referral"},
        headers={**unnamed, "If-Match": '"1"'},
    )
    assert moved.status_code == 404
    listed = client.get("/api/v1/cases", headers=unnamed).json()["items"]
    assert str(case.id) not in [c["id"] for c in listed]
    # The named manager sees it; the unnamed attempts were each recorded as denied.
    assert (
        client.get(f"/api/v1/cases/{case.id}", headers=auth_headers(db, cast.manager)).status_code
        == 200
    )
    denied = db.scalars(
        select(AccessLog).where(AccessLog.action == "denied", AccessLog.person_id == secret.id)
    ).all()
    assert len(denied) == 4
    opening = client.post(
        "/api/v1/cases",
        json={"child_id": str(secret.id), "team_id": str(cast.team.id)},
        headers=unnamed,
    )
    assert opening.status_code == 404


def test_reading_a_case_is_written_to_the_access_log(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    got = client.get(f"/api/v1/cases/{case.id}", headers=auth_headers(db, cast.social_worker))
    assert got.status_code == 200
    assert got.headers["ETag"] == '"1"'
    rows = _access_rows(db, action="view", resource="case")
    assert [(r.user_id, r.person_id, r.case_id) for r in rows] == [
        (cast.social_worker.id, cast.child.id, case.id)
    ]
    assert (
        client.get(
            f"/api/v1/cases/{uuid.uuid4()}", headers=auth_headers(db, cast.manager)
        ).status_code
        == 404
    )


def test_the_case_list_filters_pages_and_logs_one_row_per_child_shown(
    client: TestClient, db: Session, cast: Cast
) -> None:
    children = [make_child(db, first_name=f"Child{i}") for i in range(5)]
    cases = []
    for i, child in enumerate(children):
        worker = cast.social_worker if i % 2 == 0 else None
        cases.append(
            open_case(
                db,
                by=cast.manager,
                child=child,
                team=cast.team,
                worker=worker,
                opened_date=date(2025, 11, 10 + i),
            )
        )
    move_to(db, cases[0], "referral", by=cast.manager)
    other_child = make_child(db, first_name="Elsewhere")
    open_case(db, by=cast.service_manager, child=other_child, team=cast.other_team)
    headers = auth_headers(db, cast.iro)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"team_id": str(cast.team.id), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/cases", params=params, headers=headers).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(c.id) for c in reversed(cases)]  # newest contact first
    logged = _access_rows(db, action="list", resource="case_list")
    assert sorted(str(r.person_id) for r in logged) == sorted(str(c.id) for c in children)

    def ids(**params: str) -> set[str]:
        response = client.get("/api/v1/cases", params=params, headers=headers)
        assert response.status_code == 200, response.json()
        return {c["id"] for c in response.json()["items"]}

    assert ids(worker_id=str(cast.social_worker.id)) == {str(cases[i].id) for i in (0, 2, 4)}
    assert ids(state="referral") == {str(cases[0].id)}
    assert ids(child_id=str(children[3].id)) == {str(cases[3].id)}
    assert (
        client.get("/api/v1/cases", params={"state": "limbo"}, headers=headers).status_code == 422
    )
    assert (
        client.get("/api/v1/cases", params={"cursor": "nonsense"}, headers=headers).status_code
        == 422
    )


def test_a_manager_allocates_the_case_to_a_worker_and_the_history_shows_who_held_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    headers = auth_headers(db, cast.manager)
    allocated = client.post(
        f"/api/v1/cases/{case.id}/allocation",
        json={
            "team_id": str(cast.team.id),
            "worker_id": str(cast.social_worker.id),
            "reason": "Duty",
        },
        headers={**headers, "If-Match": '"1"'},
    )
    assert allocated.status_code == 200, allocated.json()
    assert allocated.headers["ETag"] == '"2"'
    assert allocated.json()["allocated_worker_id"] == str(cast.social_worker.id)

    # Transfer to the long-term team, to a worker who is not in it: refused.
    outsider = client.post(
        f"/api/v1/cases/{case.id}/allocation",
        json={"team_id": str(cast.other_team.id), "worker_id": str(cast.social_worker.id)},
        headers={**headers, "If-Match": '"2"'},
    )
    assert outsider.status_code == 422
    transferred = client.post(
        f"/api/v1/cases/{case.id}/allocation",
        json={"team_id": str(cast.other_team.id), "worker_id": str(cast.other_social_worker.id)},
        headers={**headers, "If-Match": '"2"'},
    )
    assert transferred.status_code == 200
    stale = client.post(
        f"/api/v1/cases/{case.id}/allocation",
        json={"team_id": str(cast.team.id)},
        headers={**headers, "If-Match": '"2"'},
    )
    assert stale.status_code == 412

    history = client.get(f"/api/v1/cases/{case.id}/allocations", headers=headers).json()
    assert [(h["team_id"], h["worker_id"], h["ended_at"] is None) for h in history] == [
        (str(cast.team.id), None, False),
        (str(cast.team.id), str(cast.social_worker.id), False),
        (str(cast.other_team.id), str(cast.other_social_worker.id), True),
    ]
    allocations = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "allocated")
    ).all()
    assert [e.seq for e in allocations] == [2, 3]
    assert allocations[0].changes == {
        "allocated_worker_id": {"before": None, "after": str(cast.social_worker.id)}
    }
    assert allocations[1].changes["team_id"] == {
        "before": str(cast.team.id),
        "after": str(cast.other_team.id),
    }
    # Now held by the other team, the front-door manager can no longer move it.
    blocked = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"event": "accept_referral"},
        headers={**headers, "If-Match": '"3"'},
    )
    assert blocked.status_code == 403


def test_only_managers_allocate(client: TestClient, db: Session, cast: Cast) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    for user in (cast.social_worker, cast.mash_officer, cast.iro):
        response = client.post(
            f"/api/v1/cases/{case.id}/allocation",
            json={"team_id": str(cast.team.id), "worker_id": str(cast.social_worker.id)},
            headers={**auth_headers(db, user), "If-Match": '"1"'},
        )
        assert response.status_code == 403, user.role


def test_the_chronology_tells_the_story_in_order_and_filters_by_action_and_date(
    client: TestClient, db: Session, cast: Cast
) -> None:
    with clock.frozen_at(datetime(2025, 11, 24, 10, tzinfo=UTC)):
        case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    with clock.frozen_at(datetime(2025, 11, 25, 10, tzinfo=UTC)):
        take(db, case, "accept_referral", by=cast.manager)
    with clock.frozen_at(datetime(2025, 11, 26, 10, tzinfo=UTC)):
        take(db, case, "start_assessment", by=cast.manager)
        take(db, case, "close", by=cast.manager)
    headers = auth_headers(db, cast.social_worker)
    url = f"/api/v1/cases/{case.id}/chronology"

    everything = client.get(url, headers=headers).json()
    assert [(e["seq"], e["action"]) for e in everything["items"]] == [
        (1, "case_opened"),
        (2, "accept_referral"),
        (3, "start_assessment"),
        (4, "close"),
    ]
    assert everything["items"][3]["from_state"] == "assessment"
    assert everything["items"][3]["reason"] == "Family moved away."
    assert everything["items"][3]["changes"]["closure_reason"] == {"before": None, "after": "RC5"}

    def actions(**params: str | int) -> list[str]:
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.json()
        return [e["action"] for e in response.json()["items"]]

    assert actions(action="accept_referral") == ["accept_referral"]
    assert actions(**{"from": "2025-11-25", "to": "2025-11-25"}) == ["accept_referral"]
    assert actions(**{"from": "2025-11-26"}) == ["start_assessment", "close"]
    assert actions(to="2025-11-24") == ["case_opened"]
    first = client.get(url, params={"limit": 3}, headers=headers).json()
    rest = client.get(url, params={"cursor": first["next_cursor"]}, headers=headers).json()
    assert [e["seq"] for e in first["items"] + rest["items"]] == [1, 2, 3, 4]
    assert rest["next_cursor"] is None
    bad = client.get(url, params={"from": "2025-11-26", "to": "2025-11-24"}, headers=headers)
    assert bad.status_code == 422
    assert _access_rows(db, action="view", resource="case_chronology")


def test_a_new_team_member_cannot_be_allocated_before_they_join(
    client: TestClient, db: Session, cast: Cast
) -> None:
    team = make_team(db)
    worker = make_user(db, Role.social_worker)
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    response = client.post(
        f"/api/v1/cases/{case.id}/allocation",
        json={"team_id": str(team.id), "worker_id": str(worker.id)},
        headers={**auth_headers(db, cast.service_manager), "If-Match": '"1"'},
    )
    assert response.status_code == 422
