"""Stories of an administrator managing an integration's subscription, and what is refused."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ChangeLog, Role, UserAccount
from app.models.outbox import WebhookSubscription
from app.outbox import service as outbox_service
from tests.cases.factories import principal
from tests.factories import auth_headers, make_user

BASE = "/api/v1/webhooks/subscriptions"


def test_an_administrator_subscribes_sees_the_secret_once_and_changes_it_with_if_match(
    client: TestClient, db: Session, admin: UserAccount
) -> None:
    headers = auth_headers(db, admin)
    created = client.post(
        BASE,
        json={
            "name": "West Midlands Police",
            "url": "https://police.example.org/casework",
            "event_types": ["s47.started", "cp_plan.started", "s47.started"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["s47.started", "cp_plan.started"]
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"{BASE}/{body['id']}"
    assert body["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0}

    one = client.get(f"{BASE}/{body['id']}", headers=headers)
    listed = client.get(BASE, headers=headers)
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    assert body["secret"] not in one.text + listed.text

    changed = client.patch(
        f"{BASE}/{body['id']}",
        json={"event_types": ["cp_plan.started", "cp_plan.ended"], "name": "WMP"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["event_types"] == ["cp_plan.started", "cp_plan.ended"]
    stale = client.patch(
        f"{BASE}/{body['id']}", json={"name": "Late"}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    unconditional = client.patch(f"{BASE}/{body['id']}", json={"name": "Late"}, headers=headers)
    assert unconditional.status_code == 428

    # The change log keeps who changed what, never the secret.
    logs = db.scalars(select(ChangeLog).where(ChangeLog.entity_id == uuid.UUID(body["id"])))
    assert [log.action for log in logs] == ["create", "update"]
    assert body["secret"] not in str([log.changes for log in logs])

    deleted = client.delete(f"{BASE}/{body['id']}", headers=headers)
    assert deleted.status_code == 204
    assert client.get(f"{BASE}/{body['id']}", headers=headers).status_code == 404
    assert db.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_unknown_event_types_and_urls_that_are_not_http_are_refused_by_name(
    client: TestClient, db: Session, admin: UserAccount
) -> None:
    headers = auth_headers(db, admin)
    unknown = client.post(
        BASE,
        json={
            "name": "Health",
            "url": "https://nhs.example.org/hook",
            "event_types": ["case.opened", "child.born", "case.reopened"],
        },
        headers=headers,
    )
    assert unknown.status_code == 422, unknown.text
    problem = unknown.json()
    assert problem["code"] == "unknown_event_type"
    assert "case.reopened" in problem["detail"]
    assert "child.born" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["event_types", "event_types"]
    for url in (
        "ftp://nhs.example.org/hook",
        "file:///etc/passwd",
        "nhs.example.org",
        "https://",
        "http://[",
        "https://nhs.example.org:99999/hook",
        "https://nhs example.org/hook",
    ):
        bad = client.post(
            BASE,
            json={"name": "Health", "url": url, "event_types": ["case.opened"]},
            headers=headers,
        )
        assert bad.status_code == 422, (url, bad.text)
        assert [e["field"] for e in bad.json()["errors"]] == ["url"]
    empty = client.post(
        BASE,
        json={"name": "Health", "url": "https://a.example", "event_types": []},
        headers=headers,
    )
    assert empty.status_code == 422
    assert db.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_a_patch_to_an_unknown_type_or_subscription_is_refused(
    client: TestClient, db: Session, admin: UserAccount
) -> None:
    headers = auth_headers(db, admin)
    created = client.post(
        BASE,
        json={
            "name": "Schools",
            "url": "http://schools.example/hook",
            "event_types": ["case.opened"],
        },
        headers=headers,
    ).json()
    bad = client.patch(
        f"{BASE}/{created['id']}",
        json={"event_types": ["case.vanished"]},
        headers={**headers, "If-Match": '"1"'},
    )
    assert bad.status_code == 422
    assert "case.vanished" in bad.json()["detail"]
    missing = uuid.uuid4()
    assert client.get(f"{BASE}/{missing}", headers=headers).status_code == 404
    assert client.delete(f"{BASE}/{missing}", headers=headers).status_code == 404
    assert client.get(f"{BASE}/{missing}/deliveries", headers=headers).status_code == 404
    gone = client.patch(
        f"{BASE}/{missing}", json={"name": "x"}, headers={**headers, "If-Match": '"1"'}
    )
    assert gone.status_code == 404
    garbage = client.get(f"{BASE}/{created['id']}/deliveries?cursor=abc", headers=headers)
    assert garbage.status_code == 422


def test_a_social_worker_may_not_see_or_manage_webhooks(
    client: TestClient, db: Session, admin: UserAccount
) -> None:
    worker = make_user(db, Role.social_worker)
    headers = auth_headers(db, worker)
    subscription = outbox_service.subscription_create(
        db,
        actor=principal(db, admin),
        name="Police",
        url="https://police.example.org/hook",
        event_types=["case.opened"],
    )
    db.commit()
    for method, path in (
        ("GET", BASE),
        ("POST", BASE),
        ("GET", f"{BASE}/{subscription.id}"),
        ("DELETE", f"{BASE}/{subscription.id}"),
        ("GET", f"{BASE}/{subscription.id}/deliveries"),
        ("GET", "/api/v1/webhooks/event-types"),
    ):
        response = client.request(
            method,
            path,
            headers=headers,
            json={"name": "x", "url": "https://x.example", "event_types": ["case.opened"]}
            if method == "POST"
            else None,
        )
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"
        assert subscription.secret not in response.text
    assert client.get(BASE).status_code == 401


def test_the_event_types_are_listed_with_their_meaning(
    client: TestClient, db: Session, admin: UserAccount
) -> None:
    listed = client.get("/api/v1/webhooks/event-types", headers=auth_headers(db, admin))
    assert listed.status_code == 200
    types = {row["type"]: row["description"] for row in listed.json()}
    assert types == outbox_service.EVENT_TYPES
    assert "child.became_looked_after" in types
    assert "placement.changed" in types
