"""Schemas of the practice measures for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from app.models.audits import AuditGrade
from app.practice.measures import GradeDistribution, Measure, Measures, PracticeMeasures, Ratio


class TrendPointRead(BaseModel):
    month: str = Field(description="YYYY-MM")
    numerator: int
    denominator: int
    percent: float | None = Field(description="None when the denominator is 0")


class MeasureRead(BaseModel):
    """One measure: numerator over denominator, as a percentage, and the rule behind it."""

    key: str
    label: str
    rule_id: str | None = Field(description="The timescales rule (TS36-TS38), if one applies")
    source: str
    numerator_means: str
    denominator_means: str
    numerator: int
    denominator: int
    percent: float | None = Field(description="None when the denominator is 0")
    trend: list[TrendPointRead] = Field(
        description="The twelve months to the month asked for, oldest first (monthly measures; "
        "empty for figures counted today)"
    )


class GradeCountRead(BaseModel):
    grade: AuditGrade
    count: int
    percent: float | None


class GradeDistributionRead(BaseModel):
    """Final grades (the moderator's when moderated, else the auditor's) of submitted audits."""

    submitted: int
    grades: list[GradeCountRead]


class MeasuresRead(BaseModel):
    management_oversight: MeasureRead
    oversight_today: MeasureRead
    supervision: MeasureRead
    audits_good_or_better: MeasureRead
    audit_grades_month: GradeDistributionRead
    audit_grades_12_months: GradeDistributionRead
    actions_overdue: MeasureRead
    actions_completed_late: MeasureRead


class TeamMeasuresRead(BaseModel):
    team_id: uuid.UUID
    team_name: str
    measures: MeasuresRead


class PracticeMeasuresRead(BaseModel):
    month: str = Field(description="YYYY-MM")
    as_of: date = Field(description="The day point-in-time figures are counted on (today)")
    teams: list[TeamMeasuresRead]
    council: MeasuresRead


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def _point(month: date, ratio: Ratio) -> TrendPointRead:
    return TrendPointRead(
        month=_month(month),
        numerator=ratio.numerator,
        denominator=ratio.denominator,
        percent=ratio.percent,
    )


def _measure(measure: Measure) -> MeasureRead:
    d = measure.definition
    return MeasureRead(
        key=d.key,
        label=d.label,
        rule_id=d.rule_id,
        source=d.source,
        numerator_means=d.numerator,
        denominator_means=d.denominator,
        numerator=measure.ratio.numerator,
        denominator=measure.ratio.denominator,
        percent=measure.ratio.percent,
        trend=[_point(p.month, p.ratio) for p in measure.trend],
    )


def _grades(dist: GradeDistribution) -> GradeDistributionRead:
    return GradeDistributionRead(
        submitted=dist.submitted,
        grades=[
            GradeCountRead(grade=g, count=dist.counts[g], percent=dist.percent(g))
            for g in AuditGrade
        ],
    )


def measures_read(m: Measures) -> MeasuresRead:
    return MeasuresRead(
        management_oversight=_measure(m.management_oversight),
        oversight_today=_measure(m.oversight_today),
        supervision=_measure(m.supervision),
        audits_good_or_better=_measure(m.audits_good_or_better),
        audit_grades_month=_grades(m.grades_month),
        audit_grades_12_months=_grades(m.grades_12_months),
        actions_overdue=_measure(m.actions_overdue),
        actions_completed_late=_measure(m.actions_completed_late),
    )


def practice_measures_read(p: PracticeMeasures) -> PracticeMeasuresRead:
    return PracticeMeasuresRead(
        month=_month(p.month),
        as_of=p.as_of,
        teams=[
            TeamMeasuresRead(
                team_id=t.team_id, team_name=t.team_name, measures=measures_read(t.measures)
            )
            for t in p.teams
        ],
        council=measures_read(p.council),
    )
