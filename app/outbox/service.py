"""The outbox: publishing events in the caller's transaction, the subscriptions that receive them,
and the bookkeeping of each delivery (the relay that sends them is :mod:`app.outbox.relay`).

Publishing never commits: :func:`publish` adds an ``OutboxEvent`` and one ``WebhookDelivery`` per
active subscription that asked for its type to the caller's session, so the event commits with the
change that caused it or vanishes with it (DESIGN.md, "Services own transactions"). An event is
written only when some subscription wants it: an event nobody receives would be a row kept for
nothing (and a record of a child's involvement kept without a purpose, UK GDPR art. 5(1)(e)).

Payloads carry identifiers, codes, states and dates, never personal data (names, dates of birth,
addresses, notes): only the fields in :data:`SAFE_FIELDS`, and only when their value is an id, a
date, a number, a yes/no or a short code. A receiver that needs more asks the API under its own
credential, where the read is checked and access-logged.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import change_log_append
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.outbox import OutboxEvent, WebhookDelivery, WebhookSubscription
from app.request_context import current_request_id
from app.security.principal import Principal

#: The pseudo-event the workflow engine passes for a record entering its initial state
#: (``app.workflow.engine.START``; repeated here because the engine imports this module).
START = "start"

#: Every public event type, with what it means (the subscription API refuses any other name).
EVENT_TYPES: dict[str, str] = {
    "case.opened": "A case was opened for a child (a contact received).",
    "case.closed": "A case was closed.",
    "referral.accepted": "A contact was accepted as a referral to children's social care.",
    "referral.decided": "The decision on a referral was recorded.",
    "assessment.authorised": "A child and family assessment was authorised by a manager.",
    "s47.started": "A section 47 enquiry started.",
    "s47.concluded": "A section 47 enquiry was concluded.",
    "cp_plan.started": "A child protection plan started.",
    "cp_plan.ended": "A child protection plan ended.",
    "cin_plan.started": "A child in need plan started.",
    "cin_plan.ended": "A child in need plan ended.",
    "child.became_looked_after": "A child started to be looked after (a period of care began).",
    "child.ceased_looked_after": "A child ceased to be looked after (the period of care ended).",
    "placement.changed": "A looked-after child moved to a new placement.",
    "security.break_glass": (
        "A manager broke the glass to read a restricted child's record (for the council's "
        "security monitoring; the reason given is not sent, ask the access log)."
    ),
}

#: (subject type, engine event) -> public event type. ``start`` is the record's first state.
TRANSITION_EVENTS: dict[tuple[str, str], str] = {
    ("case", START): "case.opened",
    ("case", "accept_referral"): "referral.accepted",
    ("referral", "decide"): "referral.decided",
    ("assessment", "authorise"): "assessment.authorised",
    ("s47_enquiry", START): "s47.started",
    ("s47_enquiry", "conclude"): "s47.concluded",
    ("cp_plan", START): "cp_plan.started",
    ("cp_plan", "end"): "cp_plan.ended",
    ("cin_plan", START): "cin_plan.started",
    ("cin_plan", "cin_plan_ended"): "cin_plan.ended",
    ("period_of_care", START): "child.became_looked_after",
    ("period_of_care", "care_ceased"): "child.ceased_looked_after",
}

#: (subject type, target state) -> public event type, whatever event led there (a case closes
#: from any stage by several events).
TARGET_EVENTS: dict[tuple[str, str], str] = {
    ("case", "closed"): "case.closed",
}

PLACEMENT_CHANGED = "placement.changed"
BREAK_GLASS = "security.break_glass"

#: The only fields of a change that may go into a payload: ids, codes and dates. Free text (a
#: summary, a reason in words) and anything about a person are never in this list.
SAFE_FIELDS = frozenset(
    {
        "start_date",
        "end_date",
        "opened_date",
        "closed_date",
        "closure_date",
        "closure_reason",
        "reason_for_closure",
        "decision",
        "decision_date",
        "outcome",
        "team_id",
        "worker_id",
        "rag",
        "entry_route",
        "legal_status",
        "category_of_need",
        "placement_type",
        "placement_id",
        "previous_placement_id",
        "end_reason",
        "planned_ending",
        "reason_ceased",
        "reason_episode_ceased",
        "authorised_date",
        "completed_date",
        "initial_category",
        "latest_category",
    }
)
# A code is short and plain (N1, RC8, green, E11): anything longer or with spaces may be words.
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_UNSAFE = object()


def _safe_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return value if _CODE.match(value) else _UNSAFE
    if hasattr(value, "value") and isinstance(value.value, str):  # a StrEnum code
        return _safe_value(value.value)
    if isinstance(value, Mapping) and set(value) <= {"before", "after"}:
        inner = {k: _safe_value(v) for k, v in value.items()}
        return _UNSAFE if _UNSAFE in inner.values() else inner
    return _UNSAFE


def safe_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The whitelisted fields of ``data`` whose values are ids, codes, dates or flags."""
    out: dict[str, Any] = {}
    for name in sorted(SAFE_FIELDS & set(data)):
        value = _safe_value(data[name])
        if value is not _UNSAFE:
            out[name] = value
    return out


# --------------------------------------------------------------------------------------------------
# Publishing (in the caller's transaction)
# --------------------------------------------------------------------------------------------------


def publish(
    session: Session,
    *,
    event_type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    case_id: uuid.UUID | None,
    child_id: uuid.UUID | None,
    data: Mapping[str, Any],
) -> OutboxEvent | None:
    """Write ``event_type`` and one delivery per active subscription to it, in the caller's
    transaction; None (and nothing written) when no subscription wants it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown outbox event type {event_type!r}")  # a programming error
    subscriptions = [
        s
        for s in session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        )
        if event_type in s.event_types
    ]
    if not subscriptions:
        return None
    now = clock.now()
    event_id = uuid.uuid4()
    body = {
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "case_id": str(case_id) if case_id else None,
        "child_id": str(child_id) if child_id else None,
        **{k: v for k, v in data.items() if k not in ("subject_type", "subject_id")},
    }
    # Standard Webhooks payload shape: type, timestamp, data (the id travels as webhook-id).
    payload = {
        "id": str(event_id),
        "type": event_type,
        "timestamp": now.isoformat(),
        "data": body,
    }
    event = OutboxEvent(
        id=event_id,
        event_type=event_type,
        occurred_at=now,
        subject_type=subject_type,
        subject_id=subject_id,
        case_id=case_id,
        child_id=child_id,
        payload=payload,
        request_id=current_request_id(),
    )
    session.add(event)
    session.flush()  # the event before its deliveries (their foreign key)
    for subscription in subscriptions:
        session.add(
            WebhookDelivery(
                event_id=event.id,
                subscription_id=subscription.id,
                progress="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
    return event


def transition_event_type(subject_type: str, event: str, to_state: str) -> str | None:
    """The public event type for a workflow transition, or None when integrations hear nothing."""
    return TRANSITION_EVENTS.get((subject_type, event)) or TARGET_EVENTS.get(
        (subject_type, to_state)
    )


def publish_transition(
    session: Session,
    *,
    subject_type: str,
    record: Any,
    event: str,
    from_state: str | None,
    to_state: str,
    data: Mapping[str, Any],
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    case_event_id: uuid.UUID,
) -> OutboxEvent | None:
    """Called by the workflow engine after each transition's case event: publish it if the mapping
    above names it. The payload: ids, the action and states, and the safe fields of the change and
    of the record (its dates and codes)."""
    event_type = transition_event_type(subject_type, event, to_state)
    if event_type is None:
        return None
    record_fields = {name: getattr(record, name) for name in SAFE_FIELDS if hasattr(record, name)}
    body: dict[str, Any] = {
        "action": event,
        "from_state": from_state,
        "to_state": to_state,
        "case_event_id": str(case_event_id),
        **safe_fields(record_fields),
        **safe_fields(data),
    }
    return publish(
        session,
        event_type=event_type,
        subject_type=subject_type,
        subject_id=record.id,
        case_id=case_id,
        child_id=child_id,
        data=body,
    )


# --------------------------------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64 (the HMAC key)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for (Standard Webhooks: base64 after the prefix)."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def check_event_types(event_types: Sequence[str], *, field: str = "event_types") -> list[str]:
    unknown = sorted({t for t in event_types if t not in EVENT_TYPES})
    if unknown:
        raise Invalid(
            f"Unknown event type(s): {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}.",
            errors=[
                {"field": field, "message": f"Unknown event type: {name}."} for name in unknown
            ],
            code="unknown_event_type",
        )
    if not event_types:
        raise Invalid.field(field, "Name at least one event type.")
    return list(dict.fromkeys(event_types))


def check_url(url: str, *, field: str = "url") -> str:
    """Only http(s) with a host: a file:, ftp: or data: URL would make the relay read or send
    what it should not."""
    message = "The URL must be an http:// or https:// address with a host."
    try:
        parts = urlsplit(url.strip())
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 literal)
        raise Invalid.field(field, message) from None
    if not ok or any(c.isspace() for c in url.strip()):
        raise Invalid.field(field, message)
    return url.strip()


def _fields(subscription: WebhookSubscription) -> dict[str, Any]:
    # Never the secret: the change log is read by administrators and auditors.
    return {
        "name": subscription.name,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "active": subscription.active,
    }


def subscription_create(
    session: Session,
    *,
    actor: Principal,
    name: str,
    url: str,
    event_types: Sequence[str],
    active: bool = True,
) -> WebhookSubscription:
    """A new subscription with a fresh secret (the caller shows it once)."""
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        name=name.strip(),
        url=check_url(url),
        secret=new_secret(),
        event_types=check_event_types(event_types),
        active=active,
        created_by_id=actor.user_id,
        version=1,
    )
    session.add(subscription)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="webhook_subscription",
        entity_id=subscription.id,
        action="create",
        changes=_fields(subscription),
    )
    return subscription


def subscription_get(session: Session, *, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("There is no webhook subscription with this id.")
    return subscription


def subscription_list(session: Session) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription).order_by(WebhookSubscription.name, WebhookSubscription.id)
        )
    )


def subscription_update(
    session: Session,
    *,
    actor: Principal,
    subscription_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> WebhookSubscription:
    """Change the name, URL, event types or active flag, at the version the caller last saw.
    Deliveries already written keep going to the subscription (a paused one is not sent until
    it is active again)."""
    subscription = subscription_get(session, subscription_id=subscription_id)
    if subscription.version != expected_version:
        raise PreconditionFailed(
            f"This subscription is at version {subscription.version}, not {expected_version}: "
            "someone changed it since you loaded it. Reload it and try again."
        )
    before = _fields(subscription)
    if changes.get("name") is not None:
        subscription.name = str(changes["name"]).strip()
    if changes.get("url") is not None:
        subscription.url = check_url(str(changes["url"]))
    if changes.get("event_types") is not None:
        subscription.event_types = check_event_types(list(changes["event_types"]))
    if changes.get("active") is not None:
        subscription.active = bool(changes["active"])
    after = _fields(subscription)
    diff = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    if diff:
        # No version_id_col on this table (the contract's): the check above and this increment,
        # with the row's update, give the same If-Match answer to a client.
        subscription.version += 1
        session.flush()
        change_log_append(
            session,
            actor=actor,
            entity_type="webhook_subscription",
            entity_id=subscription.id,
            action="update",
            changes=diff,
        )
    return subscription


def subscription_delete(session: Session, *, actor: Principal, subscription_id: uuid.UUID) -> None:
    """Remove a subscription and its deliveries (sent or not): nothing more goes to it. The
    events stay for the other subscriptions that have them."""
    subscription = subscription_get(session, subscription_id=subscription_id)
    before = _fields(subscription)
    session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    )
    session.delete(subscription)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="webhook_subscription",
        entity_id=subscription_id,
        action="delete",
        changes=before,
    )


# --------------------------------------------------------------------------------------------------
# Deliveries
# --------------------------------------------------------------------------------------------------


def delivery_counts(session: Session, *, subscription_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(WebhookDelivery.progress, func.count())
        .where(WebhookDelivery.subscription_id == subscription_id)
        .group_by(WebhookDelivery.progress)
    ).all()
    counts = {"pending": 0, "delivered": 0, "dead": 0}
    counts.update({str(row[0]): int(row[1]) for row in rows})
    return counts


def delivery_list(
    session: Session,
    *,
    subscription_id: uuid.UUID,
    progress: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[WebhookDelivery, OutboxEvent]], str | None]:
    """A subscription's deliveries, newest event first, with their events."""
    subscription_get(session, subscription_id=subscription_id)
    query = (
        select(WebhookDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(OutboxEvent.occurred_at.desc(), WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if progress is not None:
        query = query.where(WebhookDelivery.progress == progress)
    if cursor is not None:
        try:
            occurred, last_id = decode_cursor(cursor)
            if not isinstance(occurred, datetime) or not isinstance(last_id, uuid.UUID):
                raise ValueError("bad cursor")
        except (ValueError, TypeError):
            raise Invalid.field("cursor", "This cursor is not one we gave out.") from None
        query = query.where(
            (OutboxEvent.occurred_at < occurred)
            | ((OutboxEvent.occurred_at == occurred) & (WebhookDelivery.id < last_id))
        )
    rows = [(row[0], row[1]) for row in session.execute(query).all()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_delivery, last_event = rows[-1]
        next_cursor = encode_cursor((last_event.occurred_at, last_delivery.id))
    return rows, next_cursor


def delivery_retry(
    session: Session, *, actor: Principal, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, OutboxEvent]:
    """Send a dead delivery again (after the receiver is fixed): pending, due now, its attempts
    counted afresh. A pending or delivered one is refused (409): it is on its way or there."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("There is no webhook delivery with this id.")
    if delivery.progress != "dead":
        raise Conflict(
            f"Only a dead delivery can be retried; this one is {delivery.progress}.",
            code="delivery_not_dead",
        )
    delivery.progress = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="webhook_delivery",
        entity_id=delivery.id,
        action="retry",
        changes={"progress": {"before": "dead", "after": "pending"}},
    )
    event = session.get(OutboxEvent, delivery.event_id)
    assert event is not None  # a foreign key
    return delivery, event
