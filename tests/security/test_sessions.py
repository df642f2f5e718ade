"""Signing in, staying signed in, and being signed out: server-side sessions with a CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Role, UserAccount, UserSession
from app.security.tokens import hash_secret
from tests.factories import auth_headers, make_team
from tests.security.helpers import PASSWORD, csrf, make_local_user, sign_in

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRONG = "The username or password is not right."


def test_a_worker_signs_in_and_the_cookie_says_who_they_are(
    client: TestClient, db: Session
) -> None:
    team = make_team(db, name="North Assessment")
    user = make_local_user(db, username="sam.worker", team=team)

    response = client.post(
        "/api/v1/auth/login", json={"username": "Sam.Worker ", "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "sam.worker"
    assert "password_hash" not in body["user"]
    assert body["csrf_token"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("casework_session=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["id"] == str(user.id)
    assert me.json()["auth"] == "session"
    assert me.json()["teams"] == [
        {"team_id": str(team.id), "name": "North Assessment", "is_manager": False}
    ]
    assert me.json()["csrf_token"] == body["csrf_token"]
    db.expire_all()
    assert db.get_one(UserAccount, user.id).last_login_at is not None


def test_only_the_hash_of_the_session_cookie_is_stored(client: TestClient, db: Session) -> None:
    make_local_user(db, username="hash.check")
    sign_in(client, "hash.check")
    cookie = client.cookies["casework_session"]
    stored = db.scalars(select(UserSession.token_hash)).all()
    assert hash_secret(cookie) in stored
    assert cookie not in stored


def test_the_cookie_is_marked_secure_outside_local_development(
    make_client: Callable[[Settings], TestClient], settings: Settings, db: Session
) -> None:
    make_local_user(db, username="secure.cookie")
    client = make_client(settings.model_copy(update={"cookie_secure": True}))
    response = client.post(
        "/api/v1/auth/login", json={"username": "secure.cookie", "password": PASSWORD}
    )
    assert "secure" in response.headers["set-cookie"].lower()


def test_a_wrong_password_and_an_unknown_username_get_the_same_answer(
    client: TestClient, db: Session
) -> None:
    make_local_user(db, username="real.person")

    wrong = client.post("/api/v1/auth/login", json={"username": "real.person", "password": "x"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == WRONG
        assert response.json()["code"] == "bad_credentials"
        assert "set-cookie" not in response.headers


def test_an_account_without_a_password_cannot_sign_in_locally(
    client: TestClient, db: Session
) -> None:
    from tests.factories import make_user

    make_user(db, username="oidc.only")
    db.commit()
    response = client.post("/api/v1/auth/login", json={"username": "oidc.only", "password": "x"})
    assert response.status_code == 401
    assert response.json()["detail"] == WRONG


def test_a_disabled_account_cannot_sign_in(client: TestClient, db: Session) -> None:
    user = make_local_user(db, username="gone.away")
    user.is_active = False
    db.commit()
    response = client.post(
        "/api/v1/auth/login", json={"username": "gone.away", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]


def test_five_wrong_passwords_lock_the_account_until_the_lock_out_has_passed(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = make_local_user(db, username="guessed.at")
    attempt = {"username": "guessed.at", "password": "not the password"}
    with clock.frozen_at(MONDAY_9AM):
        for _ in range(settings.max_failed_logins - 1):
            assert client.post("/api/v1/auth/login", json=attempt).status_code == 401

        locking = client.post("/api/v1/auth/login", json=attempt)
        assert locking.status_code == 429
        assert locking.headers["retry-after"] == str(settings.lockout_minutes * 60)
        assert locking.json()["code"] == "account_locked"
        assert "Try again in 15 minutes" in locking.json()["detail"]

    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=10)):
        # Even the right password is refused while the account is locked.
        still = client.post(
            "/api/v1/auth/login", json={"username": "guessed.at", "password": PASSWORD}
        )
        assert still.status_code == 429
        assert still.headers["retry-after"] == str(5 * 60)
        assert "5 minutes" in still.json()["detail"]

    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=15, seconds=1)):
        sign_in(client, "guessed.at")
    db.expire_all()
    account = db.get_one(UserAccount, user.id)
    assert account.failed_login_count == 0
    assert account.locked_until is None


def test_a_successful_sign_in_resets_the_count_of_failures(
    client: TestClient, db: Session, settings: Settings
) -> None:
    make_local_user(db, username="typo.prone")
    attempt = {"username": "typo.prone", "password": "not the password"}
    for _ in range(settings.max_failed_logins - 1):
        client.post("/api/v1/auth/login", json=attempt)
    sign_in(client, "typo.prone")
    for _ in range(settings.max_failed_logins - 1):
        assert client.post("/api/v1/auth/login", json=attempt).status_code == 401


def test_a_session_ends_after_the_idle_timeout(client: TestClient, db: Session) -> None:
    make_local_user(db, username="coffee.break")
    with clock.frozen_at(MONDAY_9AM):
        sign_in(client, "coffee.break")
    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=29)):
        assert client.get("/api/v1/auth/me").status_code == 200
    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=58)):
        # 29 minutes after the last request: still alive.
        assert client.get("/api/v1/auth/me").status_code == 200
    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=58 + 31)):
        response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert "30 minutes without activity" in response.json()["detail"]


def test_a_busy_session_still_ends_at_its_absolute_lifetime(
    make_client: Callable[[Settings], TestClient], settings: Settings, db: Session
) -> None:
    make_local_user(db, username="long.day")
    client = make_client(settings.model_copy(update={"session_absolute_minutes": 60}))
    with clock.frozen_at(MONDAY_9AM):
        body = sign_in(client, "long.day")
    assert body["expires_at"].startswith("2026-03-02T10:00:00")
    for minutes in (20, 40, 59):
        with clock.frozen_at(MONDAY_9AM + timedelta(minutes=minutes)):
            assert client.get("/api/v1/auth/me").status_code == 200
    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=60)):
        response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert "time limit" in response.json()["detail"]


def test_signing_out_ends_the_session_for_good(client: TestClient, db: Session) -> None:
    make_local_user(db, username="home.time")
    body = sign_in(client, "home.time")
    cookie = client.cookies["casework_session"]

    response = client.post("/api/v1/auth/logout", headers=csrf(body))

    assert response.status_code == 204
    assert 'casework_session=""' in response.headers["set-cookie"]
    # Replaying the old cookie does not work either.
    client.cookies.set("casework_session", cookie)
    assert client.get("/api/v1/auth/me").status_code == 401
    revoked = db.scalar(select(UserSession).where(UserSession.token_hash == hash_secret(cookie)))
    assert revoked is not None
    assert revoked.revoked_at is not None


def test_a_made_up_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set("casework_session", "made-up")
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_post_with_the_cookie_but_without_the_right_csrf_token_is_refused(
    client: TestClient, db: Session, token: str | None
) -> None:
    make_local_user(db, username="csrf.target")
    sign_in(client, "csrf.target")
    headers = {} if token is None else {"X-CSRF-Token": token}

    response = client.post("/api/v1/auth/logout", headers=headers)

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert response.json()["detail"] == (
        "The form has expired or did not come from Casework; reload and try again."
    )
    assert client.get("/api/v1/auth/me").status_code == 200  # nothing happened


def test_a_get_with_the_cookie_needs_no_csrf_token(client: TestClient, db: Session) -> None:
    make_local_user(db, username="just.looking")
    sign_in(client, "just.looking")
    assert client.get("/api/v1/auth/me").status_code == 200


def test_bearer_requests_need_no_csrf_token(client: TestClient, db: Session) -> None:
    admin = make_local_user(db, Role.administrator, username="bearer.admin")
    response = client.post(
        "/api/v1/users",
        headers=auth_headers(db, admin),
        json={"username": "new.starter", "display_name": "New Starter", "role": "social_worker"},
    )
    assert response.status_code == 201, response.text


def test_a_new_user_must_change_their_temporary_password_before_anything_else(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    admin = make_local_user(db, Role.administrator, username="the.admin")
    created = client.post(
        "/api/v1/users",
        headers=auth_headers(db, admin),
        json={
            "username": "tm.new",
            "display_name": "Terry Manager",
            "role": "team_manager",
            "password": "temporary-password-1",
        },
    )
    assert created.status_code == 201
    assert created.json()["must_change_password"] is True
    assert "password" not in created.json()
    assert "password_hash" not in created.json()

    body = sign_in(client, "tm.new", "temporary-password-1")
    assert body["must_change_password"] is True
    refused = client.get("/api/v1/users")
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["must_change_password"] is True

    # A second sign-in elsewhere, which the change will end.
    with TestClient(app) as elsewhere:
        sign_in(elsewhere, "tm.new", "temporary-password-1")

        wrong_current = client.post(
            "/api/v1/auth/change-password",
            headers=csrf(body),
            json={"current_password": "guess-guess-guess", "new_password": "a-better-password"},
        )
        assert wrong_current.status_code == 422
        assert wrong_current.json()["errors"][0]["field"] == "current_password"
        too_short = client.post(
            "/api/v1/auth/change-password",
            headers=csrf(body),
            json={"current_password": "temporary-password-1", "new_password": "short"},
        )
        assert too_short.status_code == 422
        assert too_short.json()["errors"][0]["field"] == "new_password"
        changed = client.post(
            "/api/v1/auth/change-password",
            headers=csrf(body),
            json={"current_password": "temporary-password-1", "new_password": "a-better-password"},
        )
        assert changed.status_code == 204

        assert elsewhere.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/users").status_code == 200
    assert client.get("/api/v1/auth/me").json()["must_change_password"] is False
    db.expire_all()
    account = db.scalar(select(UserAccount).where(UserAccount.username == "tm.new"))
    assert account is not None
    assert account.failed_login_count == 0


def test_a_password_reset_signs_the_user_out_everywhere_and_unlocks_them(
    client: TestClient, app: FastAPI, db: Session, settings: Settings
) -> None:
    admin = make_local_user(db, Role.administrator, username="reset.admin")
    user = make_local_user(db, username="forgetful")
    sign_in(client, "forgetful")
    with TestClient(app) as guesser:
        for _ in range(settings.max_failed_logins):
            guesser.post("/api/v1/auth/login", json={"username": "forgetful", "password": "?"})

    response = client.post(
        f"/api/v1/users/{user.id}/reset-password",
        headers=auth_headers(db, admin),
        json={"new_password": "temporary-again-1"},
    )

    assert response.status_code == 200
    assert response.json()["must_change_password"] is True
    # The session the user held before the reset has ended.
    assert client.get("/api/v1/auth/me").status_code == 401
    with TestClient(app) as fresh:
        body = sign_in(fresh, "forgetful", "temporary-again-1")
        assert body["must_change_password"] is True


def test_resetting_the_password_of_an_unknown_user_is_404(client: TestClient, db: Session) -> None:
    admin = make_local_user(db, Role.administrator, username="reset.admin2")
    response = client.post(
        "/api/v1/users/00000000-0000-4000-8000-000000000000/reset-password",
        headers=auth_headers(db, admin),
        json={"new_password": "temporary-again-1"},
    )
    assert response.status_code == 404


def test_another_site_cannot_sign_someone_in_with_a_plain_form_post(
    client: TestClient, db: Session
) -> None:
    """Login CSRF: a cross-site form can send text/plain or form encoding without a preflight,
    but not JSON, and the sign-in accepts only JSON."""
    make_local_user(db, username="form.target")
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            "/api/v1/auth/login",
            content=f'{{"username": "form.target", "password": "{PASSWORD}"}}',
            headers={"content-type": content_type},
        )
        assert response.status_code == 422
        assert "set-cookie" not in response.headers
