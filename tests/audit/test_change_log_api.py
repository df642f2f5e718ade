"""Stories of an auditor reading the change log: who changed what, page by page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import change_log_append
from app.models import AccessLog, Role
from tests.cases.factories import Cast, principal
from tests.factories import auth_headers, make_user


def test_an_auditor_reads_the_change_log_of_one_record_page_by_page(
    client: TestClient, db: Session, cast: Cast
) -> None:
    actor = principal(db, cast.manager)
    start = datetime(2025, 11, 24, 9, tzinfo=UTC)
    for minute in range(5):
        with clock.frozen_at(start + timedelta(minutes=minute)):
            change_log_append(
                db,
                actor=actor,
                entity_type="team",
                entity_id=cast.team.id,
                action="update",
                changes={"area": {"before": str(minute), "after": str(minute + 1)}},
            )
    change_log_append(
        db,
        actor=actor,
        entity_type="person",
        entity_id=cast.child.id,
        action="update",
        changes={"first_name": {"before": "Ava", "after": "Eva"}},
    )
    db.flush()
    headers = auth_headers(db, make_user(db, Role.administrator))

    seen = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"entity_type": "team", "entity_id": str(cast.team.id)}
        params["limit"] = 2
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/v1/change-log", params=params, headers=headers)
        assert response.status_code == 200, response.json()
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert [row["changes"]["area"]["after"] for row in seen] == ["1", "2", "3", "4", "5"]
    assert {row["actor_role"] for row in seen} == {"team_manager"}

    people = client.get(
        "/api/v1/change-log", params={"entity_type": "person"}, headers=headers
    ).json()["items"]
    assert [row["entity_id"] for row in people] == [str(cast.child.id)]
    # A change to a child's record shows the child: the auditor's read is logged.
    logged = db.scalars(select(AccessLog).where(AccessLog.resource == "change_log")).all()
    assert [row.person_id for row in logged] == [cast.child.id]


def test_the_change_log_is_for_auditors_only(client: TestClient, db: Session, cast: Cast) -> None:
    for user in (cast.social_worker, cast.manager):
        response = client.get("/api/v1/change-log", headers=auth_headers(db, user))
        assert response.status_code == 403
    response = client.get(
        "/api/v1/change-log",
        params={"cursor": "bm90IGEgY3Vyc29y"},
        headers=auth_headers(db, cast.service_manager),
    )
    assert response.status_code == 422


def test_changes_to_a_restricted_childs_record_are_hidden_from_an_auditor_not_named_on_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    cast.child.is_restricted = True
    change_log_append(
        db,
        actor=principal(db, cast.manager),
        entity_type="person",
        entity_id=cast.child.id,
        action="update",
        changes={"first_name": {"before": "Ava", "after": "Eva"}},
    )
    db.flush()
    response = client.get(
        "/api/v1/change-log",
        params={"entity_type": "person"},
        headers=auth_headers(db, cast.service_manager),
    )
    assert response.status_code == 200
    assert response.json()["items"] == []
