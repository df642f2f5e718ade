"""The database goes away and comes back (issue 8, part 2): no 500, no trace, nothing half done.

A council's database is restarted for a minor-version patch, or fails over. While it is away every
request is answered 503 with ``Retry-After`` and a sentence a person can act on (problem+json for
the API, the GOV.UK "service unavailable" page for a browser), the request's transaction is rolled
back, and once the database is back the next requests succeed: the pool's dead connections are
replaced, not handed out.

No mocks: on PostgreSQL a private cluster of our own (never the shared server) is really stopped
and started; on SQLite another process really holds the write lock past the busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.config import Environment, Settings
from app.db import make_engine, make_session_factory
from app.main import create_app
from app.models import Case, CaseEvent
from tests.cases.factories import make_cast
from tests.conftest import BACKEND
from tests.factories import auth_headers, make_child
from tests.reliability.drills import integrity_problems
from tests.reliability.private_cluster import PrivateCluster, unavailable_reason

PROBLEM = "application/problem+json"
RETRY_AFTER = 1
#: SQLite: how long a request waits for another writer's lock before giving up (10 s in service).
BUSY_TIMEOUT_MS = 300


@dataclass
class Council:
    client: TestClient
    factory: sessionmaker[Session]
    headers: dict[str, str]
    team_id: uuid.UUID
    children: list[uuid.UUID]
    url: str


def _council(engine: Engine, url: str) -> Iterator[Council]:
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as setup:
        cast = make_cast(setup)
        kids = [make_child(setup, first_name=f"Restart{n}").id for n in range(3)]
        setup.commit()
        headers = auth_headers(setup, cast.manager)
        team_id = cast.team.id
    settings = Settings(
        environment=Environment.test,
        database_url=url,
        secret_key="database-restart-test-secret-key-long-enough-0123456789",
        cookie_secure=False,
        database_retry_after_seconds=RETRY_AFTER,
    )
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Council(client, factory, headers, team_id, kids, url)


def _assert_503(response: Any) -> None:
    """A 503 problem a client can act on: when to come back, and no stack trace."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "Try again" in body["detail"]
    assert body["request_id"]
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text
    assert "sqlite" not in response.text.lower()


def _assert_503_page(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert "Sorry, the service is unavailable" in response.text
    assert "Nothing you were doing has been saved" in response.text
    assert "Traceback" not in response.text


def _open_case(council: Council, child_id: uuid.UUID, **headers: str) -> Any:
    return council.client.post(
        "/api/v1/cases",
        headers={**council.headers, **headers},
        json={"child_id": str(child_id), "team_id": str(council.team_id)},
    )


def _cases_of(council: Council, child_id: uuid.UUID) -> int:
    with council.factory() as session:
        return session.scalar(select(func.count()).where(Case.child_id == child_id)) or 0


def _while_away(council: Council) -> None:
    """Every kind of request, while the database cannot be reached: the same 503."""
    _assert_503(council.client.get("/api/v1/auth/me", headers=council.headers))
    _assert_503(_open_case(council, council.children[0]))
    # With an Idempotency-Key the key is reserved before the route runs (in a middleware): the
    # database failing there is a 503 too, not Starlette's bare 500.
    _assert_503(_open_case(council, council.children[1], **{"Idempotency-Key": "restart-1"}))
    # A browser gets the GOV.UK page, not JSON.
    page = council.client.get(
        "/", headers={"Accept": "text/html", "Cookie": "casework_session=not-a-session"}
    )
    _assert_503_page(page)


def _once_back(council: Council) -> None:
    """The very next requests succeed, and the refused ones left nothing behind."""
    assert council.client.get("/api/v1/auth/me", headers=council.headers).status_code == 200
    assert _cases_of(council, council.children[0]) == 0
    assert _cases_of(council, council.children[1]) == 0
    opened = _open_case(council, council.children[0])
    assert opened.status_code == 201, opened.text
    # The key whose request never ran was not used up: the same request with it now succeeds.
    again = _open_case(council, council.children[1], **{"Idempotency-Key": "restart-1"})
    assert again.status_code == 201, again.text
    assert _cases_of(council, council.children[0]) == 1
    assert _cases_of(council, council.children[1]) == 1
    assert integrity_problems(council.url) == []


# --------------------------------------------------------------------------------------------------
# PostgreSQL: a private cluster, stopped and started
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL cluster can be made here: {reason}")
    made = PrivateCluster(durable=False)
    try:
        made.start()
        admin = create_engine(made.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE casework"))
        admin.dispose()
        yield made
    finally:
        made.remove()


@pytest.fixture
def pg_council(cluster: PrivateCluster) -> Iterator[Council]:
    url = cluster.database_url("casework")
    engine = make_engine(url)
    try:
        yield from _council(engine, url)
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_postgresql_restarted_under_the_service_answers_503_then_serves_again(
    cluster: PrivateCluster, pg_council: Council
) -> None:
    # The service is in use: its pool holds connections to the running database.
    assert pg_council.client.get("/api/v1/auth/me", headers=pg_council.headers).status_code == 200

    cluster.stop("fast")
    _while_away(pg_council)

    cluster.start()
    # Every pooled connection died with the old server: they are replaced on checkout.
    _once_back(pg_council)


@pytest.mark.postgres_only
def test_a_write_cut_off_mid_transaction_by_the_shutdown_leaves_nothing_half_done(
    cluster: PrivateCluster, pg_council: Council
) -> None:
    council = pg_council
    opened = _open_case(council, council.children[2])
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    # Someone else holds the case's row, so the referral's transaction, once it has begun
    # writing, waits; the database is shut down under it.
    blocker = create_engine(council.url)
    answers: list[Any] = []
    holder = blocker.connect()
    holder.execute(text('SELECT id FROM "case" WHERE id = :id FOR UPDATE'), {"id": case_id})
    request = threading.Thread(
        target=lambda: answers.append(
            council.client.post(
                f"/api/v1/cases/{case_id}/transitions",
                headers={**council.headers, "If-Match": '"1"'},
                json={"event": "accept_referral"},
            )
        )
    )
    request.start()
    _wait_for_a_lock_wait(council.url)
    cluster.stop("fast")
    holder.invalidate()  # its server is gone: nothing to roll back or return to the pool
    holder.close()
    blocker.dispose()
    request.join(timeout=60)
    assert len(answers) == 1
    _assert_503(answers[0])

    cluster.start()
    with council.factory() as session:
        case = session.get(Case, uuid.UUID(case_id))
        assert case is not None
        events = session.scalars(select(CaseEvent.seq).where(CaseEvent.case_id == case.id)).all()
        assert case.version == 1, "the cut-off referral changed the case"
        assert list(events) == [1], "the cut-off referral left an event"
    assert integrity_problems(council.url) == []
    # And the referral, sent again, is taken.
    again = council.client.post(
        f"/api/v1/cases/{case_id}/transitions",
        headers={**council.headers, "If-Match": '"1"'},
        json={"event": "accept_referral"},
    )
    assert again.status_code == 200, again.text


def _wait_for_a_lock_wait(url: str, seconds: float = 30.0) -> None:
    """Until a session of the service is waiting for the held row (it is mid-transaction)."""
    watcher = create_engine(url)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            with watcher.connect() as connection:
                waiting = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar_one()
            if waiting:
                return
            time.sleep(0.05)  # polling the server's own view of its sessions
    finally:
        watcher.dispose()
    raise AssertionError("the request never reached the held row")


# --------------------------------------------------------------------------------------------------
# SQLite: another process holds the write lock past the busy timeout
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_council(tmp_path: Path) -> Iterator[Council]:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = make_engine(url, sqlite_busy_timeout_ms=BUSY_TIMEOUT_MS)
    try:
        yield from _council(engine, url)
    finally:
        engine.dispose()


@pytest.mark.skipif(BACKEND != "sqlite", reason="runs in the SQLite pass")
def test_sqlite_locked_past_its_busy_timeout_answers_503_then_serves_again(
    sqlite_council: Council, tmp_path: Path
) -> None:
    council = sqlite_council
    assert council.client.get("/api/v1/auth/me", headers=council.headers).status_code == 200
    # A long maintenance job (or a backup tool) holds the database exclusively.
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        _while_away(council)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _once_back(council)
