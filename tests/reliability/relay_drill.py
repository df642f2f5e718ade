"""The relay kill drill (issue 8, webhooks), shared by ``test_relay_kill.py`` (a small run, in CI)
and ``bench/drills/relay_kill.py`` (more events and kills, figures for the drills README).

A real receiver on 127.0.0.1 checks every signature and counts each ``webhook-id``. ``casework
outbox relay`` runs as a subprocess (several at once on PostgreSQL, where they share the work with
``FOR UPDATE SKIP LOCKED``) and is killed with SIGKILL again and again at seeded moments: either
the instant the receiver has taken a POST (the relay has sent and not yet marked: the worst
moment) or after a seeded delay. At the end every event must have been received at least once,
every delivery must be marked delivered, and the duplicates (the price of at-least-once) are
counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import migrate
from app.config import ROOT
from app.models.outbox import WebhookDelivery
from app.outbox import service as outbox_service
from tests.reliability.drills import CLI_DRIVER, cli_env, engine_for

WAIT_SECONDS = 120.0
POST_WAIT_SECONDS = 10.0


@dataclass
class Tally:
    """What the receiver saw: POSTs per event id, and any whose signature did not verify."""

    secret: str
    per_event: Counter[str] = field(default_factory=Counter)
    bad_signatures: int = 0
    posts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set by the receiver when POST number ``kill_at_post`` arrives (the drill then kills).
    kill_at_post: int | None = None
    reached: threading.Event = field(default_factory=threading.Event)
    delay_seconds: float = 0.01

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(
            hmac.compare_digest(s, expected) for s in headers.get("webhook-signature", "").split()
        )


def start_receiver(tally: Tally) -> tuple[str, ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with tally.lock:
                tally.posts += 1
                tally.per_event[headers.get("webhook-id", "?")] += 1
                if not tally.verify(headers, body):
                    tally.bad_signatures += 1
                if tally.kill_at_post is not None and tally.posts >= tally.kill_at_post:
                    tally.kill_at_post = None
                    tally.reached.set()
            # An integration takes a moment to answer: kills then fall among the sends.
            time.sleep(tally.delay_seconds)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook", server, thread


def seed_events(url: str, *, receiver_url: str, events: int) -> tuple[str, list[uuid.UUID]]:
    """A migrated database with one subscription to case.opened and ``events`` cases opened (one
    event and one delivery each). Returns the secret and the event ids."""
    from app.models.outbox import OutboxEvent
    from tests.cases.factories import make_cast, open_case
    from tests.cases.factories import principal as principal_of
    from tests.factories import make_child, make_user

    with engine_for(url) as engine:
        migrate.upgrade(engine)
        with Session(engine) as session:
            from app.models import Role

            admin = make_user(session, Role.administrator)
            subscription = outbox_service.subscription_create(
                session,
                actor=principal_of(session, admin),
                name="Drill receiver",
                url=receiver_url,
                event_types=["case.opened"],
            )
            cast = make_cast(session)
            for n in range(events):
                child = make_child(session, first_name=f"Relay{n}")
                open_case(session, by=cast.mash_officer, child=child, team=cast.team)
            session.commit()
            ids = list(session.scalars(select(OutboxEvent.id)))
            return subscription.secret, ids


def _relay_process(url: str, batch: int) -> subprocess.Popen[str]:
    env = {
        **cli_env(url),
        "CASEWORK_OUTBOX_POLL_SECONDS": "0.2",
        "CASEWORK_OUTBOX_TIMEOUT_SECONDS": "5",
        "CASEWORK_LOG_LEVEL": "WARNING",
    }
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", CLI_DRIVER, "outbox", "relay", "--batch", str(batch)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "started", f"the relay did not start: {line!r}"
    return child


def hold(url: str, *, until: datetime) -> None:
    """Make every pending delivery due at ``until`` (far ahead: held; now: released)."""
    with engine_for(url) as engine, Session(engine) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.progress == "pending")
            .values(next_attempt_at=until)
        )
        session.commit()


def progress(url: str) -> dict[str, int]:
    with engine_for(url) as engine, Session(engine) as session:
        rows = session.execute(
            select(WebhookDelivery.progress, func.count()).group_by(WebhookDelivery.progress)
        ).all()
    return {str(row[0]): int(row[1]) for row in rows}


@dataclass
class RelayDrill:
    backend: str
    events: int
    relays: int
    batch: int
    kills: int
    kills_after_a_post: int  # killed the instant the receiver took a POST: sent, not marked
    kills_on_a_timer: int
    seconds: float
    received_events: int
    posts: int
    duplicates: int  # posts beyond the first for an event
    lost: int  # events never received
    bad_signatures: int
    not_delivered: dict[str, int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def run_drill(
    url: str,
    *,
    backend: str,
    seed: int,
    events: int,
    kills: int,
    relays: int = 1,
    batch: int = 10,
    max_delay_ms: int = 1500,
    receiver_delay_ms: int = 10,
) -> RelayDrill:
    """Seed ``events`` events, then run ``relays`` relays and SIGKILL them all ``kills`` times
    (restarting them each time), then let them finish and check the tally."""
    rng = random.Random(seed)
    tally = Tally(secret="")
    receiver_url, server, thread = start_receiver(tally)
    started = time.monotonic()
    try:
        secret, event_ids = seed_events(url, receiver_url=receiver_url, events=events)
        tally.secret = secret
        tally.delay_seconds = receiver_delay_ms / 1000
        # Nothing is due until every relay is up (starting Python takes a second or two), so the
        # kills fall while the work is being done, not after it.
        hold(url, until=datetime(2100, 1, 1, tzinfo=UTC))
        running: list[subprocess.Popen[str]] = [_relay_process(url, batch) for _ in range(relays)]
        hold(url, until=datetime.now(UTC))
        after_post = on_timer = 0
        for _ in range(kills):
            pending = progress(url).get("pending", 0)
            if pending == 0:
                break  # everything is marked: no kill can land among the sends any more
            if rng.random() < 0.6:
                # The worst moment: the receiver has the POST, the relay has not marked it.
                with tally.lock:
                    tally.reached.clear()
                    tally.kill_at_post = tally.posts + rng.randint(1, max(1, min(batch, pending)))
                if tally.reached.wait(timeout=POST_WAIT_SECONDS):
                    after_post += 1
                else:  # the last posts were in flight already: a kill at an ordinary moment
                    with tally.lock:
                        tally.kill_at_post = None
                    on_timer += 1
            else:
                time.sleep(rng.uniform(0, max_delay_ms / 1000))
                on_timer += 1
            # Every relay at once: none carries on while the others restart.
            for child in running:
                child.send_signal(signal.SIGKILL)
            for child in running:
                child.communicate()
            hold(url, until=datetime(2100, 1, 1, tzinfo=UTC))
            running = [_relay_process(url, batch) for _ in range(relays)]
            hold(url, until=datetime.now(UTC))
        deadline = time.monotonic() + WAIT_SECONDS
        while progress(url).get("pending", 0) and time.monotonic() < deadline:
            time.sleep(0.2)  # the survivors finish the work
        for child in running:
            child.send_signal(signal.SIGTERM)
        for child in running:
            try:
                child.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
        seconds = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    counts = progress(url)
    expected = {str(e) for e in event_ids}
    received = set(tally.per_event)
    lost = expected - received
    problems: list[str] = []
    if lost:
        problems.append(f"{len(lost)} events never received")
    if received - expected:
        problems.append(f"{len(received - expected)} unknown webhook-ids received")
    if tally.bad_signatures:
        problems.append(f"{tally.bad_signatures} posts with a bad signature")
    not_delivered = {k: v for k, v in counts.items() if k != "delivered"}
    if not_delivered or counts.get("delivered", 0) != events:
        problems.append(f"deliveries not all delivered: {counts}")
    return RelayDrill(
        backend=backend,
        events=events,
        relays=relays,
        batch=batch,
        kills=after_post + on_timer,
        kills_after_a_post=after_post,
        kills_on_a_timer=on_timer,
        seconds=round(seconds, 1),
        received_events=len(received & expected),
        posts=tally.posts,
        duplicates=tally.posts - len(received),
        lost=len(lost),
        bad_signatures=tally.bad_signatures,
        not_delivered=not_delivered,
        problems=problems,
    )
