"""A social worker changes her password on the web: the API's own service and rules (the current
password asked again, at least 12 characters, not her username, the lock-out after repeated
wrong guesses), other sessions ended; and someone given a temporary password is sent to change
it before anything else."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.org import UserAccount
from app.models.security import UserSession
from app.security.passwords import verify_and_rehash
from tests.security.helpers import PASSWORD
from tests.web.helpers import WebCast, hidden_csrf, web_sign_in

NEW_PASSWORD = "a kettle of fish on tuesday"


def _change(client: TestClient, token: str, **fields: str) -> Any:
    data = {
        "csrf_token": token,
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "next": "/",
    } | fields
    return client.post("/account/password", data=data, follow_redirects=False)


def _password_is(db: Session, user: UserAccount, password: str) -> bool:
    db.expire_all()
    fresh = db.get(UserAccount, user.id)
    assert fresh is not None
    assert fresh.password_hash is not None
    return verify_and_rehash(fresh.password_hash, password)[0]


def test_she_changes_her_password_and_her_other_sessions_end(
    app: FastAPI, client: TestClient, db: Session, cast: WebCast
) -> None:
    with TestClient(app) as laptop:
        web_sign_in(laptop, cast.worker)  # signed in on another computer too
        token = web_sign_in(client, cast.worker)
        form = client.get("/account/password")
        assert form.status_code == 200
        for label in ("Current password", "New password", "New password again"):
            assert label in form.text
        assert "temporary password" not in form.text

        changed = _change(client, token)
        assert changed.status_code == 303
        assert changed.headers["location"] == "/?notice=password_changed"
        assert "Your password has been changed." in client.get(changed.headers["location"]).text
        assert _password_is(db, cast.worker, NEW_PASSWORD)
        # This session carries on; the other computer must sign in again (ASVS 3.3.3).
        assert client.get("/children", follow_redirects=False).status_code == 200
        assert laptop.get("/children", follow_redirects=False).status_code == 303
    revoked = db.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == cast.worker.id, UserSession.revoked_at.is_not(None))
    )
    assert revoked == 1


def test_mistakes_are_named_in_the_error_summary_and_nothing_changes(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    for fields, field, message in (
        ({"confirm_password": "a kettle of fish on monday"}, "confirm_password", "do not match"),
        ({"new_password": "", "confirm_password": ""}, "new_password", "Enter a new password"),
        ({"current_password": ""}, "current_password", "Enter your current password"),
        (
            {"new_password": "short", "confirm_password": "short"},
            "new_password",
            "at least 12 characters",
        ),
        (
            {"new_password": cast.worker.username, "confirm_password": cast.worker.username},
            "new_password",
            "must not be your username",
        ),
        (
            {"new_password": PASSWORD, "confirm_password": PASSWORD},
            "new_password",
            "different from your current one",
        ),
    ):
        refused = _change(client, token, **fields)
        assert refused.status_code == 422, (fields, refused.text)
        assert "There is a problem" in refused.text
        assert f'href="#{field}"' in refused.text, fields
        assert message in refused.text, fields
        assert NEW_PASSWORD not in refused.text  # a password is never echoed back
        assert _password_is(db, cast.worker, PASSWORD)


def test_a_wrong_current_password_counts_towards_the_lock_out(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    token = web_sign_in(client, cast.worker)
    for _ in range(4):
        wrong = _change(client, token, current_password="not my password at all")
        assert wrong.status_code == 422
        assert "That is not your current password." in wrong.text
        assert 'href="#current_password"' in wrong.text
    locked = _change(client, token, current_password="not my password at all")
    assert locked.status_code == 429
    assert "This account is locked" in locked.text
    # Even the right one now waits, like signing in.
    assert _change(client, token).status_code == 429
    assert _password_is(db, cast.worker, PASSWORD)


def test_a_change_needs_the_sessions_token_and_a_session(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    web_sign_in(client, cast.worker)
    forged = _change(client, "forged")
    assert forged.status_code == 403
    assert _password_is(db, cast.worker, PASSWORD)
    client.cookies.clear()
    assert client.get("/account/password", follow_redirects=False).status_code == 303


def test_a_temporary_password_must_be_changed_before_anything_else(
    client: TestClient, db: Session, cast: WebCast
) -> None:
    cast.worker.must_change_password = True
    db.commit()
    form = client.get("/sign-in")
    signed_in = client.post(
        "/sign-in",
        data={
            "username": cast.worker.username,
            "password": PASSWORD,
            "csrf_token": hidden_csrf(form.text),
            "next": "/children",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/account/password?next=%2Fchildren"
    page = client.get(signed_in.headers["location"])
    assert "You signed in with a temporary password." in page.text
    assert 'name="next" value="/children"' in page.text
    # Every other page sends her back here until she has.
    elsewhere = client.get("/", follow_redirects=False)
    assert elsewhere.status_code == 303
    assert elsewhere.headers["location"] == "/account/password?next=%2F"

    changed = _change(client, hidden_csrf(page.text), next="/children")
    assert changed.status_code == 303
    assert changed.headers["location"] == "/children?notice=password_changed"
    assert client.get("/", follow_redirects=False).status_code == 200
    db.expire_all()
    fresh = db.get(UserAccount, cast.worker.id)
    assert fresh is not None
    assert fresh.must_change_password is False
