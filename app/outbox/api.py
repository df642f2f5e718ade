"""JSON API for integration administrators: webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.models.outbox import OutboxEvent, WebhookDelivery, WebhookSubscription
from app.outbox import service as outbox_service
from app.outbox.schemas import (
    DeliveryCounts,
    DeliveryRead,
    EventTypeRead,
    Progress,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionUpdate,
)
from app.security.principal import Principal

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WebhookAdmin = Annotated[Principal, Depends(permission("webhook:manage"))]
Cursor = Annotated[str | None, Query(max_length=500)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _read(session: SessionDep, subscription: WebhookSubscription) -> SubscriptionRead:
    counts = outbox_service.delivery_counts(session, subscription_id=subscription.id)
    read = SubscriptionRead.model_validate(subscription)
    read.deliveries = DeliveryCounts(**counts)
    return read


def _delivery(delivery: WebhookDelivery, event: OutboxEvent) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        event_id=event.id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        progress=delivery.progress,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_attempt_at=delivery.last_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
    )


@router.get("/event-types", operation_id="webhook_event_types", responses=problem_responses())
def webhook_event_types(principal: WebhookAdmin) -> list[EventTypeRead]:
    """The event types a subscription may ask for, and what each means."""
    return [EventTypeRead(type=k, description=v) for k, v in outbox_service.EVENT_TYPES.items()]


@router.post(
    "/subscriptions",
    status_code=201,
    operation_id="webhook_subscription_create",
    responses=problem_responses(),
)
def webhook_subscription_create(
    data: SubscriptionCreate, session: SessionDep, principal: WebhookAdmin, response: Response
) -> SubscriptionCreated:
    """Subscribe a URL to event types. The answer carries the signing secret: the only time it is
    shown."""
    subscription = outbox_service.subscription_create(
        session,
        actor=principal,
        name=data.name,
        url=data.url,
        event_types=data.event_types,
        active=data.active,
    )
    response.headers["ETag"] = etag(subscription.version)
    response.headers["Location"] = f"/api/v1/webhooks/subscriptions/{subscription.id}"
    read = _read(session, subscription)
    return SubscriptionCreated(**read.model_dump(), secret=subscription.secret)


@router.get(
    "/subscriptions", operation_id="webhook_subscription_list", responses=problem_responses()
)
def webhook_subscription_list(
    session: SessionDep, principal: WebhookAdmin
) -> Page[SubscriptionRead]:
    """Every subscription, by name, with its deliveries' progress (never the secrets)."""
    return Page[SubscriptionRead](
        items=[_read(session, s) for s in outbox_service.subscription_list(session)]
    )


@router.get(
    "/subscriptions/{subscription_id}",
    operation_id="webhook_subscription_get",
    responses=problem_responses(404),
)
def webhook_subscription_get(
    subscription_id: uuid.UUID, session: SessionDep, principal: WebhookAdmin, response: Response
) -> SubscriptionRead:
    """One subscription and its ETag (never its secret)."""
    subscription = outbox_service.subscription_get(session, subscription_id=subscription_id)
    response.headers["ETag"] = etag(subscription.version)
    return _read(session, subscription)


@router.patch(
    "/subscriptions/{subscription_id}",
    operation_id="webhook_subscription_update",
    responses=problem_responses(404, 412, 428),
)
def webhook_subscription_update(
    subscription_id: uuid.UUID,
    data: SubscriptionUpdate,
    session: SessionDep,
    principal: WebhookAdmin,
    version: IfMatch,
    response: Response,
) -> SubscriptionRead:
    """Change the name, URL, event types or pause it (``active: false``), with If-Match."""
    subscription = outbox_service.subscription_update(
        session,
        actor=principal,
        subscription_id=subscription_id,
        expected_version=version,
        changes=data.model_dump(exclude_unset=True),
    )
    response.headers["ETag"] = etag(subscription.version)
    return _read(session, subscription)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    operation_id="webhook_subscription_delete",
    responses=problem_responses(404),
)
def webhook_subscription_delete(
    subscription_id: uuid.UUID, session: SessionDep, principal: WebhookAdmin
) -> None:
    """Remove a subscription and its deliveries: nothing more is sent to it."""
    outbox_service.subscription_delete(session, actor=principal, subscription_id=subscription_id)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    operation_id="webhook_delivery_list",
    responses=problem_responses(404),
)
def webhook_delivery_list(
    subscription_id: uuid.UUID,
    session: SessionDep,
    principal: WebhookAdmin,
    progress: Progress | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryRead]:
    """The subscription's deliveries, newest event first: progress, attempts, last status."""
    rows, next_cursor = outbox_service.delivery_list(
        session, subscription_id=subscription_id, progress=progress, cursor=cursor, limit=limit
    )
    return Page[DeliveryRead](items=[_delivery(d, e) for d, e in rows], next_cursor=next_cursor)


@router.post(
    "/deliveries/{delivery_id}/retry",
    operation_id="webhook_delivery_retry",
    responses=problem_responses(404, 409),
)
def webhook_delivery_retry(
    delivery_id: uuid.UUID, session: SessionDep, principal: WebhookAdmin
) -> DeliveryRead:
    """Send a dead delivery again (pending, due now, attempts counted afresh)."""
    delivery, event = outbox_service.delivery_retry(
        session, actor=principal, delivery_id=delivery_id
    )
    return _delivery(delivery, event)
