"""Every web page declares who may see it, like every API route: an inventory of the pages the
app really serves, and every role against every page (the policy table decides, the page agrees).

The API's own inventory (tests/security/test_route_inventory.py) expects problem+json 401s; a
page answers a caller who is not signed in with a redirect to the sign-in page instead."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.models import Role, TeamKind, UserAccount
from app.models.security import UserSession
from app.security.policy import PERMISSIONS
from app.security.tokens import hash_secret
from app.web.security import csrf_checked, web_principal
from tests.factories import make_team, make_user
from tests.security.test_route_inventory import ENDPOINTS, Endpoint, _calls, _concrete

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app

# Reachable without signing in, on purpose: the sign-in form and the pinned static files.
OPEN_PAGES = {"/sign-in", "/assets", "/static"}


def _web(endpoint: Endpoint) -> bool:
    return endpoint.path != "/health" and not endpoint.path.startswith(("/api/", "/docs"))


PAGES = [e for e in ENDPOINTS if _web(e) and e.path not in OPEN_PAGES]


def _guard(endpoint: Endpoint) -> str | None:
    if endpoint.dependant is None:
        return None
    calls = list(_calls(endpoint.dependant))
    named = [str(call.permission) for call in calls if hasattr(call, "permission")]
    if named:
        return ", ".join(named)
    if csrf_checked in calls:
        return "signed-in form"
    return "signed-in" if web_principal in calls else None


def test_every_page_needs_a_signed_in_user_with_a_permission_or_is_on_the_open_list() -> None:
    assert {e.path for e in PAGES} >= {"/", "/children", "/children/{child_id}", "/sign-out"}
    unguarded = sorted(e.path for e in PAGES if _guard(e) is None)
    assert unguarded == []
    assert {(e.path, _guard(e)) for e in PAGES if "GET" in e.methods} >= {
        ("/", "deadline:read"),
        ("/children", "person:read"),
        ("/children/{child_id}", "case:read"),
        ("/front-door", "case:read"),
    }
    # Every form post checks the CSRF token (signing out needs nothing more; every other form
    # also names the permission it needs, through ``web_form``).
    unchecked = sorted(
        e.path
        for e in PAGES
        if "POST" in e.methods and (e.dependant is None or csrf_checked not in _calls(e.dependant))
    )
    assert unchecked == []


@pytest.mark.parametrize(
    ("method", "path"),
    sorted((m, e.path) for e in PAGES for m in e.methods if m != "HEAD"),
)
def test_without_signing_in_every_page_redirects_to_sign_in(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, _concrete(path), follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/sign-in")


def _session_cookie(db: Session, user: UserAccount) -> str:
    """A live session for ``user`` without a password round (argon2 is slow on purpose)."""
    cookie = secrets.token_urlsafe(32)
    now = clock.now()
    db.add(
        UserSession(
            token_hash=hash_secret(cookie),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    db.commit()
    return cookie


GUARDED_GETS = sorted(
    (e.path, str(_guard(e))) for e in PAGES if "GET" in e.methods and _guard(e) in PERMISSIONS
)


@pytest.mark.parametrize(("path", "needed"), GUARDED_GETS)
def test_each_role_sees_a_page_exactly_where_the_policy_says(
    client: TestClient, db: Session, path: str, needed: str
) -> None:
    team = make_team(db, kind=TeamKind.assessment)
    wrong: list[tuple[Role, int]] = []
    concrete = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)
    for role in Role:
        user = make_user(db, role, team=team, manager=role is Role.team_manager)
        client.cookies.set("casework_session", _session_cookie(db, user))
        response = client.get(concrete, follow_redirects=False)
        if role in PERMISSIONS[needed]:
            if response.status_code in (303, 401, 403):
                wrong.append((role, response.status_code))
        elif response.status_code != 403 or "You cannot do this" not in response.text:
            wrong.append((role, response.status_code))
    assert not wrong, (needed, wrong)
