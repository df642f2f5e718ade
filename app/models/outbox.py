"""The outbox: what happened, written in the same transaction as the change, for integrations.

An integration (police, health, education systems) subscribes to event types ("case.opened",
"child.became_looked_after", ...). When the change commits, its ``OutboxEvent`` and one
``WebhookDelivery`` per matching subscription commit with it: the event can never be lost after
the change, nor sent for a change that rolled back (the transactional outbox pattern). A relay
process (``casework outbox relay``) posts each delivery with a per-event id and an HMAC signature,
marks it delivered on a 2xx, and otherwise retries with backoff. Delivery is at least once: a relay
killed between sending and marking sends again, and receivers de-duplicate on the event id.

Events carry identifiers and the kind of change, never personal data: a receiver that needs the
record asks the API for it, under its own credential, where it is checked and access-logged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class WebhookSubscription(IdMixin, TimestampMixin, Base):
    """An integration's standing request: POST these event types to this URL, signed."""

    __tablename__ = "webhook_subscription"

    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    # The shared secret for the HMAC signature (Standard Webhooks "whsec_" + base64). Shown once
    # when created; the relay needs it in clear to sign, so it lives in the database like a
    # password would not: the subscription API never returns it again.
    secret: Mapped[str] = mapped_column(String(200))
    # Event types this subscription receives, e.g. ["case.opened", "plan.started"].
    event_types: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)


class OutboxEvent(IdMixin, Base):
    """One thing that happened, once. ``id`` is the event id receivers de-duplicate on."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_occurred", "occurred_at"),)

    event_type: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime]
    # What it is about, as identifiers only (no names, dates of birth or notes).
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"))
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    # The JSON body sent (identifiers, codes, states, dates of the change; no personal data).
    payload: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(64))


class WebhookDelivery(IdMixin, Base):
    """One event to one subscription, and how sending it has gone."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_delivery_due", "progress", "next_attempt_at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_event.id"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscription.id"))
    # pending -> delivered, or pending -> dead after the last retry. Not called "state": that name
    # is kept for the records the workflow engine moves.
    progress: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    # Why the last attempt failed (status line or connection error), never the response body.
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
