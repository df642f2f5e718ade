"""An integration retries: ``Idempotency-Key`` makes the retry harmless (issue 8, part 2).

The police's referral system sends a contact about a child, the connection drops before the
answer comes back, and it sends the same request again. With the same key the second request is
answered with the first one's response and no second case is opened; with a different body the key
is refused; while the first is still running the second is told to wait.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.models import Case
from app.models.idempotency import IdempotencyKey
from tests.cases.factories import make_cast
from tests.factories import auth_headers, make_child
from tests.reliability.conftest import Server

CASES = "/api/v1/cases"


def _cases_of(db: Session, child_id: uuid.UUID) -> int:
    return int(db.scalar(select(func.count()).where(Case.child_id == child_id)) or 0)


def test_a_retried_contact_is_answered_with_the_first_response_and_opens_one_case(
    client: TestClient, db: Session
) -> None:
    cast = make_cast(db)
    headers = {**auth_headers(db, cast.manager), "Idempotency-Key": "police-ref-7731"}
    body = {"child_id": str(cast.child.id), "team_id": str(cast.team.id), "rag": "red"}

    first = client.post(CASES, json=body, headers=headers)
    again = client.post(CASES, json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _cases_of(db, cast.child.id) == 1


def test_the_same_key_with_a_different_request_is_refused_and_does_nothing(
    client: TestClient, db: Session
) -> None:
    cast = make_cast(db)
    other_child = make_child(db, first_name="Other")
    headers = {**auth_headers(db, cast.manager), "Idempotency-Key": "k-1"}
    made = client.post(
        CASES, json={"child_id": str(cast.child.id), "team_id": str(cast.team.id)}, headers=headers
    )
    assert made.status_code == 201, made.text

    reused = client.post(
        CASES, json={"child_id": str(other_child.id), "team_id": str(cast.team.id)}, headers=headers
    )

    assert reused.status_code == 422, reused.text
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["code"] == "idempotency_key_reused"
    assert "different request" in reused.json()["detail"]
    assert _cases_of(db, other_child.id) == 0


def test_a_refused_request_does_not_use_its_key_up(client: TestClient, db: Session) -> None:
    """A 4xx wrote nothing, so the corrected request may carry the same key."""
    cast = make_cast(db)
    headers = {**auth_headers(db, cast.manager), "Idempotency-Key": "k-2"}
    wrong = client.post(CASES, json={"child_id": str(cast.child.id)}, headers=headers)
    assert wrong.status_code == 422, wrong.text

    right = client.post(
        CASES, json={"child_id": str(cast.child.id), "team_id": str(cast.team.id)}, headers=headers
    )

    assert right.status_code == 201, right.text
    assert "idempotent-replayed" not in right.headers
    assert _cases_of(db, cast.child.id) == 1


def test_keys_are_private_to_the_caller_who_sent_them(client: TestClient, db: Session) -> None:
    cast = make_cast(db)
    second_child = make_child(db, first_name="Second")
    mine = {**auth_headers(db, cast.manager), "Idempotency-Key": "shared-name"}
    theirs = {**auth_headers(db, cast.mash_officer), "Idempotency-Key": "shared-name"}
    team = str(cast.team.id)

    a = client.post(CASES, json={"child_id": str(cast.child.id), "team_id": team}, headers=mine)
    b = client.post(CASES, json={"child_id": str(second_child.id), "team_id": team}, headers=theirs)

    assert (a.status_code, b.status_code) == (201, 201), (a.text, b.text)
    assert a.json()["id"] != b.json()["id"]


def test_a_key_whose_request_is_running_or_whose_answer_was_lost_is_a_conflict(
    client: TestClient, db: Session
) -> None:
    cast = make_cast(db)
    headers = {**auth_headers(db, cast.manager), "Idempotency-Key": "k-3"}
    body = {"child_id": str(cast.child.id), "team_id": str(cast.team.id)}
    made = client.post(CASES, json=body, headers=headers)
    assert made.status_code == 201, made.text
    row = db.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-3"))
    assert row is not None
    assert row.progress == "done"

    # Still running (another process holds the reservation, a moment ago).
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row.id)
        .values(progress="in_flight", created_at=clock.now())
    )
    db.commit()
    running = client.post(CASES, json=body, headers=headers)
    assert running.status_code == 409, running.text
    assert running.json()["code"] == "idempotency_in_flight"

    # Committed a moment ago, its response being stored: wait too.
    db.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == row.id).values(progress="committed")
    )
    db.commit()
    finishing = client.post(CASES, json=body, headers=headers)
    assert finishing.status_code == 409, finishing.text
    assert finishing.json()["code"] == "idempotency_in_flight"

    # Committed long ago, but the process stopped before keeping the response: never done twice.
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row.id)
        .values(created_at=clock.now() - timedelta(minutes=5))
    )
    db.commit()
    lost = client.post(CASES, json=body, headers=headers)
    assert lost.status_code == 409, lost.text
    assert lost.json()["code"] == "idempotency_response_lost"

    # A reservation left by a process that died before committing frees up after a minute.
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row.id)
        .values(progress="in_flight", created_at=clock.now() - timedelta(minutes=5))
    )
    db.commit()
    retried = client.post(CASES, json=body, headers=headers)
    # The case exists (the first request did commit it): the retry is refused by the service.
    assert retried.status_code == 409, retried.text
    assert retried.json()["code"] == "case_already_open"
    assert _cases_of(db, cast.child.id) == 1


def test_an_overlong_key_is_refused(client: TestClient, db: Session) -> None:
    cast = make_cast(db)
    headers = {**auth_headers(db, cast.manager), "Idempotency-Key": "k" * 256}
    response = client.post(
        CASES, json={"child_id": str(cast.child.id), "team_id": str(cast.team.id)}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert _cases_of(db, cast.child.id) == 0


def test_sixteen_simultaneous_retries_with_one_key_open_one_case(server: Server) -> None:
    """The retries arrive together: one does the work, each other one is told to wait (409) or is
    answered with the first one's response; the child has one case."""
    with server.factory() as setup:
        child = make_child(setup, first_name="Retry")
        setup.commit()
        child_id = child.id
    body = json.dumps({"child_id": str(child_id), "team_id": str(server.team_id)})
    start = threading.Barrier(16)
    results: list[tuple[int, str | None, str]] = []
    lock = threading.Lock()

    def send(_n: int) -> None:
        start.wait()
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        try:
            conn.request(
                "POST",
                CASES,
                body=body,
                headers={
                    **server.headers,
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"together-{child_id}",
                },
            )
            response = conn.getresponse()
            text = response.read().decode()
            with lock:
                results.append((response.status, response.getheader("idempotent-replayed"), text))
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    fresh = [r for r in results if r[0] == 201 and r[1] is None]
    replayed = [r for r in results if r[0] == 201 and r[1] == "true"]
    waiting = [r for r in results if r[0] == 409 and "idempotency_in_flight" in r[2]]
    assert len(results) == 16
    assert len(fresh) == 1, results
    others = [r for r in results if r not in fresh + replayed + waiting]
    assert others == [], [(r[0], r[1], r[2][:300]) for r in others]
    assert all(json.loads(r[2])["id"] == json.loads(fresh[0][2])["id"] for r in replayed)
    with server.factory() as check:
        assert check.scalar(select(func.count()).where(Case.child_id == child_id)) == 1
