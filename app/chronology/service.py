"""The child's chronology (issue 3 item 11): the significant events of every case the child has
had, generated from ``case_event``, labelled for a person, filterable and printable.

One access_log row per request (the child is read once). A restricted child is a 404 to anyone not
named on the record. A note's draft being started is the author's private work, not an event in the
child's life, so it is left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.api.pagination import decode_cursor, encode_cursor
from app.calendar import LONDON
from app.casenotes.workflow import DRAFT_STARTED, NOTE_MACHINE
from app.errors import Invalid
from app.models.audit import CaseEvent
from app.models.org import UserAccount
from app.models.people import Person
from app.security.access import get_person_for_read
from app.security.principal import Principal
from app.workflow.engine import StateMachine

#: Labels for the events people look for in a chronology; any other event is labelled from its
#: transition's description in the machines that declare it (``app.workflow.registry``).
LABELS: dict[tuple[str, str], str] = {
    ("case", "case_opened"): "Contact received",
    ("case", "accept_referral"): "Referral accepted",
    ("case", "nfa_contact"): "Contact closed: no further action",
    ("case", "referral_nfa"): "Referral closed: no further action",
    ("case", "start_assessment"): "Child and family assessment started",
    ("case", "start_strategy"): "Strategy discussion: section 47 enquiry considered",
    ("case", "conclude_enquiry"): "Enquiry concluded without a conference",
    ("case", "start_cin_plan"): "Child in need plan started",
    ("case", "start_cp_plan"): "Child protection plan started",
    ("case", "become_looked_after"): "Child became looked after",
    ("case", "close"): "Case closed",
    ("case", "allocated"): "Case allocated",
    ("case_note", "case_note_recorded"): "Case note recorded",
}
#: Not events in the child's life.
LEFT_OUT = (DRAFT_STARTED,)


def _machines() -> tuple[StateMachine, ...]:
    from app.workflow.registry import all_machines

    machines = all_machines()
    return machines if NOTE_MACHINE in machines else (*machines, NOTE_MACHINE)


@cache
def _described() -> dict[tuple[str, str], str]:
    """Each (record type, event)'s first clause of description, from the machines."""
    out: dict[tuple[str, str], str] = {}
    for machine in _machines():
        for t in machine.transitions:
            clause = t.description.split(": ")[0].split(". ")[0].split(" (")[0].rstrip(".")
            out.setdefault((machine.subject_type, t.event), clause)
    return out


def label(subject_type: str, action: str) -> str:
    """A person's words for an event: ours, else its transition's, else the action itself."""
    key = (subject_type, action)
    if key in LABELS:
        return LABELS[key]
    return _described().get(key) or action.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Entry:
    event: CaseEvent
    actor_name: str | None

    @property
    def label(self) -> str:
        return label(self.event.subject_type, self.event.action)


@dataclass(frozen=True)
class Chronology:
    child: Person
    entries: list[Entry]
    next_cursor: str | None


def _cursor(cursor: str) -> tuple[datetime, uuid.UUID, int]:
    values = decode_cursor(cursor)
    if (
        len(values) != 3
        or not isinstance(values[0], datetime)
        or values[0].tzinfo is None
        or not isinstance(values[1], uuid.UUID)
        or not isinstance(values[2], int)
        or isinstance(values[2], bool)
    ):
        raise Invalid.field("cursor", "This cursor is not one we gave out; start again without it.")
    return values[0], values[1], values[2]


def child_chronology(
    session: Session,
    *,
    actor: Principal,
    person_id: uuid.UUID,
    types: Sequence[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    descending: bool = False,
    cursor: str | None = None,
    limit: int | None = 50,
) -> Chronology:
    """The child's events across all their cases, oldest first (or newest, ``descending``),
    optionally only some actions (``types``) and London calendar days (inclusive); ``limit=None``
    gives every one (the printable chronology). One access_log row per call."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Invalid.field("from", "from must not be later than to.")
    child = get_person_for_read(
        session, principal=actor, person_id=person_id, resource="child_chronology"
    )
    stmt = (
        select(CaseEvent, UserAccount.display_name)
        .outerjoin(UserAccount, UserAccount.id == CaseEvent.actor_id)
        .where(CaseEvent.child_id == child.id, CaseEvent.action.not_in(LEFT_OUT))
    )
    if types:
        stmt = stmt.where(CaseEvent.action.in_(list(types)))
    if date_from is not None:
        stmt = stmt.where(CaseEvent.occurred_at >= datetime.combine(date_from, time(0), LONDON))
    if date_to is not None:
        next_day = datetime.combine(date_to + timedelta(days=1), time(0), LONDON)
        stmt = stmt.where(CaseEvent.occurred_at < next_day)
    keys = (CaseEvent.occurred_at, CaseEvent.case_id, CaseEvent.seq)
    if cursor is not None:
        at, case_id, seq = _cursor(cursor)
        if descending:
            after = or_(
                keys[0] < at,
                and_(
                    keys[0] == at, or_(keys[1] < case_id, and_(keys[1] == case_id, keys[2] < seq))
                ),
            )
        else:
            after = or_(
                keys[0] > at,
                and_(
                    keys[0] == at, or_(keys[1] > case_id, and_(keys[1] == case_id, keys[2] > seq))
                ),
            )
        stmt = stmt.where(after)
    stmt = stmt.order_by(*(k.desc() for k in keys) if descending else keys)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    rows = [Entry(event, name) for event, name in session.execute(stmt)]
    more = limit is not None and len(rows) > limit
    page = rows[:limit] if limit is not None else rows
    last = page[-1].event if more and page else None
    next_cursor = encode_cursor((last.occurred_at, last.case_id, last.seq)) if last else None
    return Chronology(child=child, entries=page, next_cursor=next_cursor)


def chronology_text(chronology: Chronology, *, printed_at: datetime) -> str:
    """The printable chronology: a heading, then one line per event (London time)."""
    child = chronology.child
    born = (
        f"born {child.date_of_birth.isoformat()}"
        if child.date_of_birth
        else f"expected {child.expected_date_of_birth.isoformat()}"
        if child.expected_date_of_birth
        else "date of birth not known"
    )
    lines = [
        f"Chronology: {child.first_name} {child.last_name} ({born})",
        f"Printed {printed_at.astimezone(LONDON):%Y-%m-%d %H:%M}; {len(chronology.entries)} events",
        "",
    ]
    for entry in chronology.entries:
        event = entry.event
        parts = [f"{event.occurred_at.astimezone(LONDON):%Y-%m-%d %H:%M}", entry.label]
        if event.to_state and event.from_state != event.to_state:
            parts.append(f"({event.from_state or 'new'} -> {event.to_state})")
        if entry.actor_name:
            role = f", {event.actor_role}" if event.actor_role else ""
            parts.append(f"by {entry.actor_name}{role}")
        if event.reason:
            parts.append(f"reason: {' '.join(event.reason.split())}")
        lines.append(" | ".join(parts))
    return "\n".join(lines) + "\n"
