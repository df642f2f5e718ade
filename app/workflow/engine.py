"""The workflow engine: transition tables declared as data, and the one function that applies them.

Every stateful record (a case now; assessments, s47 enquiries, plans, episodes later) declares a
:class:`StateMachine` — its states and its ``(state, event) -> target`` transitions with the roles
allowed, the reason and fields required and an optional guard — and changes state only through
:func:`apply` (or :func:`start` for its first state). This module is the only code in ``app/`` that
assigns a ``.state`` (a test greps for any other), so every change of state is checked the same way
and leaves a hash-chained ``case_event`` in the same transaction (DESIGN.md, "The case and its
state machine").

Checks run in a fixed order, cheapest and most informative first, and nothing is written until all
have passed: version (412), event allowed from this state (409), role (403), reason and fields
(422), guard (409, or 422 when the guard judges an input field).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app import clock
from app.audit.service import case_event_append, diff
from app.errors import Conflict, Forbidden, IllegalTransition, Invalid, PreconditionFailed
from app.models.audit import CaseEvent
from app.models.org import Role
from app.outbox import service as outbox_service
from app.security.principal import Principal


class StatefulRecord(Protocol):
    """What the engine needs of a record: an id, a state and a ``version_id_col`` version."""

    id: uuid.UUID
    state: str
    version: int


@dataclass(frozen=True)
class GuardContext:
    """What a guard (or an effect) may look at; it must not write."""

    session: Session
    record: Any
    actor: Principal
    transition: Transition
    reason: str | None
    data: Mapping[str, Any]
    today: date


Guard = Callable[[GuardContext], str | None]
Effect = Callable[[GuardContext], Mapping[str, Any]]


@dataclass(frozen=True)
class Transition:
    """One row of a transition table: from ``source`` on ``event`` to ``target``.

    ``guard`` returns a sentence saying why the transition is refused, or None. A refusal is a 409
    (the records as they stand do not allow it) unless ``guard_field`` names the input it judges,
    in which case it is a 422 on that field. ``effect`` returns other fields of the record to set
    in the same write as the state (e.g. the closure date and reason), so the version moves once.
    ``data`` may carry ``required_fields`` and ``optional_fields`` and nothing else.
    """

    source: str
    event: str
    target: str
    roles: frozenset[Role]
    description: str
    requires_reason: bool = False
    required_fields: tuple[str, ...] = ()
    guard: Guard | None = None
    guard_field: str | None = None
    optional_fields: tuple[str, ...] = ()
    effect: Effect | None = None
    # What to say when a required field is missing, where a rule says more than "required"
    # (field name, sentence); e.g. the CIN census rule behind a closure reason.
    required_messages: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TransitionContext:
    """What an ``on_transition`` hook receives, after the state is set and the event written."""

    session: Session
    machine: StateMachine
    record: Any
    actor: Principal
    event: str
    from_state: str | None
    to_state: str
    data: Mapping[str, Any]
    case_event: CaseEvent
    case_id: uuid.UUID
    child_id: uuid.UUID
    today: date


Hook = Callable[[TransitionContext], None]

#: The pseudo-event passed to hooks when a record enters its initial state through :func:`start`.
START = "start"


@dataclass(frozen=True)
class StateMachine:
    """A record type's transition table; checked when it is declared (i.e. at import)."""

    name: str
    subject_type: str
    initial: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    on_transition: tuple[Hook, ...] = ()
    _index: dict[tuple[str, str], Transition] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        problems: list[str] = []
        if len(set(self.states)) != len(self.states):
            problems.append("a state is declared twice")
        if self.initial not in self.states:
            problems.append(f"initial state {self.initial!r} is not declared")
        for t in self.transitions:
            for end in (t.source, t.target):
                if end not in self.states:
                    problems.append(f"{t.source} --{t.event}--> {t.target}: {end!r} undeclared")
            if (t.source, t.event) in self._index:
                problems.append(f"({t.source!r}, {t.event!r}) is declared twice")
            if not t.roles:
                problems.append(f"({t.source!r}, {t.event!r}) allows no role")
            if t.event == START:
                problems.append(f"{START!r} is reserved for entering the initial state")
            if set(t.required_fields) & set(t.optional_fields):
                problems.append(f"({t.source!r}, {t.event!r}) has a field both required and not")
            self._index[(t.source, t.event)] = t
        if problems:
            raise ValueError(f"state machine {self.name!r}: " + "; ".join(problems))

    def transition(self, state: str, event: str) -> Transition | None:
        return self._index.get((state, event))

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == state]

    @property
    def events(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.event for t in self.transitions))

    @property
    def final_states(self) -> tuple[str, ...]:
        sources = {t.source for t in self.transitions}
        return tuple(s for s in self.states if s not in sources)


def allowed_events(machine: StateMachine, state: str, role: Role) -> list[Transition]:
    """The transitions ``role`` may take from ``state`` (guards not evaluated): what a UI offers."""
    return [t for t in machine.from_state(state) if role in t.roles]


def require_version(record: StatefulRecord, expected_version: int) -> None:
    """412 unless the caller last saw the version the record has now (nothing changes)."""
    if record.version != expected_version:
        raise PreconditionFailed(
            f"This record is at version {record.version}, not {expected_version}: someone changed "
            "it since you loaded it. Reload it and try again."
        )


def _check_input(transition: Transition, reason: str | None, data: Mapping[str, Any]) -> str | None:
    errors: list[dict[str, Any]] = []
    if transition.requires_reason and not (reason and reason.strip()):
        errors.append({"field": "reason", "message": f"Say why ({transition.event})."})
    messages = dict(transition.required_messages)
    for name in transition.required_fields:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            message = messages.get(name, "This is required here.")
            errors.append({"field": f"data.{name}", "message": message})
    known = set(transition.required_fields) | set(transition.optional_fields)
    for name in sorted(set(data) - known):
        errors.append({"field": f"data.{name}", "message": "This field is not accepted here."})
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise Invalid(f"Please correct: {fields}.", errors=errors)
    return reason.strip() if reason else None


def apply(
    session: Session,
    *,
    machine: StateMachine,
    record: StatefulRecord,
    event: str,
    actor: Principal,
    expected_version: int,
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Take ``event`` on ``record``: check, set the state, write the event, run the hooks, flush.

    Runs inside the caller's transaction and never commits. A refusal raises before anything is
    written. A concurrent writer that passed the version check too loses at the flush
    (``version_id_col`` → StaleDataError) or at the unique ``(case_id, seq)`` of the event.
    """
    data = dict(data or {})
    require_version(record, expected_version)
    current = record.state
    transition = machine.transition(current, event)
    if transition is None:
        allowed = [t.event for t in allowed_events(machine, current, actor.role)]
        offer = ", ".join(allowed) if allowed else "none that you may take"
        raise IllegalTransition(
            f"'{event}' is not possible while the {machine.subject_type} is in '{current}'; "
            f"from here: {offer}.",
            current_state=current,
            allowed_events=allowed,
        )
    if actor.role not in transition.roles:
        allowed_roles = ", ".join(sorted(r.value for r in transition.roles))
        raise Forbidden(
            f"Your role ({actor.role.value}) may not take '{event}' from '{current}'; "
            f"it needs one of: {allowed_roles}."
        )
    reason = _check_input(transition, reason, data)
    today = clock.today()
    context = GuardContext(
        session=session,
        record=record,
        actor=actor,
        transition=transition,
        reason=reason,
        data=data,
        today=today,
    )
    if transition.guard is not None:
        refusal = transition.guard(context)
        if refusal is not None:
            if transition.guard_field is not None:
                raise Invalid.field(transition.guard_field, refusal)
            raise Conflict(refusal, code="transition_refused")
    fields = dict(transition.effect(context)) if transition.effect else {}

    before = {name: getattr(record, name) for name in fields}
    for name, value in fields.items():
        setattr(record, name, value)
    record.state = transition.target
    changes: dict[str, Any] = {**data, **diff(before, fields)}
    case_event = case_event_append(
        session,
        case_id=case_id,
        child_id=child_id,
        actor=actor,
        action=event,
        subject_type=machine.subject_type,
        subject_id=record.id,
        from_state=current,
        to_state=transition.target,
        reason=reason,
        changes=changes,
    )
    _run_hooks(
        session,
        machine=machine,
        record=record,
        actor=actor,
        event=event,
        from_state=current,
        data=data,
        case_event=case_event,
        case_id=case_id,
        child_id=child_id,
        today=today,
    )
    session.flush()
    return case_event


def start(
    session: Session,
    *,
    machine: StateMachine,
    record: StatefulRecord,
    actor: Principal,
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    action: str | None = None,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Put a new record in its machine's initial state and write its opening event
    (``<subject_type>_opened`` unless ``action`` says otherwise). The record must be in the session
    (added, not necessarily flushed)."""
    data = dict(data or {})
    record.state = machine.initial
    session.flush()
    case_event = case_event_append(
        session,
        case_id=case_id,
        child_id=child_id,
        actor=actor,
        action=action or f"{machine.subject_type}_opened",
        subject_type=machine.subject_type,
        subject_id=record.id,
        from_state=None,
        to_state=machine.initial,
        reason=reason,
        changes=data,
    )
    _run_hooks(
        session,
        machine=machine,
        record=record,
        actor=actor,
        event=START,
        from_state=None,
        data=data,
        case_event=case_event,
        case_id=case_id,
        child_id=child_id,
        today=clock.today(),
    )
    session.flush()
    return case_event


def _run_hooks(
    session: Session,
    *,
    machine: StateMachine,
    record: StatefulRecord,
    actor: Principal,
    event: str,
    from_state: str | None,
    data: Mapping[str, Any],
    case_event: CaseEvent,
    case_id: uuid.UUID,
    child_id: uuid.UUID,
    today: date,
) -> None:
    context = TransitionContext(
        session=session,
        machine=machine,
        record=record,
        actor=actor,
        event=event,
        from_state=from_state,
        to_state=record.state,
        data=data,
        case_event=case_event,
        case_id=case_id,
        child_id=child_id,
        today=today,
    )
    for hook in machine.on_transition:
        hook(context)
    # Integrations hear of the change in the same transaction as its case event (the
    # transactional outbox): both commit or neither does. Which transitions become which public
    # event types is the explicit table in app.outbox.service.
    outbox_service.publish_transition(
        session,
        subject_type=machine.subject_type,
        record=record,
        event=event,
        from_state=from_state,
        to_state=record.state,
        data=data,
        case_id=case_id,
        child_id=child_id,
        case_event_id=case_event.id,
    )


def roles(*names: Role | Iterable[Role]) -> frozenset[Role]:
    """A role set for a transition table: ``roles(Role.social_worker, MANAGERS)``."""
    out: set[Role] = set()
    for item in names:
        if isinstance(item, Role):
            out.add(item)
        else:
            out.update(item)
    return frozenset(out)
