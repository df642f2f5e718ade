"""Findings of case file audits (issue 6, part 4): what the audits say about practice, by team, area
and month, with the trend and the themes that recur as weak; and the export for peer challenge
and inspection.

**Which audits.** Audits submitted (``submitted`` or ``moderated``) with ``submitted_at`` in the
period: from the first day of ``from`` to the last day of ``to`` (whole calendar months, UTC). An
audit belongs to the team that held its case when it was planned (``CaseAudit.team_id``) and that
team's area, and to the month it was submitted in.

**Which grade.** The final grade (``CaseAudit.final_grade``): the moderator's when the audit was
moderated and adjusted, else the auditor's.

**The measures.** Grade distributions (count, and percentage of the audits counted) overall, by
team, by area and by month; the trend: per month, the % graded good or outstanding and the %
inadequate (null in a month with no audit); the recurring themes: per theme of the tools'
questions, the answers by grade and the share graded requires improvement or inadequate, weakest
first; and moderation: how many of the audits were moderated and the % of those agreed.

The findings name no child (teams, areas, months and themes only) and take three queries whatever
the number of audits. The export lists one audit a row with its case id as the reference (never a
name); each case in it is written to the access log.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from app import clock
from app.audits.programme_schemas import (
    Distribution,
    FindingsRead,
    GradeCount,
    ModerationStats,
    ThemeFinding,
    TrendPoint,
)
from app.audits.workflow import MODERATED, SUBMITTED
from app.calendar import add_months
from app.errors import Invalid
from app.models.audit import AccessLog
from app.models.audits import (
    AuditAction,
    AuditGrade,
    AuditProgramme,
    AuditQuestion,
    AuditTool,
    CaseAudit,
    CaseAuditAnswer,
    ModerationOutcome,
)
from app.models.org import Team, UserAccount
from app.models.people import Person
from app.request_context import current_request_id
from app.security.access import person_visible
from app.security.principal import Principal

GRADES = tuple(AuditGrade)  # best first
GOOD_OR_BETTER = frozenset({AuditGrade.outstanding, AuditGrade.good})
WEAK = frozenset({AuditGrade.requires_improvement, AuditGrade.inadequate})
NO_AREA = "No area recorded"
EXPORT_RESOURCE = "audit_findings_export"


@dataclass(frozen=True)
class Period:
    """Whole calendar months [from_month, to_month]; ``months`` lists each month's first day."""

    from_month: date
    to_month: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.from_month, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(add_months(self.to_month, 1), time(), tzinfo=UTC)

    @property
    def months(self) -> list[date]:
        out, month = [], self.from_month
        while month <= self.to_month:
            out.append(month)
            month = add_months(month, 1)
        return out


def period_of(from_month: date, to_month: date) -> Period:
    if to_month < from_month:
        raise Invalid.field("to", "The period ends before it starts.")
    return Period(from_month, to_month)


def _month_key(day: date) -> str:
    return day.strftime("%Y-%m")


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _grades(counts: Counter[AuditGrade], total: int) -> list[GradeCount]:
    return [
        GradeCount(grade=g, count=counts[g], percent=_percent(counts[g], total) or 0.0)
        for g in GRADES
    ]


def _submitted_in(
    period: Period, *, team_id: uuid.UUID | None, area: str | None
) -> list[ColumnElement[bool]]:
    """Audits submitted in the period (``CaseAudit`` joined to its ``Team``)."""
    conditions = [
        CaseAudit.state.in_((SUBMITTED, MODERATED)),
        CaseAudit.submitted_at >= period.start,
        CaseAudit.submitted_at < period.end,
    ]
    if team_id is not None:
        conditions.append(CaseAudit.team_id == team_id)
    if area is not None:
        conditions.append(Team.area == area)
    return conditions


@dataclass
class _Bucket:
    label: str
    grades: Counter[AuditGrade] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.grades.values())

    def read(self, key: str) -> Distribution:
        return Distribution(
            key=key, label=self.label, total=self.total, grades=_grades(self.grades, self.total)
        )


def audit_findings(
    session: Session,
    *,
    actor: Principal,
    period: Period,
    team_id: uuid.UUID | None = None,
    area: str | None = None,
) -> FindingsRead:
    """The aggregated findings of the audits submitted in ``period`` (see the module's docstring),
    for one team or one area when asked."""
    conditions = _submitted_in(period, team_id=team_id, area=area)
    rows = session.execute(
        select(
            CaseAudit.team_id,
            Team.name,
            Team.area,
            CaseAudit.submitted_at,
            CaseAudit.overall_grade,
            CaseAudit.moderated_grade,
            CaseAudit.moderation_outcome,
        )
        .join(Team, Team.id == CaseAudit.team_id)
        .where(*conditions)
    )
    overall: Counter[AuditGrade] = Counter()
    teams: dict[uuid.UUID, _Bucket] = {}
    areas: dict[str, _Bucket] = {}
    months = {_month_key(m): _Bucket(label=m.strftime("%B %Y")) for m in period.months}
    submitted = moderated = agreed = adjusted = 0
    for team, team_name, team_area, submitted_at, grade, moderated_grade, outcome in rows:
        final = moderated_grade or grade
        submitted += 1
        if outcome is not None:
            moderated += 1
            agreed += outcome is ModerationOutcome.agreed
            adjusted += outcome is ModerationOutcome.adjusted
        if final is None:  # a submitted audit always has a grade; nothing to count otherwise
            continue
        assert submitted_at is not None
        overall[final] += 1
        teams.setdefault(team, _Bucket(label=team_name)).grades[final] += 1
        areas.setdefault(team_area or "", _Bucket(label=team_area or NO_AREA)).grades[final] += 1
        months[_month_key(submitted_at.astimezone(UTC).date())].grades[final] += 1
    total = sum(overall.values())
    return FindingsRead(
        from_month=_month_key(period.from_month),
        to_month=_month_key(period.to_month),
        team_id=team_id,
        area=area,
        total=total,
        overall=_grades(overall, total),
        by_team=[
            b.read(str(k)) for k, b in sorted(teams.items(), key=lambda kv: (kv[1].label, kv[0]))
        ],
        by_area=[b.read(k) for k, b in sorted(areas.items(), key=lambda kv: kv[1].label)],
        by_month=[b.read(k) for k, b in months.items()],
        trend=[
            TrendPoint(
                month=k,
                total=b.total,
                percent_good_or_better=_percent(sum(b.grades[g] for g in GOOD_OR_BETTER), b.total),
                percent_inadequate=_percent(b.grades[AuditGrade.inadequate], b.total),
            )
            for k, b in months.items()
        ],
        themes=_themes(session, conditions),
        moderation=ModerationStats(
            submitted=submitted,
            moderated=moderated,
            agreed=agreed,
            adjusted=adjusted,
            percent_moderated=_percent(moderated, submitted),
            percent_agreed=_percent(agreed, moderated),
        ),
    )


def _themes(session: Session, conditions: Sequence[ColumnElement[bool]]) -> list[ThemeFinding]:
    """Answers by theme and grade (grouped in SQL), weakest theme first."""
    audits = select(CaseAudit.id).join(Team, Team.id == CaseAudit.team_id).where(*conditions)
    counts: dict[str, Counter[AuditGrade]] = defaultdict(Counter)
    for theme, grade, count in session.execute(
        select(AuditQuestion.theme, CaseAuditAnswer.grade, func.count())
        .join(AuditQuestion, AuditQuestion.id == CaseAuditAnswer.question_id)
        .where(CaseAuditAnswer.audit_id.in_(audits))
        .group_by(AuditQuestion.theme, CaseAuditAnswer.grade)
    ):
        counts[theme][grade] += count
    findings = []
    for theme, grades in counts.items():
        answers = sum(grades.values())
        findings.append(
            ThemeFinding(
                theme=theme,
                answers=answers,
                grades=_grades(grades, answers),
                percent_weak=_percent(sum(grades[g] for g in WEAK), answers) or 0.0,
            )
        )
    return sorted(findings, key=lambda t: (-t.percent_weak, -t.answers, t.theme))


# --- the export ----------------------------------------------------------------------------------

EXPORT_LEADING = (
    "audit_id",
    "case_id",
    "programme",
    "programme_month",
    "team",
    "area",
    "tool",
    "auditor",
    "submitted_date",
    "auditor_grade",
    "moderated_grade",
    "final_grade",
    "moderation_outcome",
)
EXPORT_TRAILING = ("actions", "actions_overdue")


@dataclass
class Export:
    """The export's header and rows (cells as strings or ints; None for blank), and the findings
    for its summary sheet."""

    header: list[str]
    rows: list[list[str | int | None]]
    findings: FindingsRead


def _question_headers(questions: Iterable[tuple[AuditQuestion, str]]) -> dict[uuid.UUID, str]:
    """A column per question, headed by its code; a code two tools share is qualified by the
    tool's name so that each column means one question."""
    ordered = list(questions)
    seen = Counter(q.code for q, _tool in ordered)
    return {q.id: q.code if seen[q.code] == 1 else f"{q.code} ({tool})" for q, tool in ordered}


def audit_findings_export(session: Session, *, actor: Principal, period: Period) -> Export:
    """One row per audit submitted in the period that the caller may see (a restricted child's
    audit is left out for someone not named on the record), oldest first: the columns
    ``EXPORT_LEADING``, one per question code with its grade, then the number of actions and of
    actions overdue today. Four queries; each case exported is written to the access log."""
    conditions = _submitted_in(period, team_id=None, area=None)
    auditor = aliased(UserAccount)
    audits = list(
        session.execute(
            select(CaseAudit, Team, AuditTool, AuditProgramme, auditor.display_name)
            .join(Team, Team.id == CaseAudit.team_id)
            .join(AuditTool, AuditTool.id == CaseAudit.tool_id)
            .join(Person, Person.id == CaseAudit.child_id)
            .outerjoin(AuditProgramme, AuditProgramme.id == CaseAudit.programme_id)
            .outerjoin(auditor, auditor.id == CaseAudit.auditor_id)
            .where(*conditions, person_visible(actor))
            .order_by(CaseAudit.submitted_at, CaseAudit.id)
        )
    )
    audit_ids = [a.id for a, *_ in audits]
    tool_ids = {a.tool_id for a, *_ in audits}
    questions = (
        list(
            session.execute(
                select(AuditQuestion, AuditTool.name)
                .join(AuditTool, AuditTool.id == AuditQuestion.tool_id)
                .where(AuditQuestion.tool_id.in_(tool_ids))
                .order_by(AuditTool.name, AuditQuestion.position, AuditQuestion.code)
            )
        )
        if tool_ids
        else []
    )
    headers = _question_headers(questions)
    columns = list(dict.fromkeys(headers.values()))
    answers: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    actions: dict[uuid.UUID, tuple[int, int]] = {}
    if audit_ids:
        for audit_id, question_id, grade in session.execute(
            select(
                CaseAuditAnswer.audit_id, CaseAuditAnswer.question_id, CaseAuditAnswer.grade
            ).where(CaseAuditAnswer.audit_id.in_(audit_ids))
        ):
            answers[audit_id][headers[question_id]] = grade.value
        today = clock.today()
        overdue = case(
            (AuditAction.completed_date.is_(None) & (AuditAction.due_date < today), 1), else_=0
        )
        for audit_id, count, late in session.execute(
            select(AuditAction.audit_id, func.count(), func.sum(overdue))
            .where(AuditAction.audit_id.in_(audit_ids))
            .group_by(AuditAction.audit_id)
        ):
            actions[audit_id] = (count, int(late or 0))
    rows: list[list[str | int | None]] = []
    for audit, team, tool, programme, auditor_name in audits:
        final = audit.final_grade
        count, late = actions.get(audit.id, (0, 0))
        rows.append(
            [
                str(audit.id),
                str(audit.case_id),
                programme.name if programme is not None else None,
                _month_key(programme.month) if programme is not None else None,
                team.name,
                team.area,
                tool.name,
                auditor_name,
                audit.submitted_at.astimezone(UTC).date().isoformat()
                if audit.submitted_at is not None
                else None,
                audit.overall_grade.value if audit.overall_grade else None,
                audit.moderated_grade.value if audit.moderated_grade else None,
                final.value if final else None,
                audit.moderation_outcome.value if audit.moderation_outcome else None,
                *(answers[audit.id].get(c) for c in columns),
                count,
                late,
            ]
        )
    _log_export(session, actor=actor, audits=[a for a, *_ in audits])
    return Export(
        header=[*EXPORT_LEADING, *columns, *EXPORT_TRAILING],
        rows=rows,
        findings=audit_findings(session, actor=actor, period=period),
    )


def _log_export(session: Session, *, actor: Principal, audits: Sequence[CaseAudit]) -> None:
    """One access-log row per case exported (the rows ``access_log_append`` writes, flushed
    together: an export whose access records cannot be written fails with them)."""
    now, request_id = clock.now(), current_request_id()
    seen = {(a.child_id, a.case_id) for a in audits}
    session.add_all(
        AccessLog(
            occurred_at=now,
            user_id=actor.user_id,
            user_role=actor.role.value,
            person_id=child_id,
            case_id=case_id,
            action="export",
            resource=EXPORT_RESOURCE,
            request_id=request_id,
        )
        for child_id, case_id in sorted(seen)
    )
    session.flush()


def export_csv(export: Export) -> str:
    """The audits as CSV (UTF-8, a header row, blank cells for nothing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(export.header)
    writer.writerows([["" if cell is None else cell for cell in row] for row in export.rows])
    return out.getvalue()


def export_xlsx(export: Export) -> bytes:
    """The audits on an "Audits" sheet and the distributions on a "Summary" sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Audits"
    sheet.append(export.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in export.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    summary = book.create_sheet("Summary")
    findings = export.findings
    summary.append(["Case file audits", f"{findings.from_month} to {findings.to_month}"])
    summary.append(["Audits graded", findings.total])
    grade_header = ["", "total", *(f"{g.value} ({unit})" for g in GRADES for unit in ("n", "%"))]

    def section(title: str, distributions: Sequence[Distribution]) -> None:
        summary.append([])
        summary.append([title])
        summary[summary.max_row][0].font = Font(bold=True)
        summary.append(grade_header)
        for d in distributions:
            summary.append([d.label, d.total, *(v for g in d.grades for v in (g.count, g.percent))])

    section(
        "Overall",
        [Distribution(key="all", label="All", total=findings.total, grades=findings.overall)],
    )
    section("By team", findings.by_team)
    section("By area", findings.by_area)
    section("By month", findings.by_month)
    summary.append([])
    summary.append(["Trend"])
    summary.append(["month", "total", "% good or outstanding", "% inadequate"])
    for point in findings.trend:
        summary.append(
            [point.month, point.total, point.percent_good_or_better, point.percent_inadequate]
        )
    summary.append([])
    summary.append(["Recurring themes (weakest first)"])
    summary.append(["theme", "answers", "% requires improvement or inadequate"])
    for theme in findings.themes:
        summary.append([theme.theme, theme.answers, theme.percent_weak])
    summary.append([])
    m = findings.moderation
    summary.append(["Moderation", "submitted", "moderated", "agreed", "adjusted", "% agreed"])
    summary.append(["", m.submitted, m.moderated, m.agreed, m.adjusted, m.percent_agreed])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
