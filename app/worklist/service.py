"""The worklist (issue 3 item 12): what the signed-in worker must do next, and a manager's view of
their team's.

Built from the deadlines (DESIGN.md: worklists read deadlines from one place): the open deadlines
of the cases allocated to the caller (or held by a team), overdue first, then those due within the
next 10 working days. Status comes from ``app.deadlines.service`` (no second computation). Two
statements whatever the size (the deadlines with their cases and children; the team's unallocated
cases), plus one access_log row per child shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from app import clock
from app.audit.service import access_log_append
from app.calendar import add_working_days, working_days_between
from app.cases.workflow import CLOSED
from app.deadlines import rules
from app.deadlines.service import deadline_status_clause, deadline_status_expr, deadlines_visible
from app.errors import Forbidden, NotFound
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind, DeadlineStatus
from app.models.org import Role, Team
from app.models.people import Person
from app.security.access import person_visible
from app.security.principal import Principal

#: "Due soon": within the next 10 working days (issue 3 item 12).
DUE_SOON_WORKING_DAYS = 10


@dataclass(frozen=True)
class Item:
    deadline_id: uuid.UUID
    kind: DeadlineKind
    rule_id: str
    source: str
    rule: str | None
    due_date: date
    due_at: datetime | None
    status: DeadlineStatus
    days_overdue: int | None
    working_days_left: int | None
    child_id: uuid.UUID
    child_name: str
    case_id: uuid.UUID
    case_state: str
    team_id: uuid.UUID
    worker_id: uuid.UUID | None


@dataclass(frozen=True)
class Unallocated:
    case_id: uuid.UUID
    case_state: str
    opened_date: date
    child_id: uuid.UUID
    child_name: str
    oldest_due_date: date | None
    overdue: bool


@dataclass(frozen=True)
class WorklistResult:
    today: date
    due_by: date
    team_id: uuid.UUID | None
    items: list[Item]
    unallocated: list[Unallocated] = field(default_factory=list)


def _check_team(session: Session, *, actor: Principal, team_id: uuid.UUID) -> None:
    """A team manager sees the teams they manage; a service manager any team; nobody else."""
    if actor.role is Role.service_manager:
        if session.get(Team, team_id) is None:
            raise NotFound("There is no team with this id.")
        return
    if actor.role is Role.team_manager and team_id in actor.managed_team_ids:
        return
    raise Forbidden("Only the team's managers (or a service manager) may see a team's worklist.")


def worklist(
    session: Session, *, actor: Principal, team_id: uuid.UUID | None = None
) -> WorklistResult:
    """The caller's worklist, or (``team_id``) their managed team's with its unallocated cases."""
    if team_id is not None:
        _check_team(session, actor=actor, team_id=team_id)
    today, now = clock.today(), clock.now()
    due_by = add_working_days(today, DUE_SOON_WORKING_DAYS)
    status = deadline_status_expr(today, now=now).label("status")
    overdue = deadline_status_clause(DeadlineStatus.overdue, today, now=now)
    due_soon = and_(
        deadline_status_clause(DeadlineStatus.due, today, now=now), Deadline.due_date <= due_by
    )
    held = (
        Case.team_id == team_id
        if team_id is not None
        else Case.allocated_worker_id == actor.user_id
    )
    # The child's name comes from an alias: ``deadlines_visible`` brings its own ``person``.
    named = aliased(Person)
    rows = session.execute(
        select(
            Deadline,
            Case.id,
            named.id,
            Case.state,
            Case.team_id,
            Case.allocated_worker_id,
            named.first_name,
            named.last_name,
            status,
        )
        .join(Case, Case.id == Deadline.case_id)
        .join(named, named.id == Deadline.child_id)
        .where(held, Case.state != CLOSED, deadlines_visible(actor), or_(overdue, due_soon))
        .order_by(
            sql_case((status == DeadlineStatus.overdue.value, 0), else_=1),
            Deadline.due_date,
            Deadline.due_at,
            Deadline.id,
        )
    ).all()
    items: list[Item] = []
    for deadline, case_id, child_id, state, held_by, worker, first, last, raw_status in rows:
        current = DeadlineStatus(raw_status)
        known = rules.all_rules().get(deadline.kind)
        items.append(
            Item(
                deadline_id=deadline.id,
                kind=deadline.kind,
                rule_id=deadline.rule_id,
                source=deadline.source,
                rule=known.description if known and known.rule_id == deadline.rule_id else None,
                due_date=deadline.due_date,
                due_at=deadline.due_at,
                status=current,
                days_overdue=(today - deadline.due_date).days
                if current is DeadlineStatus.overdue
                else None,
                working_days_left=working_days_between(today, deadline.due_date)
                if current is DeadlineStatus.due
                else None,
                child_id=child_id,
                child_name=f"{first} {last}",
                case_id=case_id,
                case_state=state,
                team_id=held_by,
                worker_id=worker,
            )
        )
    unallocated = (
        _unallocated(session, actor=actor, team_id=team_id, today=today, now=now)
        if (team_id is not None)
        else []
    )
    for child in dict.fromkeys([i.child_id for i in items] + [u.child_id for u in unallocated]):
        access_log_append(
            session, principal=actor, action="list", resource="worklist", person_id=child
        )
    return WorklistResult(
        today=today, due_by=due_by, team_id=team_id, items=items, unallocated=unallocated
    )


def _unallocated(
    session: Session, *, actor: Principal, team_id: uuid.UUID, today: date, now: datetime
) -> list[Unallocated]:
    """The team's open cases waiting for a worker, the most pressing deadline first."""
    open_deadline = or_(
        deadline_status_clause(DeadlineStatus.overdue, today, now=now),
        deadline_status_clause(DeadlineStatus.due, today, now=now),
    )
    oldest = func.min(Deadline.due_date).label("oldest")
    rows = session.execute(
        select(
            Case.id,
            Case.state,
            Case.opened_date,
            Case.child_id,
            Person.first_name,
            Person.last_name,
            oldest,
        )
        .join(Person, Person.id == Case.child_id)
        .outerjoin(Deadline, and_(Deadline.case_id == Case.id, open_deadline))
        .where(
            Case.team_id == team_id,
            Case.allocated_worker_id.is_(None),
            Case.state != CLOSED,
            person_visible(actor),
        )
        .group_by(
            Case.id,
            Case.state,
            Case.opened_date,
            Case.child_id,
            Person.first_name,
            Person.last_name,
        )
        # Cases with no open deadline last; then the longest waiting.
        .order_by(oldest.is_(None), oldest, Case.opened_date, Case.id)
    ).all()
    return [
        Unallocated(
            case_id=case_id,
            case_state=state,
            opened_date=opened,
            child_id=child_id,
            child_name=f"{first} {last}",
            oldest_due_date=due,
            overdue=due is not None and due < today,
        )
        for case_id, state, opened, child_id, first, last, due in rows
    ]
