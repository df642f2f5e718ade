"""Password spraying: one password tried on many accounts from one address is stopped, although no
single account ever reaches its own lock-out (OWASP ASVS 2.2.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.config import Settings
from app.main import create_app
from app.models import UserAccount
from app.models.security import SignInThrottle
from tests.security.helpers import PASSWORD, make_local_user, sign_in
from tests.web.helpers import hidden_csrf

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMIT = 4


@pytest.fixture
def from_address(
    engine: Engine, session_factory: sessionmaker[Session], settings: Settings
) -> Iterator[dict[str, TestClient]]:
    """Clients of one app (a low limit, to keep the story short) from two network addresses."""
    app = create_app(
        settings.model_copy(update={"sign_in_source_max_failures": LIMIT}),
        engine=engine,
        session_factory=session_factory,
    )
    clients = {
        address: TestClient(app, raise_server_exceptions=False, client=(address, 50000))
        for address in ("203.0.113.7", "198.51.100.20")
    }
    for client in clients.values():
        client.__enter__()
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def test_one_password_sprayed_across_accounts_is_stopped_at_the_address(
    from_address: dict[str, TestClient], db: Session
) -> None:
    sprayer, office = from_address["203.0.113.7"], from_address["198.51.100.20"]
    for n in range(LIMIT + 1):
        make_local_user(db, username=f"staff.{n}")
    make_local_user(db, username="office.worker")

    with clock.frozen_at(MONDAY_9AM):
        # One guess at each account: none of them is anywhere near its own lock-out.
        for n in range(LIMIT):
            guess = {"username": f"staff.{n}", "password": "Winter2026!"}
            assert sprayer.post("/api/v1/auth/login", json=guess).status_code == 401
        # The address has used its failures: even a right password is not checked now.
        refused = sprayer.post(
            "/api/v1/auth/login", json={"username": f"staff.{LIMIT}", "password": PASSWORD}
        )
        # Someone at another address signs in as usual.
        sign_in(office, "office.worker")

    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "sign_in_throttled"
    assert refused.headers["retry-after"] == str(15 * 60)
    assert "Try again in 15 minutes" in refused.json()["detail"]
    db.expire_all()
    accounts = db.scalars(select(UserAccount).where(UserAccount.username.like("staff.%"))).all()
    assert {(a.failed_login_count, a.locked_until) for a in accounts} <= {(0, None), (1, None)}
    # Only a hash of the address is kept.
    stored = db.scalars(select(SignInThrottle)).all()
    assert [row.failures for row in stored] == [LIMIT]
    assert all("203.0.113.7" not in row.source_hash for row in stored)


def test_the_address_may_try_again_when_the_window_has_passed_and_a_success_clears_nothing(
    from_address: dict[str, TestClient], db: Session
) -> None:
    sprayer = from_address["203.0.113.7"]
    make_local_user(db, username="own.account")
    wrong = {"username": "own.account", "password": "not it"}
    with clock.frozen_at(MONDAY_9AM):
        assert sprayer.post("/api/v1/auth/login", json=wrong).status_code == 401
        # Signing in to an account of one's own does not reset the address's count.
        sign_in(sprayer, "own.account")
        for _ in range(LIMIT - 1):
            assert sprayer.post("/api/v1/auth/login", json=wrong).status_code == 401
        assert sprayer.post("/api/v1/auth/login", json=wrong).status_code == 429

    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=10)):
        still = sprayer.post("/api/v1/auth/login", json=wrong)
        assert still.status_code == 429
        assert still.headers["retry-after"] == str(5 * 60)

    with clock.frozen_at(MONDAY_9AM + timedelta(minutes=15, seconds=1)):
        # A new window: the next failure counts from one again.
        assert sprayer.post("/api/v1/auth/login", json=wrong).status_code == 401
        sign_in(sprayer, "own.account")
    db.expire_all()
    assert [row.failures for row in db.scalars(select(SignInThrottle))] == [1]


def test_the_sign_in_page_says_so_too(from_address: dict[str, TestClient], db: Session) -> None:
    sprayer = from_address["203.0.113.7"]
    with clock.frozen_at(MONDAY_9AM):
        for n in range(LIMIT):
            sprayer.post("/api/v1/auth/login", json={"username": f"nobody.{n}", "password": "x"})
        page = sprayer.get("/sign-in")
        posted = sprayer.post(
            "/sign-in",
            data={"username": "nobody", "password": "x", "csrf_token": hidden_csrf(page.text)},
            follow_redirects=False,
        )
    assert posted.status_code == 429
    assert "network address" in posted.text
