"""The relay: posts due webhook deliveries, signed, and records how each went.

One batch is one transaction: claim up to N due deliveries (on PostgreSQL ``FOR UPDATE SKIP
LOCKED``, so several relays share the work without sending the same delivery at once; SQLite has
one writer and runs one relay), POST each, then mark them and commit. The send happens before the
mark commits: a relay killed in between leaves the delivery pending and the next run sends it
again. Delivery is therefore at least once, never at most once, and receivers de-duplicate on
``webhook-id`` (the event id), as the Standard Webhooks specification expects.

The database is only read while posting (the marks are applied after the last send), so on SQLite
the relay holds no write lock while it waits on a slow receiver.

Headers follow the Standard Webhooks specification (https://www.standardwebhooks.com/):
``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` =
``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the key being the base64 bytes of
the ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import random
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.config import Settings
from app.models.outbox import OutboxEvent, WebhookDelivery, WebhookSubscription
from app.outbox.service import secret_key

log = logging.getLogger("casework.outbox")

USER_AGENT = "Casework-Webhooks/1"
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class RelayConfig:
    """The relay's knobs (from Settings: ``CASEWORK_OUTBOX_*``)."""

    timeout_seconds: float = 5.0
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RelayConfig:
        return cls(
            timeout_seconds=settings.outbox_timeout_seconds,
            max_attempts=settings.outbox_max_attempts,
            backoff_seconds=settings.outbox_backoff_seconds,
            backoff_cap_seconds=settings.outbox_backoff_cap_seconds,
        )


@dataclass
class BatchResult:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Outcome:
    delivery_id: uuid.UUID
    status: int | None
    error: str | None
    attempted_at: datetime

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message (Standard Webhooks, v1)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def backoff(attempts: int, config: RelayConfig, rng: random.Random) -> timedelta:
    """The wait after the ``attempts``-th failure: base x 2^(attempts-1), capped, with "equal
    jitter" (half fixed, half random) so that a receiver coming back up is not hit by every
    relay's retries in the same second, while each wait is still at least the one before."""
    ceiling = min(config.backoff_cap_seconds, config.backoff_seconds * 2 ** (attempts - 1))
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a delivery: following it would post a child's event ids to an
    # address nobody subscribed (and a 302 would turn the POST into a GET without the body).
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """POST ``body``; the status (None when no answer came) and a short reason, never the
    response body (it could say anything)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        # The URL was checked to be http(s) when the subscription was written (service.check_url).
        with _opener.open(request, timeout=timeout) as response:  # nosec B310
            status = int(response.status)
            return status, f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        return None, f"{type(exc).__name__}: {reason}"[:MAX_ERROR_CHARS]


def _due(session: Session, *, now: datetime, limit: int) -> list[Any]:
    query = (
        select(WebhookDelivery, OutboxEvent, WebhookSubscription)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.progress == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several relays: each takes rows no other holds, and waits for none.
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    return list(session.execute(query).all())


def relay_batch(
    session: Session,
    *,
    config: RelayConfig,
    limit: int = 50,
    rng: random.Random | None = None,
    sender: Callable[[str, bytes, dict[str, str], float], tuple[int | None, str]] = post,
    after_send: Callable[[], None] | None = None,
) -> BatchResult:
    """Claim, send and mark up to ``limit`` due deliveries; commits (one batch, one transaction).

    ``after_send`` runs between the last send and the mark (the drills pause there to kill the
    relay at its worst moment)."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    result = BatchResult()
    rows = _due(session, now=clock.now(), limit=limit)
    result.claimed = len(rows)
    outcomes: list[_Outcome] = []
    for delivery, event, subscription in rows:
        body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
        msg_id = str(event.id)
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(subscription.secret, msg_id, timestamp, body),
        }
        status, reason = sender(subscription.url, body, headers, config.timeout_seconds)
        outcome = _Outcome(delivery.id, status, reason, clock.now())
        outcomes.append(outcome)
        # Ids and statuses only: no URL (it may carry a token), no payload, no secret.
        log.info(
            "webhook delivery %s event %s attempt %d: %s",
            delivery.id,
            event.id,
            delivery.attempts + 1,
            reason,
        )
    if after_send is not None:
        after_send()
    by_id = {row[0].id: row[0] for row in rows}
    for outcome in outcomes:
        delivery = by_id[outcome.delivery_id]
        delivery.attempts += 1
        delivery.last_attempt_at = outcome.attempted_at
        delivery.last_status = outcome.status
        if outcome.ok:
            delivery.progress = "delivered"
            delivery.delivered_at = outcome.attempted_at
            delivery.last_error = None
            result.delivered += 1
        elif delivery.attempts >= config.max_attempts:
            delivery.progress = "dead"
            delivery.last_error = outcome.error
            result.dead += 1
        else:
            delivery.last_error = outcome.error
            delivery.next_attempt_at = outcome.attempted_at + backoff(
                delivery.attempts, config, rng
            )
            result.retrying += 1
    session.commit()
    return result


def run(
    factory: sessionmaker[Session],
    *,
    config: RelayConfig,
    batch: int = 50,
    once: bool = False,
    poll_seconds: float = 2.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> BatchResult:
    """Send batches until nothing is due (``once``) or for ever (polling every ``poll_seconds``
    when idle). Returns the totals."""
    total = BatchResult()
    while not should_stop():
        with factory() as session:
            done = relay_batch(session, config=config, limit=batch)
        total.claimed += done.claimed
        total.delivered += done.delivered
        total.retrying += done.retrying
        total.dead += done.dead
        if done.claimed == 0:
            if once:
                break
            time.sleep(poll_seconds)  # idle: nothing due
        elif once and done.claimed < batch:
            break
    return total
