"""Stories of the relay posting to a real receiver on 127.0.0.1: signed, marked, retried with a
growing wait, dead after the last attempt, revived by an administrator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.models import UserAccount
from app.models.outbox import OutboxEvent, WebhookDelivery
from app.outbox.relay import BatchResult, RelayConfig, backoff, relay_batch
from tests.cases.factories import Cast, open_case
from tests.factories import auth_headers
from tests.outbox.conftest import Receiver
from tests.outbox.test_publish import subscribe

CONFIG = RelayConfig(timeout_seconds=5, max_attempts=4, backoff_seconds=10, backoff_cap_seconds=60)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What an integrator writes (Standard Webhooks, v1), independently of Casework's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig.removeprefix("v1,"), expected)
        for sig in headers["webhook-signature"].split()
        if sig.startswith("v1,")
    )


def relay(factory: sessionmaker[Session]) -> BatchResult:
    with factory() as session:
        return relay_batch(session, config=CONFIG, limit=20, rng=random.Random(1))


def the_delivery(db: Session) -> WebhookDelivery:
    db.expire_all()
    return db.scalars(select(WebhookDelivery)).one()


def opened_case_event(
    client: TestClient, db: Session, cast: Cast, admin: UserAccount, receiver: Receiver
) -> dict[str, Any]:
    subscription = subscribe(client, db, admin, ["case.opened"], url=receiver.url)
    open_case(db, by=cast.mash_officer, child=cast.child, team=cast.team)
    db.commit()
    return subscription


def test_the_relay_posts_a_signed_event_and_marks_it_delivered(
    client: TestClient,
    db: Session,
    cast: Cast,
    admin: UserAccount,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
) -> None:
    subscription = opened_case_event(client, db, cast, admin, receiver)
    done = relay(session_factory)
    assert (done.claimed, done.delivered) == (1, 1)

    [post] = receiver.received
    event = db.scalars(select(OutboxEvent)).one()
    assert post.headers["webhook-id"] == str(event.id)
    assert post.headers["content-type"] == "application/json"
    assert verify(subscription["secret"], post.headers, post.body)
    assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), post.headers, post.body)
    body = json.loads(post.body)
    assert (body["type"], body["data"]["case_id"]) == ("case.opened", str(event.case_id))
    assert abs(int(post.headers["webhook-timestamp"]) - clock.now().timestamp()) < 60
    for personal in (b"Ava", b"Example", b"2015-05-01"):
        assert personal not in post.body
    delivery = the_delivery(db)
    assert (delivery.progress, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None

    # Nothing more is due: a second run sends nothing.
    assert relay(session_factory).claimed == 0
    assert len(receiver.received) == 1
    listed = client.get(
        f"/api/v1/webhooks/subscriptions/{subscription['id']}/deliveries",
        headers=auth_headers(db, admin),
    )
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["items"]
    assert (row["progress"], row["attempts"], row["last_status"]) == ("delivered", 1, 200)
    assert row["event_type"] == "case.opened"


def test_a_receiver_answering_500_then_200_gets_the_same_event_twice_and_it_ends_delivered(
    client: TestClient,
    db: Session,
    cast: Cast,
    admin: UserAccount,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
) -> None:
    opened_case_event(client, db, cast, admin, receiver)
    receiver.statuses = [500]
    first = relay(session_factory)
    assert (first.claimed, first.retrying) == (1, 1)
    delivery = the_delivery(db)
    assert (delivery.progress, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500"
    assert delivery.last_attempt_at is not None
    assert delivery.next_attempt_at > delivery.last_attempt_at
    # Not due yet: the relay waits.
    assert relay(session_factory).claimed == 0

    with clock.frozen_at(delivery.next_attempt_at + timedelta(seconds=1)):
        assert relay(session_factory).delivered == 1
    delivery = the_delivery(db)
    assert (delivery.progress, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    first_post, second_post = receiver.received
    assert first_post.headers["webhook-id"] == second_post.headers["webhook-id"]
    assert first_post.body == second_post.body


def test_waits_grow_until_the_last_attempt_then_an_administrator_revives_it(
    client: TestClient,
    db: Session,
    cast: Cast,
    admin: UserAccount,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
) -> None:
    opened_case_event(client, db, cast, admin, receiver)
    receiver.statuses = [503] * CONFIG.max_attempts
    waits: list[float] = []
    for attempt in range(1, CONFIG.max_attempts + 1):
        delivery = the_delivery(db)
        with clock.frozen_at(delivery.next_attempt_at):
            relay(session_factory)
        delivery = the_delivery(db)
        assert delivery.attempts == attempt
        assert delivery.last_attempt_at is not None
        if delivery.progress == "pending":
            waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
    assert delivery.progress == "dead"
    assert delivery.last_status == 503
    assert len(waits) == CONFIG.max_attempts - 1
    assert waits == sorted(waits), waits
    assert waits[0] < waits[-1], waits
    assert 5 <= waits[0] <= 10, waits
    assert len(receiver.received) == CONFIG.max_attempts
    # Dead: however late it gets, the relay leaves it alone.
    with clock.frozen_at(clock.now() + timedelta(days=30)):
        assert relay(session_factory).claimed == 0

    headers = auth_headers(db, admin)
    revived = client.post(f"/api/v1/webhooks/deliveries/{delivery.id}/retry", headers=headers)
    assert revived.status_code == 200, revived.text
    assert (revived.json()["progress"], revived.json()["attempts"]) == ("pending", 0)
    assert relay(session_factory).delivered == 1
    assert the_delivery(db).progress == "delivered"
    again = client.post(f"/api/v1/webhooks/deliveries/{delivery.id}/retry", headers=headers)
    assert again.status_code == 409, again.text
    missing = client.post(f"/api/v1/webhooks/deliveries/{uuid.uuid4()}/retry", headers=headers)
    assert missing.status_code == 404


def test_the_wait_is_capped_and_jittered() -> None:
    config = RelayConfig(backoff_seconds=10, backoff_cap_seconds=60)
    rng = random.Random(5)
    waits = [backoff(n, config, rng).total_seconds() for n in range(1, 12)]
    assert all(30 <= w <= 60 for w in waits[3:]), waits  # capped at 60, at least half of it
    assert len({round(w, 3) for w in waits[3:]}) > 1, waits  # jittered, not in lockstep


def test_an_unreachable_receiver_is_a_failed_attempt_and_a_paused_subscription_waits(
    client: TestClient,
    db: Session,
    cast: Cast,
    admin: UserAccount,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
) -> None:
    subscription = opened_case_event(client, db, cast, admin, receiver)
    headers = auth_headers(db, admin)
    paused = client.patch(
        f"/api/v1/webhooks/subscriptions/{subscription['id']}",
        json={"active": False},
        headers={**headers, "If-Match": '"1"'},
    )
    assert paused.status_code == 200, paused.text
    assert relay(session_factory).claimed == 0  # paused: kept, not sent
    assert receiver.received == []
    closed_port = receiver.url.replace(receiver.url.split(":")[2].split("/")[0], "1")
    moved = client.patch(
        f"/api/v1/webhooks/subscriptions/{subscription['id']}",
        json={"active": True, "url": closed_port},
        headers={**headers, "If-Match": '"2"'},
    )
    assert moved.status_code == 200, moved.text
    assert relay(session_factory).retrying == 1
    delivery = the_delivery(db)
    assert delivery.last_status is None
    assert delivery.last_error is not None
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()


def test_a_redirect_is_not_followed(
    client: TestClient,
    db: Session,
    cast: Cast,
    admin: UserAccount,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
) -> None:
    opened_case_event(client, db, cast, admin, receiver)
    receiver.statuses = [302]
    assert relay(session_factory).retrying == 1
    assert the_delivery(db).last_status == 302
    assert len(receiver.received) == 1
