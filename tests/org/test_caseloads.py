"""Stories of a team manager's morning: who holds how many cases, and which children are still
waiting for a worker, the longest waiting first."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AccessLog, Role, Team, TeamKind, UserAccount
from app.models.security import RestrictedAccessGrant
from tests.factories import auth_headers, make_child, make_team, make_user

from .creators import make_case


class CinTeam:
    """A long-term team: a manager, two social workers, and another team's worker."""

    def __init__(self, db: Session) -> None:
        self.team: Team = make_team(db, kind=TeamKind.cin_cp)
        self.other_team: Team = make_team(db, kind=TeamKind.cin_cp)
        self.manager: UserAccount = make_user(db, Role.team_manager, team=self.team, manager=True)
        self.sam: UserAccount = make_user(db, Role.social_worker, team=self.team)
        self.kim: UserAccount = make_user(db, Role.social_worker, team=self.team)
        self.outsider: UserAccount = make_user(db, Role.social_worker, team=self.other_team)


@pytest.fixture
def cin(db: Session) -> CinTeam:
    return CinTeam(db)


def test_caseloads_count_open_cases_and_the_average_leaves_out_managers(
    client: TestClient, db: Session, cin: CinTeam
) -> None:
    for _ in range(4):
        make_case(db, team=cin.team, worker=cin.sam)
    make_case(db, team=cin.other_team, worker=cin.sam)  # still on Sam's caseload
    make_case(db, team=cin.team, worker=cin.kim)
    make_case(db, team=cin.team, worker=cin.kim, closed=date(2024, 5, 1))
    make_case(db, team=cin.team)
    make_case(db, team=cin.team)
    make_case(db, team=cin.team, closed=date(2024, 5, 1))
    make_case(db, team=cin.other_team)
    headers = auth_headers(db, cin.manager)

    response = client.get(f"/api/v1/teams/{cin.team.id}/caseloads", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    loads = {w["worker_id"]: (w["caseload"], w["team_caseload"]) for w in body["workers"]}
    assert loads == {
        str(cin.manager.id): (0, 0),
        str(cin.sam.id): (5, 4),
        str(cin.kim.id): (1, 1),
    }
    assert body["average_caseload"] == 3.0  # (5 + 1) / 2 social workers
    assert body["open_cases"] == 7
    assert body["unallocated_cases"] == 2


def test_the_unallocated_queue_shows_the_longest_waiting_child_first(
    client: TestClient, db: Session, cin: CinTeam
) -> None:
    newer = make_case(
        db, team=cin.team, child=make_child(db, first_name="Newer"), opened=date(2024, 3, 4)
    )
    older = make_case(
        db, team=cin.team, child=make_child(db, first_name="Older"), opened=date(2024, 1, 2)
    )
    make_case(db, team=cin.team, worker=cin.sam)  # allocated
    make_case(db, team=cin.team, opened=date(2023, 1, 2), closed=date(2023, 6, 1))  # closed
    make_case(db, team=cin.other_team, opened=date(2023, 1, 2))  # another team's
    headers = auth_headers(db, cin.manager)

    response = client.get(f"/api/v1/teams/{cin.team.id}/unallocated", headers=headers)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["case_id"] for i in items] == [str(older.id), str(newer.id)]
    assert [i["child"]["first_name"] for i in items] == ["Older", "Newer"]
    assert items[0]["working_days_waiting"] > items[1]["working_days_waiting"] > 0
    logs = db.scalars(select(AccessLog).where(AccessLog.user_id == cin.manager.id)).all()
    assert sorted((str(log.case_id), log.action) for log in logs) == sorted(
        [(str(older.id), "list"), (str(newer.id), "list")]
    )


def test_the_queue_comes_a_page_at_a_time(client: TestClient, db: Session, cin: CinTeam) -> None:
    cases = [make_case(db, team=cin.team, opened=date(2024, 1, day)) for day in (2, 3, 4, 5, 8)]
    headers = auth_headers(db, cin.manager)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get(
            f"/api/v1/teams/{cin.team.id}/unallocated", params=params, headers=headers
        ).json()
        seen += [i["case_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(c.id) for c in cases]


def test_a_restricted_child_waits_in_the_queue_unseen_unless_named(
    client: TestClient, db: Session, cin: CinTeam
) -> None:
    hidden = make_child(db, first_name="Hidden", restricted=True)
    make_case(db, team=cin.team, child=hidden)
    make_case(db, team=cin.team, child=make_child(db, first_name="Visible"))
    db.add(
        RestrictedAccessGrant(person_id=hidden.id, user_id=cin.sam.id, granted_by_id=cin.manager.id)
    )
    db.flush()
    url = f"/api/v1/teams/{cin.team.id}/unallocated"

    unnamed = client.get(url, headers=auth_headers(db, cin.kim)).json()["items"]
    named = client.get(url, headers=auth_headers(db, cin.sam)).json()["items"]

    assert [i["child"]["first_name"] for i in unnamed] == ["Visible"]
    assert sorted(i["child"]["first_name"] for i in named) == ["Hidden", "Visible"]
    unnamed_logs = db.scalars(select(AccessLog).where(AccessLog.user_id == cin.kim.id)).all()
    assert hidden.id not in {log.person_id for log in unnamed_logs}


@pytest.mark.parametrize("path", ["caseloads", "unallocated"])
def test_an_administrator_may_not_see_a_teams_cases(
    client: TestClient, db: Session, cin: CinTeam, path: str
) -> None:
    admin = make_user(db, Role.administrator)
    response = client.get(f"/api/v1/teams/{cin.team.id}/{path}", headers=auth_headers(db, admin))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["caseloads", "unallocated"])
def test_an_unknown_team_is_not_found(
    client: TestClient, db: Session, cin: CinTeam, path: str
) -> None:
    headers = auth_headers(db, cin.manager)
    response = client.get(
        f"/api/v1/teams/00000000-0000-0000-0000-000000000000/{path}", headers=headers
    )
    assert response.status_code == 404
