"""The cast of the web stories, signed in through the sign-in page like a person would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Person, UserAccount
from app.security.access import person_restrict
from app.security.authn import principal_for_user
from app.security.passwords import hash_password
from app.security.principal import AuthMethod
from tests.care.factories import CareCast, make_care_cast
from tests.factories import make_child
from tests.security.helpers import PASSWORD

TODAY = date(2026, 3, 2)  # a Monday
_HIDDEN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebCast:
    care: CareCast
    restricted_child: Person

    @property
    def worker(self) -> UserAccount:
        return self.care.social_worker

    @property
    def manager(self) -> UserAccount:
        return self.care.manager


def make_web_cast(db: Session) -> WebCast:
    """A children-in-care team (a manager and a worker who sign in with passwords), another
    team's worker, an IRO team, a child, and a restricted child only the manager is named on."""
    care = make_care_cast(db)
    for user in (care.social_worker, care.manager, care.other_social_worker, care.iro):
        user.password_hash = hash_password(PASSWORD)
    restricted = make_child(db, first_name="Hidden", last_name="Example")
    # Restricted by the team manager, who is named on it (and no one else is).
    person_restrict(
        db,
        principal=principal_for_user(db, care.manager, auth=AuthMethod.session),
        person_id=restricted.id,
        user_ids=[],
    )
    db.commit()
    return WebCast(care=care, restricted_child=restricted)


def hidden_csrf(html: str) -> str:
    found = _HIDDEN_CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def web_sign_in(client: TestClient, user: UserAccount, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from the sign-out form)."""
    form = client.get("/sign-in")
    assert form.status_code == 200, form.text
    signed_in = client.post(
        "/sign-in",
        data={
            "username": user.username,
            "password": password,
            "csrf_token": hidden_csrf(form.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    home = client.get("/children")
    assert home.status_code == 200, home.text
    return hidden_csrf(home.text)
