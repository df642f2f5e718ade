"""The rows behind the team scorecard's figures, and the statutory timeliness of a team's cases.

The scorecard (the web client's ``/team``) shows counts from :mod:`app.practice.measures` and
:func:`app.org.service.team_caseloads`; a manager asking "which children are behind this figure?"
gets them here, counted the same way: the same deadlines due in the same month with the same
statuses (:func:`app.deadlines.service.deadline_status_expr`), the same audits and the same open
cases. A figure is a count over every child; a list shows only the children the caller may see
(a restricted record stays hidden) and says how many are left out, and every child listed is
written to the access log, as every list of children is.

The statutory timeliness is the share of each timescale rule's deadlines (Working Together 2023,
the Care Planning Regulations 2010 and the rest, as :func:`app.deadlines.rules.all_rules` names
them) due in a month on the team's cases that were met on or before their due date, over those
met, missed or still overdue, with the eleven months before it: the measures' own "in time".
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append
from app.calendar import add_months
from app.cases.workflow import CLOSED, CONTACT
from app.deadlines.rules import all_rules
from app.deadlines.service import deadline_status_expr
from app.errors import NotFound
from app.models.audits import CaseAudit
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind, DeadlineStatus
from app.models.org import Team, TeamMembership, UserAccount
from app.models.people import Person
from app.practice.measures import (
    GOOD_OR_BETTER,
    TREND_MONTHS,
    Ratio,
    TrendPoint,
    _in_time,
    _london_midnight,
    _month_bucket,
)
from app.security.access import person_visible
from app.security.principal import Principal

#: Where the lists are logged as read (access_log.resource).
RESOURCE: Final = "practice_scorecard"
#: What a deadline's status is counted as in an "in time" figure (due and stopped do not count).
COUNTED: Final = (
    DeadlineStatus.met.value,
    DeadlineStatus.missed.value,
    DeadlineStatus.overdue.value,
)
#: Kinds a team's timeliness is about: those on a case (supervision is about a worker).
CASE_KINDS: Final = tuple(k for k in DeadlineKind if k is not DeadlineKind.supervision)
#: The statutory timescales (the practice rules 36-38 have measures of their own).
STATUTORY_KINDS: Final = tuple(
    k for k in CASE_KINDS if k not in (DeadlineKind.management_oversight, DeadlineKind.audit_action)
)


@dataclass
class KindTimeliness:
    """One timescale rule's deadlines on the team's cases: the month's figure and the trend."""

    kind: DeadlineKind
    rule_id: str
    description: str
    source: str
    ratio: Ratio
    trend: list[TrendPoint] = field(default_factory=list)


@dataclass(frozen=True)
class MeasureRow:
    """One child (or, for supervision, one worker) behind a figure: ``counted`` when the row is
    in the numerator (in time, good or better, overdue, late: what the figure counts)."""

    name: str
    child_id: uuid.UUID | None
    case_id: uuid.UUID | None
    when: date | None
    detail: str
    counted: bool


@dataclass
class MeasureRows:
    """The rows behind a figure the caller may see, and how many are hidden from them."""

    rows: list[MeasureRow]
    hidden: int = 0

    @property
    def counted(self) -> int:
        return sum(1 for r in self.rows if r.counted)


def _months(month: date) -> tuple[list[date], date]:
    starts = [add_months(month, offset) for offset in range(1 - TREND_MONTHS, 1)]
    return starts, add_months(month, 1)


def _team(session: Session, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("There is no team with this id.")
    return team


def statutory_timeliness(
    session: Session, *, month: date, team_id: uuid.UUID
) -> list[KindTimeliness]:
    """For each timescale rule with a deadline due on the team's cases in the twelve months to
    ``month``: the share met in time in ``month`` and in each of those months. One query."""
    _team(session, team_id)
    today = clock.today()
    starts, end = _months(month)
    inner = (
        select(
            Deadline.kind.label("kind"),
            _month_bucket(Deadline.due_date, [*starts, end]).label("bucket"),
            deadline_status_expr(today).label("key"),
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Case.team_id == team_id,
            Deadline.kind.in_(STATUTORY_KINDS),
            Deadline.due_date >= starts[0],
            Deadline.due_date < end,
        )
        .subquery()
    )
    counts: dict[DeadlineKind, dict[int, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for kind, bucket, key, n in session.execute(
        select(inner.c.kind, inner.c.bucket, inner.c.key, func.count()).group_by(
            inner.c.kind, inner.c.bucket, inner.c.key
        )
    ).all():
        counts[DeadlineKind(kind)][int(bucket)][str(key)] += int(n)
    rules = all_rules()
    out = []
    for kind in STATUTORY_KINDS:  # the rules' own order: front door first
        if kind not in counts:
            continue
        trend = [
            TrendPoint(starts[i], _in_time(counts[kind].get(i, {}))) for i in range(TREND_MONTHS)
        ]
        rule = rules.get(kind)
        out.append(
            KindTimeliness(
                kind=kind,
                rule_id=rule.rule_id if rule else "",
                description=rule.description if rule else kind.value.replace("_", " "),
                source=rule.source if rule else "",
                ratio=trend[-1].ratio,
                trend=trend,
            )
        )
    return out


def _children(
    session: Session,
    *,
    actor: Principal,
    stmt: Any,
    total: int,
    row: Any,
) -> MeasureRows:
    """Run ``stmt`` (rows ending with the child's Person) for the visible children only, log
    each child listed, and say how many of ``total`` were left out."""
    rows = session.execute(stmt.where(person_visible(actor))).all()
    logged: set[uuid.UUID] = set()
    out = []
    for found in rows:
        item: MeasureRow = row(*found)
        out.append(item)
        if item.child_id is not None and item.child_id not in logged:
            logged.add(item.child_id)
            access_log_append(
                session,
                principal=actor,
                action="list",
                resource=RESOURCE,
                person_id=item.child_id,
                case_id=item.case_id,
            )
    return MeasureRows(rows=out, hidden=max(0, total - len(out)))


def _name(person: Person) -> str:
    return f"{person.first_name} {person.last_name}"


_STATUS_WORDS: Final = {
    DeadlineStatus.met.value: "Met in time",
    DeadlineStatus.missed.value: "Met late",
    DeadlineStatus.overdue.value: "Overdue",
}


def _deadline_rows(
    session: Session, *, actor: Principal, where: list[ColumnElement[bool]], today: date
) -> MeasureRows:
    status = deadline_status_expr(today)
    base = (
        select(Deadline.due_date, Deadline.met_date, status, Case.id, Person)
        .join(Case, Case.id == Deadline.case_id)
        .join(Person, Person.id == Case.child_id)
        .where(*where, status.in_(COUNTED))
    )
    total = int(
        session.scalar(
            select(func.count())
            .select_from(Deadline)
            .join(Case, Case.id == Deadline.case_id)
            .where(*where, status.in_(COUNTED))
        )
        or 0
    )

    def row(due: date, met: date | None, key: str, case_id: uuid.UUID, child: Person) -> MeasureRow:
        return MeasureRow(
            name=_name(child),
            child_id=child.id,
            case_id=case_id,
            when=due,
            detail=_STATUS_WORDS[key] + (f" on {met.day} {met:%B %Y}" if met else ""),
            counted=key == DeadlineStatus.met.value,
        )

    stmt = base.order_by(Deadline.due_date, Person.last_name, Person.first_name, Deadline.id)
    return _children(session, actor=actor, stmt=stmt, total=total, row=row)


def timeliness_rows(
    session: Session, *, actor: Principal, kind: DeadlineKind, month: date, team_id: uuid.UUID
) -> MeasureRows:
    """The deadlines of ``kind`` due in ``month`` on the team's cases that its timeliness counts
    (met, missed or overdue), each with its child; ``counted`` when met in time."""
    _team(session, team_id)
    end = add_months(month, 1)
    where = [
        Case.team_id == team_id,
        Deadline.kind == kind,
        Deadline.due_date >= month,
        Deadline.due_date < end,
    ]
    return _deadline_rows(session, actor=actor, where=where, today=clock.today())


def measure_rows(
    session: Session, *, actor: Principal, measure: str, month: date, team_id: uuid.UUID
) -> MeasureRows:
    """The rows behind one practice measure (``MEASURES``) of the team in ``month``, counted as
    :func:`app.practice.measures.practice_measures` counts them."""
    _team(session, team_id)
    today = clock.today()
    end = add_months(month, 1)
    if measure == "management_oversight":
        return timeliness_rows(
            session,
            actor=actor,
            kind=DeadlineKind.management_oversight,
            month=month,
            team_id=team_id,
        )
    if measure == "supervision":
        return _supervision_rows(session, month=month, end=end, team_id=team_id, today=today)
    if measure == "oversight_today":
        overdue = exists().where(
            Deadline.case_id == Case.id,
            Deadline.kind == DeadlineKind.management_oversight,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
            Deadline.due_date < today,
        )
        where = [Case.team_id == team_id, Case.state.not_in((CLOSED, CONTACT))]
        total = int(session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)

        def open_case(opened: date, late: bool, case_id: uuid.UUID, child: Person) -> MeasureRow:
            return MeasureRow(
                name=_name(child),
                child_id=child.id,
                case_id=case_id,
                when=opened,
                detail="Oversight overdue" if late else "Oversight not overdue",
                counted=not late,
            )

        stmt1 = (
            select(Case.opened_date, overdue, Case.id, Person)
            .join(Person, Person.id == Case.child_id)
            .where(*where)
            .order_by(Person.last_name, Person.first_name, Case.id)
        )
        return _children(session, actor=actor, stmt=stmt1, total=total, row=open_case)
    if measure == "audits_good_or_better":
        final = func.coalesce(CaseAudit.moderated_grade, CaseAudit.overall_grade)
        where = [
            CaseAudit.team_id == team_id,
            CaseAudit.submitted_at >= _london_midnight(month),
            CaseAudit.submitted_at < _london_midnight(end),
            final.is_not(None),
        ]
        total = int(session.scalar(select(func.count()).select_from(CaseAudit).where(*where)) or 0)

        def audited(submitted: Any, grade: Any, case_id: uuid.UUID, child: Person) -> MeasureRow:
            words = str(grade).replace("_", " ").capitalize()
            return MeasureRow(
                name=_name(child),
                child_id=child.id,
                case_id=case_id,
                when=submitted.date() if submitted is not None else None,
                detail=words,
                counted=str(grade) in {g.value for g in GOOD_OR_BETTER},
            )

        stmt2 = (
            select(CaseAudit.submitted_at, final, CaseAudit.case_id, Person)
            .join(Person, Person.id == CaseAudit.child_id)
            .where(*where)
            .order_by(CaseAudit.submitted_at, CaseAudit.id)
        )
        return _children(session, actor=actor, stmt=stmt2, total=total, row=audited)
    if measure == "actions_overdue":
        where = [
            Case.team_id == team_id,
            Deadline.kind == DeadlineKind.audit_action,
            Deadline.met_date.is_(None),
            Deadline.stopped_date.is_(None),
        ]
        total = int(
            session.scalar(
                select(func.count())
                .select_from(Deadline)
                .join(Case, Case.id == Deadline.case_id)
                .where(*where)
            )
            or 0
        )

        def action(due: date, case_id: uuid.UUID, child: Person) -> MeasureRow:
            late = due < today
            return MeasureRow(
                name=_name(child),
                child_id=child.id,
                case_id=case_id,
                when=due,
                detail="Overdue" if late else "Open, not yet due",
                counted=late,
            )

        stmt3 = (
            select(Deadline.due_date, Case.id, Person)
            .join(Case, Case.id == Deadline.case_id)
            .join(Person, Person.id == Case.child_id)
            .where(*where)
            .order_by(Deadline.due_date, Deadline.id)
        )
        return _children(session, actor=actor, stmt=stmt3, total=total, row=action)
    if measure == "actions_completed_late":
        where = [
            Case.team_id == team_id,
            Deadline.kind == DeadlineKind.audit_action,
            Deadline.met_date >= month,
            Deadline.met_date < end,
        ]
        total = int(
            session.scalar(
                select(func.count())
                .select_from(Deadline)
                .join(Case, Case.id == Deadline.case_id)
                .where(*where)
            )
            or 0
        )

        def done(due: date, met: date, case_id: uuid.UUID, child: Person) -> MeasureRow:
            late = met > due
            return MeasureRow(
                name=_name(child),
                child_id=child.id,
                case_id=case_id,
                when=due,
                detail=("Completed late" if late else "Completed in time")
                + f" on {met.day} {met:%B %Y}",
                counted=late,
            )

        stmt4 = (
            select(Deadline.due_date, Deadline.met_date, Case.id, Person)
            .join(Case, Case.id == Deadline.case_id)
            .join(Person, Person.id == Case.child_id)
            .where(*where)
            .order_by(Deadline.met_date, Deadline.id)
        )
        return _children(session, actor=actor, stmt=stmt4, total=total, row=done)
    raise NotFound("There is no such measure.")


def _supervision_rows(
    session: Session, *, month: date, end: date, team_id: uuid.UUID, today: date
) -> MeasureRows:
    """The team's current members' supervision deadlines due in the month (the measure's own
    membership test), each with the worker's name: no child is named."""
    status = deadline_status_expr(today)
    current = and_(
        TeamMembership.user_id == Deadline.subject_id,
        TeamMembership.team_id == team_id,
        TeamMembership.start_date <= today,
        or_(TeamMembership.end_date.is_(None), TeamMembership.end_date > today),
    )
    rows = session.execute(
        select(Deadline.id, Deadline.due_date, Deadline.met_date, status, UserAccount.display_name)
        .join(TeamMembership, current)
        .join(UserAccount, UserAccount.id == Deadline.subject_id)
        .where(
            Deadline.kind == DeadlineKind.supervision,
            Deadline.due_date >= month,
            Deadline.due_date < end,
            status.in_(COUNTED),
        )
        .distinct()
        .order_by(Deadline.due_date, UserAccount.display_name, Deadline.id)
    ).all()
    return MeasureRows(
        rows=[
            MeasureRow(
                name=name,
                child_id=None,
                case_id=None,
                when=due,
                detail=_STATUS_WORDS[key] + (f" on {met.day} {met:%B %Y}" if met else ""),
                counted=key == DeadlineStatus.met.value,
            )
            for _id, due, met, key, name in rows
        ]
    )


def worker_open_cases(session: Session, *, actor: Principal, worker_id: uuid.UUID) -> MeasureRows:
    """The open cases allocated to a worker, in any team (their caseload as
    :func:`app.org.service.team_caseloads` counts it), each with its child, by the child's
    name. Used for the caseload drill-down and for the cases discussed in supervision."""
    where = [Case.allocated_worker_id == worker_id, Case.state != CLOSED]
    total = int(session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)

    def held(opened: date, state: str, case_id: uuid.UUID, child: Person) -> MeasureRow:
        return MeasureRow(
            name=_name(child),
            child_id=child.id,
            case_id=case_id,
            when=opened,
            detail=state.replace("_", " ").capitalize(),
            counted=True,
        )

    stmt = (
        select(Case.opened_date, Case.state, Case.id, Person)
        .join(Person, Person.id == Case.child_id)
        .where(*where)
        .order_by(Person.last_name, Person.first_name, Case.id)
    )
    return _children(session, actor=actor, stmt=stmt, total=total, row=held)


__all__ = [
    "CASE_KINDS",
    "STATUTORY_KINDS",
    "KindTimeliness",
    "MeasureRow",
    "MeasureRows",
    "measure_rows",
    "statutory_timeliness",
    "timeliness_rows",
    "worker_open_cases",
]
