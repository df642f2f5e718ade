"""Practice measures for the scorecard (issue 6, part 5): is management oversight on each case, and
supervision of each worker, happening in time; how case file audits grade the teams' work; are the
actions arising from audits done by the date agreed.

Every figure is a count over rows the owning modules already keep — the deadlines they open under
timescales rules 36-38 (``app.deadlines.practice_rules``) and the audits' final grades — so there
is nothing here to keep in step. A deadline's status follows from its dates and today (met, missed,
overdue, due, stopped), exactly as worklists show it. The definitions (and why each counts what it
counts) are in ``MEASURES`` and in the readme of measures.

Each figure is a numerator over a denominator, with the percentage ``None`` when there is nothing
to count (never a division by zero). A month's figures come with the eleven months before it, so a
trend is always there. The queries group in the database: one per measure for every team and the
twelve months at once, however many teams the council has.

The figures name no child, so reading them writes nothing to the access log.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON, add_months
from app.cases.workflow import CLOSED, CONTACT
from app.deadlines.practice_rules import AUDIT_ACTION, MANAGEMENT_OVERSIGHT, SUPERVISION
from app.deadlines.service import deadline_status_expr
from app.errors import Invalid, NotFound
from app.models.audits import AuditGrade, CaseAudit
from app.models.cases import Case
from app.models.deadlines import Deadline, DeadlineKind, DeadlineStatus
from app.models.org import Team, TeamMembership

#: How many months a trend covers: the month asked for and the eleven before it.
TREND_MONTHS: Final = 12
#: Grades that count as "good or better" (Ofsted's scale, best first).
GOOD_OR_BETTER: Final = frozenset({AuditGrade.outstanding, AuditGrade.good})
QA_SOURCE: Final = "Local QA framework (seed 3.2-3.3)"


@dataclass(frozen=True)
class MeasureDefinition:
    """What a measure counts, and the rule behind it."""

    key: str
    label: str
    rule_id: str | None
    source: str
    numerator: str
    denominator: str


MEASURES: Final[dict[str, MeasureDefinition]] = {
    d.key: d
    for d in (
        MeasureDefinition(
            "management_oversight",
            "Management oversight in time",
            MANAGEMENT_OVERSIGHT.rule_id,
            MANAGEMENT_OVERSIGHT.source,
            "management oversight deadlines due in the month on the team's cases that were met "
            "on or before their due date",
            "those deadlines met, missed or overdue (ones still due, and ones stopped because "
            "the case closed, do not count)",
        ),
        MeasureDefinition(
            "oversight_today",
            "Open cases whose oversight is not overdue today",
            MANAGEMENT_OVERSIGHT.rule_id,
            MANAGEMENT_OVERSIGHT.source,
            "open cases of the team (past the contact stage) with no management oversight "
            "deadline overdue today",
            "open cases of the team past the contact stage today",
        ),
        MeasureDefinition(
            "supervision",
            "Supervision in time",
            SUPERVISION.rule_id,
            SUPERVISION.source,
            "supervision deadlines due in the month of the team's current members that were met "
            "on or before their due date",
            "those deadlines met, missed or overdue (ones still due, or stopped, do not count)",
        ),
        MeasureDefinition(
            "audits_good_or_better",
            "Case file audits graded good or better",
            None,
            QA_SOURCE,
            "audits of the team's cases submitted in the month whose final grade (the "
            "moderator's when moderated, else the auditor's) is outstanding or good",
            "audits of the team's cases submitted in the month",
        ),
        MeasureDefinition(
            "actions_overdue",
            "Audit actions overdue",
            AUDIT_ACTION.rule_id,
            AUDIT_ACTION.source,
            "open audit action deadlines on the team's cases past their due date today",
            "open audit action deadlines on the team's cases today",
        ),
        MeasureDefinition(
            "actions_completed_late",
            "Audit actions completed late",
            AUDIT_ACTION.rule_id,
            AUDIT_ACTION.source,
            "audit actions on the team's cases completed in the month after their due date",
            "audit actions on the team's cases completed in the month",
        ),
    )
}


# --- results -----------------------------------------------------------------------------------


@dataclass
class Ratio:
    numerator: int = 0
    denominator: int = 0

    @property
    def percent(self) -> float | None:
        """The numerator as a percentage of the denominator, one decimal; None when there is
        nothing to count."""
        if self.denominator == 0:
            return None
        return round(100 * self.numerator / self.denominator, 1)

    def add(self, other: Ratio) -> None:
        self.numerator += other.numerator
        self.denominator += other.denominator


@dataclass
class TrendPoint:
    month: date
    ratio: Ratio


@dataclass
class Measure:
    """One measure: its figure for the month (or today) and, for monthly ones, the trend."""

    definition: MeasureDefinition
    ratio: Ratio
    trend: list[TrendPoint] = field(default_factory=list)


@dataclass
class GradeDistribution:
    """Final grades of the audits submitted in a period, by grade."""

    counts: dict[AuditGrade, int] = field(default_factory=lambda: dict.fromkeys(AuditGrade, 0))

    @property
    def submitted(self) -> int:
        return sum(self.counts.values())

    def percent(self, grade: AuditGrade) -> float | None:
        return Ratio(self.counts[grade], self.submitted).percent


@dataclass
class Measures:
    """Every measure for one team (or the council)."""

    management_oversight: Measure
    oversight_today: Measure
    supervision: Measure
    audits_good_or_better: Measure
    grades_month: GradeDistribution
    grades_12_months: GradeDistribution
    actions_overdue: Measure
    actions_completed_late: Measure


@dataclass
class TeamMeasures:
    team_id: uuid.UUID
    team_name: str
    measures: Measures


@dataclass
class PracticeMeasures:
    month: date  # its first day
    as_of: date  # today: the day point-in-time figures are counted on
    teams: list[TeamMeasures]
    council: Measures


# --- months ------------------------------------------------------------------------------------


def month_parse(value: str | None) -> date:
    """``YYYY-MM`` as the first day of that month (this month when not given); 422 for another
    shape or a month still to come."""
    this_month = clock.today().replace(day=1)
    if value is None:
        return this_month
    try:
        year, month = (int(part) for part in value.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise Invalid.field("month", "Give the month as YYYY-MM, e.g. 2026-03.") from None
    if len(value) != 7:
        raise Invalid.field("month", "Give the month as YYYY-MM, e.g. 2026-03.")
    if first > this_month:
        raise Invalid.field("month", "This month has not started yet: there is nothing to count.")
    return first


def _month_bucket(column: Any, bounds: Sequence[Any]) -> ColumnElement[int]:
    """The index (0 = oldest) of the trend month ``column`` falls in, given the months' first
    days (or instants) and the end of the last: a CASE both databases run alike."""
    whens = [(column < bound, index) for index, bound in enumerate(bounds[1:-1])]
    return case(*whens, else_=len(bounds) - 2)


def _london_midnight(day: date) -> datetime:
    """The instant a London day begins (audits are submitted at instants; months are local)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


# --- queries -----------------------------------------------------------------------------------

# A deadline's (team, trend month, status) counts: {team: {month index: {status: n}}}.
Counts = dict[uuid.UUID | None, dict[int, dict[str, int]]]


def _count(rows: Sequence[Any]) -> Counts:
    out: Counts = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for team_id, bucket, key, n in rows:
        out[team_id][int(bucket)][str(key)] += int(n)
    return out


def _grouped(session: Session, inner: Select[*tuple[Any, ...]]) -> Counts:
    """Counts of ``inner``'s (team_id, bucket, key) rows. Grouping an outer query over the inner
    one's plain columns, not the CASE expressions themselves, keeps PostgreSQL from seeing the
    same expression twice with different bound parameters."""
    sub = inner.subquery()
    rows = session.execute(
        select(sub.c.team_id, sub.c.bucket, sub.c.key, func.count()).group_by(
            sub.c.team_id, sub.c.bucket, sub.c.key
        )
    ).all()
    return _count(rows)


def _deadline_window(
    kind: DeadlineKind, column: Any, start: date, end: date
) -> ColumnElement[bool]:
    return and_(Deadline.kind == kind, column >= start, column < end)


def _in_time(counts: dict[str, int]) -> Ratio:
    """Met on time over met, missed and overdue (due and stopped do not count)."""
    met = counts.get(DeadlineStatus.met.value, 0)
    missed = counts.get(DeadlineStatus.missed.value, 0)
    overdue = counts.get(DeadlineStatus.overdue.value, 0)
    return Ratio(met, met + missed + overdue)


def _late(counts: dict[str, int]) -> Ratio:
    late = counts.get("late", 0)
    return Ratio(late, late + counts.get("on_time", 0))


def _good(counts: dict[str, int]) -> Ratio:
    good = sum(counts.get(g.value, 0) for g in GOOD_OR_BETTER)
    return Ratio(good, sum(counts.values()))


def practice_measures(
    session: Session, *, month: date, team_id: uuid.UUID | None = None
) -> PracticeMeasures:
    """The practice measures of ``month`` (its first day) for each active team — or only
    ``team_id`` (404 if there is no such team) — and for the whole council, each with its trend
    over the twelve months to ``month``. Point-in-time figures (oversight not overdue, actions
    overdue) are counted today."""
    today = clock.today()
    teams_stmt = select(Team.id, Team.name).order_by(Team.name)
    if team_id is not None:
        teams = session.execute(teams_stmt.where(Team.id == team_id)).all()
        if not teams:
            raise NotFound("There is no team with this id.")
    else:
        teams = session.execute(teams_stmt.where(Team.is_active.is_(True))).all()

    starts = [add_months(month, offset) for offset in range(1 - TREND_MONTHS, 1)]
    end = add_months(month, 1)
    bounds = [*starts, end]
    first = starts[0]
    status = deadline_status_expr(today)

    # Management oversight (TS37) and supervision (TS36) due in each month, by status.
    oversight = _grouped(
        session,
        select(
            Case.team_id.label("team_id"),
            _month_bucket(Deadline.due_date, bounds).label("bucket"),
            status.label("key"),
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(_deadline_window(DeadlineKind.management_oversight, Deadline.due_date, first, end)),
    )
    current = and_(
        TeamMembership.user_id == Deadline.subject_id,
        TeamMembership.start_date <= today,
        or_(TeamMembership.end_date.is_(None), TeamMembership.end_date > today),
    )
    supervision_window = _deadline_window(DeadlineKind.supervision, Deadline.due_date, first, end)
    supervision = _grouped(
        session,
        select(
            TeamMembership.team_id.label("team_id"),
            _month_bucket(Deadline.due_date, bounds).label("bucket"),
            status.label("key"),
            Deadline.id,
        )
        .join(TeamMembership, current)
        .where(supervision_window)
        .distinct(),
    )
    # The council's supervision counts each deadline once (a worker may be in two teams, and a
    # head of service is a member of every team they manage).
    supervision_council = _grouped(
        session,
        select(
            literal(None).label("team_id"),
            _month_bucket(Deadline.due_date, bounds).label("bucket"),
            status.label("key"),
        ).where(supervision_window),
    )

    # Audit actions (TS38) completed in each month: late or on time.
    completed = _grouped(
        session,
        select(
            Case.team_id.label("team_id"),
            _month_bucket(Deadline.met_date, bounds).label("bucket"),
            case((Deadline.met_date > Deadline.due_date, "late"), else_="on_time").label("key"),
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(_deadline_window(DeadlineKind.audit_action, Deadline.met_date, first, end)),
    )

    # Final grades of the audits submitted in each month (months are London months).
    instants = [_london_midnight(day) for day in bounds]
    final_grade = func.coalesce(CaseAudit.moderated_grade, CaseAudit.overall_grade)
    grades = _grouped(
        session,
        select(
            CaseAudit.team_id.label("team_id"),
            _month_bucket(CaseAudit.submitted_at, instants).label("bucket"),
            final_grade.label("key"),
        ).where(
            CaseAudit.submitted_at >= instants[0],
            CaseAudit.submitted_at < instants[-1],
            final_grade.is_not(None),
        ),
    )

    # Today: open cases and whether their oversight is overdue; open audit actions and whether
    # they are past due.
    overdue_oversight = exists().where(
        Deadline.case_id == Case.id,
        Deadline.kind == DeadlineKind.management_oversight,
        Deadline.met_date.is_(None),
        Deadline.stopped_date.is_(None),
        Deadline.due_date < today,
    )
    open_cases = {
        team: Ratio(int(n) - int(overdue or 0), int(n))
        for team, n, overdue in session.execute(
            select(
                Case.team_id,
                func.count(),
                func.sum(case((overdue_oversight, 1), else_=0)),
            )
            # A case at the contact stage has no oversight clock yet (it starts at the referral).
            .where(Case.state.not_in((CLOSED, CONTACT)))
            .group_by(Case.team_id)
        ).all()
    }
    open_actions = {
        team: Ratio(int(overdue or 0), int(n))
        for team, n, overdue in session.execute(
            select(
                Case.team_id,
                func.count(),
                func.sum(case((Deadline.due_date < today, 1), else_=0)),
            )
            .join(Case, Case.id == Deadline.case_id)
            .where(
                Deadline.kind == DeadlineKind.audit_action,
                Deadline.met_date.is_(None),
                Deadline.stopped_date.is_(None),
            )
            .group_by(Case.team_id)
        ).all()
    }

    def measures(
        oversight_counts: dict[int, dict[str, int]],
        supervision_counts: dict[int, dict[str, int]],
        completed_counts: dict[int, dict[str, int]],
        grade_counts: dict[int, dict[str, int]],
        cases_today: Ratio,
        actions_today: Ratio,
    ) -> Measures:
        last = TREND_MONTHS - 1

        def monthly(key: str, counts: dict[int, dict[str, int]], ratio: Any) -> Measure:
            trend = [TrendPoint(starts[i], ratio(counts.get(i, {}))) for i in range(TREND_MONTHS)]
            return Measure(MEASURES[key], trend[last].ratio, trend)

        twelve = GradeDistribution()
        for by_grade in grade_counts.values():
            for grade, n in by_grade.items():
                twelve.counts[AuditGrade(grade)] += n
        in_month = GradeDistribution()
        for grade, n in grade_counts.get(last, {}).items():
            in_month.counts[AuditGrade(grade)] += n
        return Measures(
            management_oversight=monthly("management_oversight", oversight_counts, _in_time),
            oversight_today=Measure(MEASURES["oversight_today"], cases_today),
            supervision=monthly("supervision", supervision_counts, _in_time),
            audits_good_or_better=monthly("audits_good_or_better", grade_counts, _good),
            grades_month=in_month,
            grades_12_months=twelve,
            actions_overdue=Measure(MEASURES["actions_overdue"], actions_today),
            actions_completed_late=monthly("actions_completed_late", completed_counts, _late),
        )

    team_measures = [
        TeamMeasures(
            team_id=tid,
            team_name=name,
            measures=measures(
                oversight.get(tid, {}),
                supervision.get(tid, {}),
                completed.get(tid, {}),
                grades.get(tid, {}),
                open_cases.get(tid, Ratio()),
                open_actions.get(tid, Ratio()),
            ),
        )
        for tid, name in teams
    ]
    # The council: every case-based count belongs to exactly one team (the case's, or the audit's
    # team when planned), so the council's figure is the sum over all teams, active or not.
    cases_total, actions_total = Ratio(), Ratio()
    for ratio in open_cases.values():
        cases_total.add(ratio)
    for ratio in open_actions.values():
        actions_total.add(ratio)
    council = measures(
        _sum_teams(oversight),
        supervision_council.get(None, {}),
        _sum_teams(completed),
        _sum_teams(grades),
        cases_total,
        actions_total,
    )
    return PracticeMeasures(month=month, as_of=today, teams=team_measures, council=council)


def _sum_teams(counts: Counts) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for by_month in counts.values():
        for bucket, by_key in by_month.items():
            for key, n in by_key.items():
                out[bucket][key] += n
    return out


__all__ = [
    "MEASURES",
    "TREND_MONTHS",
    "GradeDistribution",
    "Measure",
    "MeasureDefinition",
    "Measures",
    "PracticeMeasures",
    "Ratio",
    "TeamMeasures",
    "TrendPoint",
    "month_parse",
    "practice_measures",
]
