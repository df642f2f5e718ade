"""The only writer of the audit tables: the case chronology (hash-chained), plain edits, and reads.

Every function here runs inside the caller's transaction, so the change and its audit record commit
together or not at all (DESIGN.md, "Audit and access").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.models.audit import AccessLog, CaseEvent, ChangeLog
from app.models.people import Person
from app.request_context import current_request_id
from app.security.principal import Principal

GENESIS_HASH = "0" * 64


def to_jsonable(value: Any) -> Any:
    """Dates, ids and enums as strings so that what is stored is exactly what was hashed."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: CaseEvent) -> str:
    """SHA-256 over the canonical form of every field of the row except its own hash."""
    payload = {
        "case_id": event.case_id,
        "child_id": event.child_id,
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "changes": event.changes,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def case_event_append(
    session: Session,
    *,
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> CaseEvent:
    """Append the next event to the case's chain.

    The next ``seq`` is read, not locked: if two transactions append to one case at once, the
    unique (case_id, seq) constraint lets exactly one commit (SQLite ignores FOR UPDATE).
    """
    last = session.execute(
        select(CaseEvent.seq, CaseEvent.hash)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event = CaseEvent(
        id=uuid.uuid4(),
        case_id=case_id,
        child_id=child_id,
        seq=seq,
        occurred_at=(occurred_at or clock.now()).astimezone(UTC),
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=to_jsonable(changes or {}),
        request_id=current_request_id(),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


def change_log_append(
    session: Session,
    *,
    actor: Principal | None,
    entity_type: str,
    entity_id: uuid.UUID,
    action: str,
    changes: dict[str, Any],
) -> ChangeLog:
    """Record a plain edit: ``changes`` = {field: {"before": …, "after": …}}, or the new fields."""
    row = ChangeLog(
        occurred_at=clock.now(),
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        changes=to_jsonable(changes),
        request_id=current_request_id(),
    )
    session.add(row)
    return row


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field-level before/after for the fields that changed."""
    return {
        key: {"before": to_jsonable(before.get(key)), "after": to_jsonable(after.get(key))}
        for key in sorted(set(before) | set(after))
        if to_jsonable(before.get(key)) != to_jsonable(after.get(key))
    }


def access_log_append(
    session: Session,
    *,
    principal: Principal | None,
    action: str,
    resource: str,
    person_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> AccessLog:
    """Record that someone saw (or tried to see) a child, in the caller's transaction: a read
    whose access record cannot be written fails with it (fail closed), because the request's
    transaction commits before its response is sent.

    Not flushed here: a list that shows 500 children adds 500 rows, which the session writes in
    one batched INSERT at its next flush or at commit (one statement per row made the IRO
    dashboard's 562 children 562 round trips; bench/README.md). The id is set now so that a
    caller can name the row before it is written."""
    row = AccessLog(
        id=uuid.uuid4(),
        occurred_at=clock.now(),
        user_id=principal.user_id if principal else None,
        user_role=principal.role.value if principal else None,
        person_id=person_id,
        case_id=case_id,
        action=action,
        resource=resource,
        reason=reason,
        request_id=current_request_id(),
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class BrokenLink:
    case_id: uuid.UUID
    seq: int
    problem: str


def verify_chains(session: Session, *, case_id: uuid.UUID | None = None) -> BrokenLink | None:
    """Walk every case's chain in order; return the first broken link, or None when all verify."""
    return verify_chains_report(session, case_id=case_id).first_broken


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chains: the first broken link (None: all verify) and how many
    events were checked up to and including it."""

    first_broken: BrokenLink | None
    checked_events: int

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def verify_chains_report(session: Session, *, case_id: uuid.UUID | None = None) -> ChainReport:
    """:func:`verify_chains` with the number of events checked (for ``/audit/verify``)."""
    stmt = select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)
    if case_id is not None:
        stmt = stmt.where(CaseEvent.case_id == case_id)
    current: uuid.UUID | None = None
    expected_seq, prev, checked = 1, GENESIS_HASH, 0
    # populate_existing: check what the database holds, not what this session remembers.
    stmt = stmt.execution_options(yield_per=1000, populate_existing=True)
    # Closed on every way out: on PostgreSQL yield_per streams through a server-side cursor.
    with session.scalars(stmt) as events:
        for event in events:
            checked += 1
            if event.case_id != current:
                current, expected_seq, prev = event.case_id, 1, GENESIS_HASH
            broken: str | None = None
            if event.seq != expected_seq:
                broken = f"expected event {expected_seq} next"
            elif event.prev_hash != prev:
                broken = "does not point at the previous event"
            elif event_hash(event) != event.hash:
                broken = "content does not match its hash"
            if broken is not None:
                return ChainReport(BrokenLink(event.case_id, event.seq, broken), checked)
            prev, expected_seq = event.hash, expected_seq + 1
    return ChainReport(None, checked)


def change_log_list(
    session: Session,
    *,
    actor: Principal,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    cursor: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> tuple[list[ChangeLog], tuple[datetime, uuid.UUID] | None]:
    """Plain edits, oldest first, and the sort key of the last row when there are more.

    A change to a person's record shows their details, so each person shown is written to
    access_log (action ``list``) like any other list of people.
    """
    # Imported here: app.security.access writes through this module.
    from app.security.access import person_visible

    # The entries about a restricted child are as restricted as the child (existence not disclosed).
    visible_person = exists().where(Person.id == ChangeLog.entity_id, person_visible(actor))
    stmt = select(ChangeLog).where(or_(ChangeLog.entity_type != "person", visible_person))
    if entity_type is not None:
        stmt = stmt.where(ChangeLog.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(ChangeLog.entity_id == entity_id)
    if cursor is not None:
        after_at, after_id = cursor
        stmt = stmt.where(
            or_(
                ChangeLog.occurred_at > after_at,
                and_(ChangeLog.occurred_at == after_at, ChangeLog.id > after_id),
            )
        )
    rows = list(
        session.scalars(stmt.order_by(ChangeLog.occurred_at, ChangeLog.id).limit(limit + 1))
    )
    page, more = rows[:limit], len(rows) > limit
    people = dict.fromkeys(r.entity_id for r in page if r.entity_type == "person")
    if people:
        existing = set(session.scalars(select(Person.id).where(Person.id.in_(people))))
        for person_id in people:
            if person_id in existing:
                access_log_append(
                    session,
                    principal=actor,
                    action="list",
                    resource="change_log",
                    person_id=person_id,
                )
    return page, ((page[-1].occurred_at, page[-1].id) if more else None)
