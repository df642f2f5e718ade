"""The information governance lead reviews every break-glass read and every refused attempt."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import AccessLog, Role
from app.models.outbox import OutboxEvent, WebhookDelivery
from tests.factories import auth_headers, make_child, make_user

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REASON = "Police called out of hours about an immediate safeguarding concern."


def test_a_break_glass_read_and_a_refused_look_reach_the_service_manager_newest_first(
    client: TestClient, db: Session
) -> None:
    child = make_child(db, restricted=True)
    manager = make_user(db, Role.team_manager)
    worker = make_user(db, Role.social_worker)
    governance = make_user(db, Role.service_manager)
    with clock.frozen_at(MONDAY_9AM):
        glass = client.post(
            f"/api/v1/children/{child.id}/break-glass",
            headers=auth_headers(db, manager),
            json={"reason": REASON},
        )
    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=10)):
        refused = client.get(f"/api/v1/children/{child.id}", headers=auth_headers(db, worker))
    assert glass.status_code == 200, glass.text
    assert refused.status_code == 404

    with clock.frozen_at(MONDAY_9AM + timedelta(hours=1)):
        listed = client.get(
            "/api/v1/security/alerts",
            headers=auth_headers(db, governance),
            params={"since": (MONDAY_9AM - timedelta(minutes=1)).isoformat()},
        )

    assert listed.status_code == 200, listed.text
    alerts = [
        (a["kind"], a["user_id"], a["person_id"], a["reason"]) for a in listed.json()["items"]
    ]
    assert alerts == [
        ("denied", str(worker.id), str(child.id), None),
        ("break_glass", str(manager.id), str(child.id), REASON),
    ]
    # Reading the alerts is itself a look at the child (the reasons are about her): logged once.
    db.expire_all()
    listed_rows = db.scalars(
        select(AccessLog).where(
            AccessLog.person_id == child.id, AccessLog.resource == "security-alerts"
        )
    ).all()
    assert [(r.action, r.user_id) for r in listed_rows] == [("list", governance.id)]


def test_the_alerts_can_be_narrowed_to_break_glass_and_paged(
    client: TestClient, db: Session
) -> None:
    children = [make_child(db, restricted=True) for _ in range(3)]
    manager = make_user(db, Role.service_manager)
    admin = make_user(db, Role.administrator)
    worker = make_user(db, Role.social_worker)
    for minute, child in enumerate(children):
        with clock.frozen_at(MONDAY_9AM + timedelta(minutes=minute)):
            client.get(f"/api/v1/children/{child.id}", headers=auth_headers(db, worker))
            client.post(
                f"/api/v1/children/{child.id}/break-glass",
                headers=auth_headers(db, manager),
                json={"reason": REASON},
            )
    since = MONDAY_9AM.isoformat()

    first = client.get(
        "/api/v1/security/alerts",
        headers=auth_headers(db, admin),
        params={"kind": "break_glass", "limit": 2, "since": since},
    )
    assert first.status_code == 200, first.text
    second = client.get(
        "/api/v1/security/alerts",
        headers=auth_headers(db, admin),
        params={
            "kind": "break_glass",
            "limit": 2,
            "since": since,
            "cursor": first.json()["next_cursor"],
        },
    )

    pages = first.json()["items"] + second.json()["items"]
    assert {a["kind"] for a in pages} == {"break_glass"}
    assert [a["person_id"] for a in pages] == [str(c.id) for c in reversed(children)]
    assert second.json()["next_cursor"] is None


def test_team_managers_and_workers_do_not_see_the_councils_alerts(
    client: TestClient, db: Session
) -> None:
    for role in (Role.social_worker, Role.team_manager, Role.iro, Role.qa_auditor):
        response = client.get(
            "/api/v1/security/alerts", headers=auth_headers(db, make_user(db, role))
        )
        assert response.status_code == 403, (role, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_kind_or_instant_that_is_not_one_is_a_422_naming_it(
    client: TestClient, db: Session
) -> None:
    headers = auth_headers(db, make_user(db, Role.service_manager))
    bad_kind = client.get("/api/v1/security/alerts", headers=headers, params={"kind": "view"})
    naive = client.get(
        "/api/v1/security/alerts", headers=headers, params={"since": "2026-03-02T09:00:00"}
    )
    made_up = client.get("/api/v1/security/alerts", headers=headers, params={"cursor": "abc"})
    assert bad_kind.status_code == 422
    assert "kind" in bad_kind.text
    assert naive.status_code == 422
    assert "since" in naive.text
    assert made_up.status_code == 422
    assert "cursor" in made_up.text


def test_a_break_glass_read_is_sent_to_the_councils_security_monitoring_without_the_reason(
    client: TestClient, db: Session
) -> None:
    admin = make_user(db, Role.administrator)
    subscribed = client.post(
        "/api/v1/webhooks/subscriptions",
        json={
            "name": "Security monitoring",
            "url": "https://siem.example.org/casework",
            "event_types": ["security.break_glass"],
        },
        headers=auth_headers(db, admin),
    )
    assert subscribed.status_code == 201, subscribed.text
    child = make_child(db, first_name="Restricted", restricted=True)
    manager = make_user(db, Role.team_manager)

    glass = client.post(
        f"/api/v1/children/{child.id}/break-glass",
        headers=auth_headers(db, manager),
        json={"reason": REASON},
    )

    assert glass.status_code == 200, glass.text
    db.expire_all()
    events = db.scalars(
        select(OutboxEvent).where(OutboxEvent.event_type == "security.break_glass")
    ).all()
    assert len(events) == 1
    data = events[0].payload["data"]
    assert (data["child_id"], data["user_id"], data["user_role"]) == (
        str(child.id),
        str(manager.id),
        "team_manager",
    )
    sent = json.dumps(events[0].payload)
    assert "Police called" not in sent
    assert "Restricted" not in sent
    deliveries = db.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event_id == events[0].id)
    ).all()
    assert [d.subscription_id for d in deliveries] == [uuid.UUID(subscribed.json()["id"])]
