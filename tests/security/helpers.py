"""The cast of the security stories: local accounts with passwords, signed in through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Role, Team, UserAccount
from app.security.passwords import hash_password
from tests.factories import make_user

PASSWORD = "correct horse battery staple"


def make_local_user(
    db: Session,
    role: Role = Role.social_worker,
    *,
    password: str = PASSWORD,
    must_change_password: bool = False,
    team: Team | None = None,
    manager: bool = False,
    username: str | None = None,
) -> UserAccount:
    """A staff member who signs in with a password."""
    user = make_user(db, role, team=team, manager=manager, username=username)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change_password
    db.flush()
    db.commit()
    return user


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """Sign in through the API; the client keeps the cookie. Returns the login response body."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def csrf(body: dict[str, Any]) -> dict[str, str]:
    return {"X-CSRF-Token": str(body["csrf_token"])}
