"""Integration tokens: issued to integration accounts only, shown once, stored hashed, scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import permission
from app.models import ApiToken, ChangeLog, Role
from app.security.principal import Principal
from app.security.tokens import hash_secret, token_issue
from tests.factories import auth_headers, make_user

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """The app with one extra route that needs ``case:write``, to see scopes at work."""

    @app.post("/probe/case-write")
    def probe(principal: Annotated[Principal, Depends(permission("case:write"))]) -> dict[str, str]:
        return {"ok": principal.display_name}

    return app


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_without_the_case_write_scope_cannot_write(probe_app: FastAPI, db: Session) -> None:
    robot = make_user(db, Role.integration_client)
    _, read_only = token_issue(db, user_id=robot.id, name="reader", scopes=["case:read"])
    _, writer = token_issue(db, user_id=robot.id, name="writer", scopes=["case:write"])
    db.commit()
    with TestClient(probe_app) as client:
        refused = client.post("/probe/case-write", headers=bearer(read_only))
        allowed = client.post("/probe/case-write", headers=bearer(writer))
    assert refused.status_code == 403
    assert "scope 'case:write'" in refused.json()["detail"]
    assert allowed.status_code == 200


def test_a_revoked_or_expired_token_is_refused(client: TestClient, db: Session) -> None:
    robot = make_user(db, Role.integration_client)
    revoked, revoked_secret = token_issue(db, user_id=robot.id, name="old", scopes=["case:read"])
    revoked.revoked_at = clock.now()
    _, expiring_secret = token_issue(
        db,
        user_id=robot.id,
        name="short-lived",
        scopes=["case:read"],
        expires_at=MONDAY_9AM + timedelta(hours=1),
    )
    db.commit()

    assert client.get("/api/v1/auth/me", headers=bearer(revoked_secret)).status_code == 401
    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=59)):
        assert client.get("/api/v1/auth/me", headers=bearer(expiring_secret)).status_code == 200
    with clock.frozen_at(MONDAY_9AM + timedelta(hours=1)):
        expired = client.get("/api/v1/auth/me", headers=bearer(expiring_secret))
    assert expired.status_code == 401
    assert expired.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "header", ["Bearer cw_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ", "cw_token"]
)
def test_malformed_or_unknown_credentials_are_401(client: TestClient, header: str) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401


def test_an_administrator_issues_a_token_whose_secret_is_shown_once_and_stored_hashed(
    client: TestClient, db: Session
) -> None:
    admin = make_user(db, Role.administrator)
    robot = make_user(db, Role.integration_client)

    response = client.post(
        "/api/v1/tokens",
        headers=auth_headers(db, admin),
        json={"user_id": str(robot.id), "name": "Health feed", "scopes": ["person:read"]},
    )

    assert response.status_code == 201, response.text
    issued = response.json()
    secret = issued["secret"]
    assert secret.startswith("cw_")
    assert issued["token_prefix"] == secret[:12]
    assert "token_hash" not in issued
    # What is stored: the hash, never the secret.
    stored = db.scalar(select(ApiToken).where(ApiToken.name == "Health feed"))
    assert stored is not None
    assert stored.token_hash == hash_secret(secret)
    columns = [str(getattr(stored, c.key)) for c in ApiToken.__table__.columns]
    assert not any(secret in value for value in columns)
    logged = db.scalars(select(ChangeLog).where(ChangeLog.entity_id == stored.id)).all()
    assert [row.action for row in logged] == ["issue"]
    assert secret not in str(logged[0].changes)
    # The token works, limited to its scopes.
    me = client.get("/api/v1/auth/me", headers=bearer(secret))
    assert me.json()["auth"] == "token"
    assert me.json()["scopes"] == ["person:read"]
    assert me.json()["csrf_token"] is None


@pytest.mark.parametrize(
    ("role", "scopes", "field"),
    [
        (Role.social_worker, ["case:read"], "user_id"),
        (Role.integration_client, ["user:read"], "scopes"),
        (Role.integration_client, ["no:such"], "scopes"),
    ],
)
def test_tokens_go_only_to_integration_accounts_and_only_with_scopes_their_role_has(
    client: TestClient, db: Session, role: Role, scopes: list[str], field: str
) -> None:
    admin = make_user(db, Role.administrator)
    holder = make_user(db, role)
    response = client.post(
        "/api/v1/tokens",
        headers=auth_headers(db, admin),
        json={"user_id": str(holder.id), "name": "x", "scopes": scopes},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_a_token_cannot_be_issued_already_expired(client: TestClient, db: Session) -> None:
    admin = make_user(db, Role.administrator)
    robot = make_user(db, Role.integration_client)
    response = client.post(
        "/api/v1/tokens",
        headers=auth_headers(db, admin),
        json={
            "user_id": str(robot.id),
            "name": "x",
            "scopes": ["case:read"],
            "expires_at": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "expires_at"


def test_only_administrators_issue_tokens(client: TestClient, db: Session) -> None:
    manager = make_user(db, Role.service_manager)
    robot = make_user(db, Role.integration_client)
    response = client.post(
        "/api/v1/tokens",
        headers=auth_headers(db, manager),
        json={"user_id": str(robot.id), "name": "x", "scopes": ["case:read"]},
    )
    assert response.status_code == 403


def test_a_revoked_token_stops_working_at_once(client: TestClient, db: Session) -> None:
    admin = make_user(db, Role.administrator)
    robot = make_user(db, Role.integration_client)
    token, secret = token_issue(db, user_id=robot.id, name="feed", scopes=["case:read"])
    db.commit()
    assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 200

    response = client.delete(f"/api/v1/tokens/{token.id}", headers=auth_headers(db, admin))

    assert response.status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401
    again = client.delete(f"/api/v1/tokens/{token.id}", headers=auth_headers(db, admin))
    assert again.status_code == 204
    actions = db.scalars(select(ChangeLog.action).where(ChangeLog.entity_id == token.id)).all()
    assert actions == ["revoke"]
    unknown = client.delete(
        "/api/v1/tokens/00000000-0000-4000-8000-000000000000", headers=auth_headers(db, admin)
    )
    assert unknown.status_code == 404


def test_a_disabled_accounts_tokens_stop_working(client: TestClient, db: Session) -> None:
    robot = make_user(db, Role.integration_client)
    _, secret = token_issue(db, user_id=robot.id, name="feed", scopes=["case:read"])
    robot.is_active = False
    db.commit()
    assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401
