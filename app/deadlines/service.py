"""Deadlines: opened, met and stopped by the modules whose events start and end their clocks.

A deadline's status is never stored; it follows from its dates and today (timescales.md,
"Counting"), so it cannot go stale overnight. :func:`deadline_status` computes it for one row and
:func:`deadline_status_expr` / :func:`deadline_status_clause` do the same in SQL, for lists and
filters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, exists, false, not_, or_, select, update
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append
from app.deadlines.rules import Rule
from app.errors import Invalid
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind, DeadlineStatus
from app.models.people import Person
from app.security.access import person_visible
from app.security.principal import Principal


def deadline_open(
    session: Session,
    *,
    rule: Rule,
    subject_type: str,
    subject_id: uuid.UUID,
    case_id: uuid.UUID | None,
    child_id: uuid.UUID | None,
    start_date: date,
    due_date: date,
    due_at: datetime | None = None,
) -> Deadline:
    """Start the clock of ``rule`` for a subject (e.g. the case), due on ``due_date``."""
    deadline = Deadline(
        kind=rule.kind,
        rule_id=rule.rule_id,
        source=rule.source,
        subject_type=subject_type,
        subject_id=subject_id,
        case_id=case_id,
        child_id=child_id,
        start_date=start_date,
        due_date=due_date,
        due_at=due_at,
    )
    session.add(deadline)
    return deadline


def _open() -> ColumnElement[bool]:
    return and_(Deadline.met_date.is_(None), Deadline.stopped_date.is_(None))


def deadline_meet(
    session: Session,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    kind: DeadlineKind,
    met_date: date,
) -> list[Deadline]:
    """Record that the event a deadline waited for happened on ``met_date`` (met, or missed when
    after the due date). Already met or stopped deadlines are left alone."""
    deadlines = list(
        session.scalars(
            select(Deadline).where(
                Deadline.subject_type == subject_type,
                Deadline.subject_id == subject_id,
                Deadline.kind == kind,
                _open(),
            )
        )
    )
    for deadline in deadlines:
        deadline.met_date = met_date
    return deadlines


def deadlines_stop(session: Session, *, case_id: uuid.UUID, on: date) -> int:
    """Stop every open deadline of a case that ended (timescales.md: deadlines stop when their
    case ends); returns how many were stopped."""
    result = session.execute(
        update(Deadline)
        .where(Deadline.case_id == case_id, _open())
        .values(stopped_date=on, updated_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def deadline_status(
    deadline: Deadline, today: date, *, now: datetime | None = None
) -> DeadlineStatus:
    """met / missed (done on or before / after the due date), stopped, overdue (open and past its
    due date), due (open and not yet past it).

    With ``now``, a deadline counted in working hours (``due_at``: a red contact) is overdue from
    that instant rather than from the next day.
    """
    if deadline.met_date is not None:
        on_time = deadline.met_date <= deadline.due_date
        return DeadlineStatus.met if on_time else DeadlineStatus.missed
    if deadline.stopped_date is not None:
        return DeadlineStatus.stopped
    if today > deadline.due_date:
        return DeadlineStatus.overdue
    if now is not None and deadline.due_at is not None and now > deadline.due_at:
        return DeadlineStatus.overdue
    return DeadlineStatus.due


def _past_due(today: date, now: datetime | None) -> ColumnElement[bool]:
    if now is None:
        return Deadline.due_date < today
    return or_(Deadline.due_date < today, and_(Deadline.due_at.is_not(None), Deadline.due_at < now))


def deadline_status_expr(today: date, *, now: datetime | None = None) -> ColumnElement[str]:
    """:func:`deadline_status` as a SQL expression (for sorting or showing in a query)."""
    return case(
        (
            and_(Deadline.met_date.is_not(None), Deadline.met_date <= Deadline.due_date),
            DeadlineStatus.met.value,
        ),
        (Deadline.met_date.is_not(None), DeadlineStatus.missed.value),
        (Deadline.stopped_date.is_not(None), DeadlineStatus.stopped.value),
        (_past_due(today, now), DeadlineStatus.overdue.value),
        else_=DeadlineStatus.due.value,
    )


def deadline_status_clause(
    status: DeadlineStatus, today: date, *, now: datetime | None = None
) -> ColumnElement[bool]:
    """WHERE clause for deadlines whose :func:`deadline_status` on ``today`` (and at ``now``) is
    ``status``, written so the (met_date, stopped_date, due_date) index can serve it."""
    if status is DeadlineStatus.met:
        return and_(Deadline.met_date.is_not(None), Deadline.met_date <= Deadline.due_date)
    if status is DeadlineStatus.missed:
        return and_(Deadline.met_date.is_not(None), Deadline.met_date > Deadline.due_date)
    if status is DeadlineStatus.stopped:
        return and_(Deadline.met_date.is_(None), Deadline.stopped_date.is_not(None))
    if status is DeadlineStatus.overdue:
        return and_(_open(), _past_due(today, now))
    if status is DeadlineStatus.due:
        return and_(_open(), not_(_past_due(today, now)))
    return false()


def deadlines_visible(principal: Principal) -> ColumnElement[bool]:
    """Deadlines about a child the caller may see (or about no child at all). A worker's
    supervision clock (rule 36) is theirs and their managers' only."""
    child_visible = exists().where(Person.id == Deadline.child_id, person_visible(principal))
    no_child: ColumnElement[bool] = Deadline.child_id.is_(None)
    if not principal.is_manager:
        no_child = and_(
            no_child,
            or_(
                Deadline.kind != DeadlineKind.supervision,
                Deadline.subject_id == principal.user_id,
            ),
        )
    return or_(no_child, child_visible)


def deadlines_list(
    session: Session,
    *,
    actor: Principal,
    child_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    worker_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    kinds: Iterable[DeadlineKind] = (),
    status: DeadlineStatus | None = None,
    due_before: date | None = None,
    due_after: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Deadline], str | None]:
    """Deadlines the caller may see, soonest due first, and the cursor of the next page.

    ``worker_id`` and ``team_id`` select by the case's current allocation; ``due_before`` and
    ``due_after`` are inclusive. Every child shown is written to access_log (action ``list``).
    """
    if due_before is not None and due_after is not None and due_after > due_before:
        raise Invalid.field("due_after", "due_after must not be later than due_before.")
    stmt = select(Deadline).where(deadlines_visible(actor))
    if child_id is not None:
        stmt = stmt.where(Deadline.child_id == child_id)
    if case_id is not None:
        stmt = stmt.where(Deadline.case_id == case_id)
    if worker_id is not None or team_id is not None:
        stmt = stmt.join(Case, Case.id == Deadline.case_id)
        if worker_id is not None:
            stmt = stmt.where(Case.allocated_worker_id == worker_id)
        if team_id is not None:
            stmt = stmt.where(Case.team_id == team_id)
    kinds = list(kinds)
    if kinds:
        stmt = stmt.where(Deadline.kind.in_(kinds))
    if status is not None:
        stmt = stmt.where(deadline_status_clause(status, clock.today(), now=clock.now()))
    if due_before is not None:
        stmt = stmt.where(Deadline.due_date <= due_before)
    if due_after is not None:
        stmt = stmt.where(Deadline.due_date >= due_after)
    if cursor is not None:
        after_due, after_id = _deadline_cursor(cursor)
        stmt = stmt.where(
            or_(
                Deadline.due_date > after_due,
                and_(Deadline.due_date == after_due, Deadline.id > after_id),
            )
        )
    rows = list(session.scalars(stmt.order_by(Deadline.due_date, Deadline.id).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    for child in dict.fromkeys(d.child_id for d in page if d.child_id is not None):
        access_log_append(
            session, principal=actor, action="list", resource="deadline_list", person_id=child
        )
    next_cursor = encode_cursor((page[-1].due_date, page[-1].id)) if more else None
    return page, next_cursor


def _deadline_cursor(cursor: str) -> tuple[date, uuid.UUID]:
    values = decode_cursor(cursor)
    if (
        len(values) != 2
        or not isinstance(values[0], date)
        or isinstance(values[0], datetime)
        or not isinstance(values[1], uuid.UUID)
    ):
        raise Invalid.field("cursor", "This cursor is not one we gave out; start again without it.")
    return values[0], values[1]
