"""Webhook subscriptions and deliveries as the API shows them (the secret only on creation)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

_INPUT = ConfigDict(extra="forbid")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Progress = Literal["pending", "delivered", "dead"]


class SubscriptionCreate(BaseModel):
    """An integration's request: POST these event types to this http(s) URL."""

    model_config = _INPUT

    name: Name
    url: Url
    event_types: list[EventType] = Field(min_length=1, max_length=50)
    active: bool = True


class SubscriptionUpdate(BaseModel):
    """The fields sent change; the secret never does (make a new subscription to rotate it)."""

    model_config = _INPUT

    name: Name | None = None
    url: Url | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=50)
    active: bool | None = None


class DeliveryCounts(BaseModel):
    pending: int
    delivered: int
    dead: int


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    url: str
    event_types: list[str]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    deliveries: DeliveryCounts | None = None


class SubscriptionCreated(SubscriptionRead):
    """Returned once, by the create call: keep ``secret`` now, it is never shown again."""

    secret: str


class DeliveryRead(BaseModel):
    """How sending one event to one subscription has gone."""

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    progress: Progress
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


class EventTypeRead(BaseModel):
    type: str
    description: str
