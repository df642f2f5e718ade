"""Stories of setting up the organisation: teams, who is in them, and workers' registration."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ChangeLog, Role, Team, TeamKind, TeamMembership, UserAccount
from tests.factories import auth_headers, make_team, make_user

from .creators import make_case


@pytest.fixture
def admin_headers(db: Session) -> dict[str, str]:
    return auth_headers(db, make_user(db, Role.administrator))


def _logs(db: Session, entity_id: str | uuid.UUID) -> list[ChangeLog]:
    return list(
        db.scalars(
            select(ChangeLog)
            .where(ChangeLog.entity_id == uuid.UUID(str(entity_id)))
            .order_by(ChangeLog.occurred_at, ChangeLog.id)
        )
    )


def test_an_administrator_sets_up_a_team_and_renames_it(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/teams",
        json={"name": "North Assessment", "kind": "assessment", "area": "North"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    team_id = created.json()["id"]

    renamed = client.patch(
        f"/api/v1/teams/{team_id}",
        json={"name": "North Assessment Team"},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    stale = client.patch(
        f"/api/v1/teams/{team_id}",
        json={"name": "Something Else"},
        headers={**admin_headers, "If-Match": '"1"'},
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    db.expire_all()
    team = db.get(Team, uuid.UUID(team_id))
    assert team is not None
    assert team.name == "North Assessment Team"
    assert [(log.action, log.changes.get("name")) for log in _logs(db, team_id)] == [
        ("create", "North Assessment"),
        ("update", {"before": "North Assessment", "after": "North Assessment Team"}),
    ]


def test_two_teams_cannot_share_a_name(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    existing = make_team(db, name="MASH")
    response = client.post(
        "/api/v1/teams", json={"name": "mash", "kind": "front_door"}, headers=admin_headers
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == str(existing.id)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "kind": "assessment"}, "name"),
        ({"name": "X", "kind": "nursery"}, "kind"),
        ({"name": "X", "kind": "assessment", "id": str(uuid.uuid4())}, "id"),
        ({"kind": "assessment"}, "name"),
    ],
)
def test_bad_team_input_is_refused(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, str], field: str
) -> None:
    response = client.post("/api/v1/teams", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_social_worker_may_see_teams_but_not_create_them(client: TestClient, db: Session) -> None:
    team = make_team(db, name="Children in Care 1", kind=TeamKind.children_in_care)
    worker = make_user(db, Role.social_worker, team=team)
    headers = auth_headers(db, worker)

    refused = client.post(
        "/api/v1/teams", json={"name": "Mine", "kind": "assessment"}, headers=headers
    )
    listed = client.get("/api/v1/teams", headers=headers)
    shown = client.get(f"/api/v1/teams/{team.id}", headers=headers)

    assert refused.status_code == 403
    assert listed.status_code == 200
    assert team.name in [t["name"] for t in listed.json()["items"]]
    assert shown.status_code == 200
    assert [m["user_id"] for m in shown.json()["members"]] == [str(worker.id)]
    assert client.get(f"/api/v1/teams/{uuid.uuid4()}", headers=headers).status_code == 404


def test_the_team_list_comes_a_page_at_a_time(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    names = [f"Page Team {n}" for n in range(5)]
    for name in names:
        make_team(db, name=name)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/teams", params=params, headers=admin_headers).json()
        seen += [t["name"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [n for n in seen if n.startswith("Page Team")] == names
    assert seen == sorted(seen)


def test_a_team_holding_open_cases_cannot_be_deactivated(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    team = make_team(db)
    make_case(db, team=team)
    db.commit()
    response = client.patch(
        f"/api/v1/teams/{team.id}",
        json={"is_active": False},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "team_has_open_cases"


def test_a_worker_joins_a_team_and_later_leaves_it(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    team = make_team(db)
    worker = make_user(db, Role.social_worker)
    db.commit()

    joined = client.post(
        f"/api/v1/teams/{team.id}/members",
        json={"user_id": str(worker.id), "start_date": "2024-04-02"},
        headers=admin_headers,
    )
    twice = client.post(
        f"/api/v1/teams/{team.id}/members",
        json={"user_id": str(worker.id), "start_date": "2024-05-01"},
        headers=admin_headers,
    )
    assert joined.status_code == 201, joined.text
    assert twice.status_code == 409
    membership_id = joined.json()["id"]
    url = f"/api/v1/teams/{team.id}/members/{membership_id}/end"
    left = client.post(url, json={"end_date": "2025-03-31"}, headers=admin_headers)
    again = client.post(url, headers=admin_headers)

    assert left.status_code == 200, left.text
    assert left.json()["end_date"] == "2025-03-31"
    assert again.status_code == 409
    db.expire_all()
    membership = db.get(TeamMembership, uuid.UUID(membership_id))
    assert membership is not None
    assert membership.end_date == date(2025, 3, 31)
    assert [log.action for log in _logs(db, membership_id)] == ["create", "end"]
    shown = client.get(f"/api/v1/teams/{team.id}", headers=admin_headers).json()
    assert shown["members"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": str(uuid.uuid4())}, "user_id"),
        ({"user_id": "nobody"}, "user_id"),
        ({"is_manager": True}, "user_id"),
        ({"user_id": str(uuid.uuid4()), "role": "team_manager"}, "role"),
    ],
)
def test_bad_membership_input_is_refused(
    client: TestClient,
    db: Session,
    admin_headers: dict[str, str],
    body: dict[str, str],
    field: str,
) -> None:
    team = make_team(db)
    db.commit()
    response = client.post(f"/api/v1/teams/{team.id}/members", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_an_integration_client_cannot_join_a_team(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    team = make_team(db)
    robot = make_user(db, Role.integration_client)
    db.commit()
    response = client.post(
        f"/api/v1/teams/{team.id}/members", json={"user_id": str(robot.id)}, headers=admin_headers
    )
    assert response.status_code == 422


def test_a_workers_social_work_england_number_is_checked_and_unique(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    first = make_user(db, Role.social_worker)
    second = make_user(db, Role.social_worker)
    db.commit()

    bad = client.patch(
        f"/api/v1/workers/{first.id}",
        json={"swe_registration_number": "12345"},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    good = client.patch(
        f"/api/v1/workers/{first.id}",
        json={"swe_registration_number": " sw12345 "},
        headers={**admin_headers, "If-Match": '"1"'},
    )
    taken = client.patch(
        f"/api/v1/workers/{second.id}",
        json={"swe_registration_number": "SW12345"},
        headers={**admin_headers, "If-Match": '"1"'},
    )

    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "swe_registration_number"
    assert good.status_code == 200, good.text
    assert good.json()["swe_registration_number"] == "SW12345"
    assert good.headers["ETag"] == '"2"'
    assert taken.status_code == 409
    db.expire_all()
    user = db.get(UserAccount, second.id)
    assert user is not None
    assert user.swe_registration_number is None


def test_workers_are_listed_with_their_teams_and_caseloads(
    client: TestClient, db: Session, admin_headers: dict[str, str]
) -> None:
    team = make_team(db, name="CIN Team A", kind=TeamKind.cin_cp)
    other = make_team(db, name="CIN Team B", kind=TeamKind.cin_cp)
    busy = make_user(db, Role.social_worker, team=team)
    db.add(TeamMembership(team_id=other.id, user_id=busy.id, start_date=date(2023, 1, 1)))
    quiet = make_user(db, Role.social_worker, team=team)
    outsider = make_user(db, Role.social_worker, team=other)
    make_user(db, Role.administrator, team=team)  # not a worker
    for _ in range(3):
        make_case(db, team=team, worker=busy)
    make_case(db, team=other, worker=busy)
    make_case(db, team=team, worker=busy, closed=date(2024, 6, 1))  # closed: not counted
    db.commit()

    response = client.get(
        "/api/v1/workers", params={"team_id": str(team.id)}, headers=admin_headers
    )

    assert response.status_code == 200, response.text
    workers = {w["id"]: w for w in response.json()["items"]}
    assert set(workers) == {str(busy.id), str(quiet.id)}
    assert workers[str(busy.id)]["caseload"] == 4
    assert [t["name"] for t in workers[str(busy.id)]["teams"]] == ["CIN Team A", "CIN Team B"]
    assert workers[str(quiet.id)]["caseload"] == 0
    everyone = client.get("/api/v1/workers", params={"limit": 200}, headers=admin_headers).json()
    assert str(outsider.id) in [w["id"] for w in everyone["items"]]
