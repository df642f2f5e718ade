"""Restricted children, "who has looked at this child", and breaking the glass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append
from app.models import AccessLog, ChangeLog, Person, RestrictedAccessGrant, Role
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod
from tests.factories import auth_headers, make_child, make_user

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def name_on(db: Session, child: Person, *users: object) -> None:
    for user in users:
        db.add(
            RestrictedAccessGrant(
                person_id=child.id,
                user_id=user.id,  # type: ignore[attr-defined]
                granted_by_id=user.id,  # type: ignore[attr-defined]
            )
        )
    db.commit()


def access_rows(db: Session, child: Person) -> list[AccessLog]:
    db.expire_all()
    return list(
        db.scalars(
            select(AccessLog).where(AccessLog.person_id == child.id).order_by(AccessLog.occurred_at)
        )
    )


def test_a_manager_sees_who_has_looked_at_a_child_newest_first(
    client: TestClient, db: Session
) -> None:
    child = make_child(db)
    worker = make_user(db, Role.social_worker)
    manager = make_user(db, Role.team_manager)
    seen_by = principal_for_user(db, worker, auth=AuthMethod.session)
    for minutes in (0, 5):
        with clock.frozen_at(MONDAY_9AM + timedelta(minutes=minutes)):
            access_log_append(
                db, principal=seen_by, action="view", resource="person", person_id=child.id
            )
    db.commit()

    with clock.frozen_at(MONDAY_9AM + timedelta(hours=1)):
        response = client.get(
            f"/api/v1/children/{child.id}/access-log", headers=auth_headers(db, manager)
        )

    assert response.status_code == 200, response.text
    rows = response.json()["items"]
    # The manager's own look at the log is the newest entry: reading the log is logged too.
    assert [(r["action"], r["resource"], r["user_display_name"]) for r in rows] == [
        ("view", "access-log", manager.display_name),
        ("view", "person", worker.display_name),
        ("view", "person", worker.display_name),
    ]
    assert rows[1]["occurred_at"].startswith("2026-03-02T09:05:00")
    assert rows[1]["user_role"] == "social_worker"
    assert response.json()["next_cursor"] is None


def test_the_access_log_is_paged_with_a_cursor_without_gaps_or_repeats(
    client: TestClient, db: Session
) -> None:
    child = make_child(db)
    manager = make_user(db, Role.service_manager)
    seen_by = principal_for_user(db, manager, auth=AuthMethod.session)
    with clock.frozen_at(MONDAY_9AM):  # six rows in one instant: the id breaks the tie
        written = [
            access_log_append(
                db, principal=seen_by, action="list", resource="worklist", person_id=child.id
            ).id
            for _ in range(6)
        ]
    db.commit()
    headers = auth_headers(db, manager)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    with clock.frozen_at(MONDAY_9AM + timedelta(hours=1)):
        while pages == 0 or cursor is not None:
            params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
            page = client.get(
                f"/api/v1/children/{child.id}/access-log", headers=headers, params=params
            ).json()
            seen += [row["id"] for row in page["items"]]
            cursor = page["next_cursor"]
            pages += 1

    # Page 1: the first page read's own "view" row and two list rows; page 2: three list rows;
    # page 3: the last. The later reads' "view" rows are newer than the cursor, so not repeated.
    assert pages == 3
    assert len(seen) == 7 == len(set(seen))
    assert set(seen[1:]) == {str(i) for i in written}
    assert seen[1:] == sorted(seen[1:], reverse=True)


def test_a_made_up_cursor_is_a_422_not_a_500(client: TestClient, db: Session) -> None:
    child = make_child(db)
    manager = make_user(db, Role.team_manager)
    response = client.get(
        f"/api/v1/children/{child.id}/access-log",
        headers=auth_headers(db, manager),
        params={"cursor": "bm90LWEtY3Vyc29y"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_a_manager_not_named_on_a_restricted_child_gets_404_and_the_attempt_is_logged(
    client: TestClient, db: Session
) -> None:
    child = make_child(db, restricted=True)
    named = make_user(db, Role.team_manager)
    name_on(db, child, named)
    outsider = make_user(db, Role.team_manager)

    response = client.get(
        f"/api/v1/children/{child.id}/access-log", headers=auth_headers(db, outsider)
    )

    assert response.status_code == 404
    assert response.json()["detail"] == "There is no person with this id that you can see."
    unknown = client.get(
        "/api/v1/children/00000000-0000-4000-8000-000000000000/access-log",
        headers=auth_headers(db, outsider),
    )
    assert unknown.json()["detail"] == response.json()["detail"]  # existence is not disclosed
    # The request's own work was rolled back, but the denied attempt was written apart from it.
    rows = access_rows(db, child)
    assert [(r.action, r.user_id, r.resource) for r in rows] == [
        ("denied", outsider.id, "access-log")
    ]
    # A named manager sees it (and the denied attempt in it).
    allowed = client.get(f"/api/v1/children/{child.id}/access-log", headers=auth_headers(db, named))
    assert allowed.status_code == 200
    assert [r["action"] for r in allowed.json()["items"]] == ["view", "denied"]


def test_social_workers_cannot_read_the_access_log(client: TestClient, db: Session) -> None:
    child = make_child(db)
    worker = make_user(db, Role.social_worker)
    response = client.get(
        f"/api/v1/children/{child.id}/access-log", headers=auth_headers(db, worker)
    )
    assert response.status_code == 403


def test_a_manager_breaks_the_glass_with_a_reason_and_gains_nothing_lasting(
    client: TestClient, db: Session
) -> None:
    child = make_child(db, first_name="Restricted", restricted=True)
    manager = make_user(db, Role.team_manager)
    headers = auth_headers(db, manager)
    reason = "Police called out of hours about an immediate safeguarding concern."

    response = client.post(
        f"/api/v1/children/{child.id}/break-glass", headers=headers, json={"reason": reason}
    )

    assert response.status_code == 200, response.text
    assert response.json()["first_name"] == "Restricted"
    assert response.json()["is_restricted"] is True
    rows = access_rows(db, child)
    assert [(r.action, r.user_id, r.reason) for r in rows] == [("break_glass", manager.id, reason)]
    # Afterwards the manager still cannot see the child the ordinary way.
    later = client.get(f"/api/v1/children/{child.id}/access-log", headers=headers)
    assert later.status_code == 404


def test_breaking_the_glass_needs_a_manager_and_a_real_reason(
    client: TestClient, db: Session
) -> None:
    child = make_child(db, restricted=True)
    worker = make_user(db, Role.social_worker)
    manager = make_user(db, Role.service_manager)
    url = f"/api/v1/children/{child.id}/break-glass"

    by_worker = client.post(url, headers=auth_headers(db, worker), json={"reason": "x" * 40})
    no_reason = client.post(url, headers=auth_headers(db, manager), json={})
    thin_reason = client.post(url, headers=auth_headers(db, manager), json={"reason": "  why  "})
    unknown = client.post(
        "/api/v1/children/00000000-0000-4000-8000-000000000000/break-glass",
        headers=auth_headers(db, manager),
        json={"reason": "An urgent safeguarding concern."},
    )

    assert by_worker.status_code == 403
    assert no_reason.status_code == 422
    assert thin_reason.status_code == 422
    assert thin_reason.json()["errors"][0]["field"] == "reason"
    assert unknown.status_code == 404
    assert [r.action for r in access_rows(db, child)] == []


def test_a_manager_restricts_a_child_names_who_may_see_it_and_lifts_it_again(
    client: TestClient, db: Session
) -> None:
    child = make_child(db)
    manager = make_user(db, Role.team_manager)
    worker = make_user(db, Role.social_worker)
    other_manager = make_user(db, Role.team_manager)
    headers = auth_headers(db, manager)
    url = f"/api/v1/children/{child.id}/restricted-access"

    restricted = client.post(url, headers=headers, json={"user_ids": [str(worker.id)]})

    assert restricted.status_code == 200, restricted.text
    assert restricted.json()["is_restricted"] is True
    assert {u["user_id"] for u in restricted.json()["named_users"]} == {
        str(manager.id),
        str(worker.id),
    }
    outsider = client.get(
        f"/api/v1/children/{child.id}/access-log", headers=auth_headers(db, other_manager)
    )
    assert outsider.status_code == 404
    # Removing one named user, then the last one (refused), then lifting the restriction.
    assert (
        client.delete(url, headers=headers, params={"user_id": str(worker.id)}).status_code == 200
    )
    last = client.delete(url, headers=headers, params={"user_id": str(manager.id)})
    assert last.status_code == 409
    lifted = client.delete(url, headers=headers)
    assert lifted.status_code == 200
    assert lifted.json() == {"person_id": str(child.id), "is_restricted": False, "named_users": []}
    assert (
        client.get(
            f"/api/v1/children/{child.id}/access-log", headers=auth_headers(db, other_manager)
        ).status_code
        == 200
    )
    db.expire_all()
    changes = db.scalars(
        select(ChangeLog).where(ChangeLog.entity_id == child.id).order_by(ChangeLog.occurred_at)
    ).all()
    assert [c.action for c in changes] == ["restrict", "restricted_access_revoke", "unrestrict"]
    assert changes[0].changes["is_restricted"] == {"before": False, "after": True}
    assert all(c.actor_id == manager.id for c in changes)


def test_restricting_names_only_real_active_users(client: TestClient, db: Session) -> None:
    child = make_child(db)
    manager = make_user(db, Role.team_manager)
    response = client.post(
        f"/api/v1/children/{child.id}/restricted-access",
        headers=auth_headers(db, manager),
        json={"user_ids": ["00000000-0000-4000-8000-000000000000"]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "user_ids"
    db.expire_all()
    assert db.get_one(Person, child.id).is_restricted is False


def test_a_manager_not_named_cannot_change_a_restriction_they_cannot_see(
    client: TestClient, db: Session
) -> None:
    child = make_child(db, restricted=True)
    named = make_user(db, Role.team_manager)
    name_on(db, child, named)
    outsider = make_user(db, Role.service_manager)
    response = client.delete(
        f"/api/v1/children/{child.id}/restricted-access", headers=auth_headers(db, outsider)
    )
    assert response.status_code == 404
    db.expire_all()
    assert db.get_one(Person, child.id).is_restricted is True
    assert [r.action for r in access_rows(db, child)] == ["denied"]
