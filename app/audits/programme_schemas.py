"""Schemas of audit programmes, findings and their export for the JSON API.

The thematic criteria are a small closed vocabulary (one Pydantic model per ``kind``, anything else
is a 422): what a QA lead asks for when a theme is being looked at, each with a documented meaning
in ``app.audits.programmes``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.audits import AuditGrade, ModerationOutcome, ProgrammeKind

#: The largest seed a programme stores (the column is a 32-bit integer).
MAX_SEED = 2**31 - 1
# Years 1900-2999: a month of year 0 would pass "four digits" and then break date() (a 500).
MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"

#: Case states a thematic sample may ask for (a contact is not yet a case file to audit).
CaseStateName = Literal[
    "referral",
    "assessment",
    "protection",
    "cin_plan",
    "cp_plan",
    "looked_after",
    "care_leaver",
    "closed",
]


class CPPlanLongerThan(BaseModel):
    """An active child protection plan that started more than ``months`` months before the end of
    the month audited (plans that drift: Working Together 2023 expects a plan reviewed, and most
    ended, well within a year or two)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["cp_plan_longer_than"]
    months: int = Field(ge=1, le=120)


class PlacementsAtLeast(BaseModel):
    """A child looked after at the end of the month who had at least ``count`` placements in the
    ``months`` months to that day (counted as the placement-stability measure counts them:
    temporary placements are not moves)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["placements_at_least"]
    count: int = Field(ge=1, le=50)
    months: int = Field(default=12, ge=1, le=120)


class CaseStateIn(BaseModel):
    """A case whose state now is one of ``states``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["case_state"]
    states: list[CaseStateName] = Field(min_length=1, max_length=8)


class ReReferral(BaseModel):
    """A case whose referral, dated in the month, was a re-referral (within 12 months of the
    child's previous referral: the DfE measure)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["re_referral"]


Criteria = Annotated[
    CPPlanLongerThan | PlacementsAtLeast | CaseStateIn | ReReferral,
    Field(discriminator="kind"),
]


def month_of(value: str) -> date:
    """The first day of a ``YYYY-MM`` month."""
    year, month = value.split("-")
    return date(int(year), int(month), 1)


class ProgrammeCreate(BaseModel):
    """A programme to draw: a random sample of ``sample_size`` cases per team for ``month``, or
    a thematic sample of the cases meeting ``criteria`` (at most ``sample_size``; all when it is
    absent). Without ``seed`` one is generated and stored; the same seed over the same records
    draws the same cases. With ``auditor_ids`` the audits are assigned round-robin, skipping an
    auditor who works on or manages a case."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: ProgrammeKind
    tool_id: uuid.UUID
    month: str = Field(pattern=MONTH_PATTERN, description="The month audited, YYYY-MM")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    sample_size: int | None = Field(default=None, ge=1, le=1000)
    team_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=200)
    criteria: Criteria | None = None
    auditor_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=100)

    @property
    def month_start(self) -> date:
        return month_of(self.month)


class DrawnCase(BaseModel):
    """A case drawn (named by its id only: the draw names no child)."""

    case_id: uuid.UUID
    team_id: uuid.UUID


class DrawTeam(BaseModel):
    """One team's part of the draw: how many of its cases were eligible and how many drawn."""

    team_id: uuid.UUID
    team_name: str
    area: str | None
    population: int
    drawn: int


class ProgrammePreview(BaseModel):
    """The cases a programme with these inputs would draw now (nothing is written). ``seed`` is the
    one used: pass it back to create the programme that draws exactly these cases."""

    kind: ProgrammeKind
    month: str
    seed: int
    sample_size: int | None
    population: int
    excluded_already_planned: int
    teams: list[DrawTeam]
    cases: list[DrawnCase]


class ProgrammeRedraw(BaseModel):
    """A programme's draw done again from its stored inputs (its own audits not counting as
    already planned), beside the cases it planned. ``reproduced`` is true when the two are the
    same cases; when the records have moved on since, the differences are listed."""

    programme_id: uuid.UUID
    seed: int
    reproduced: bool
    drawn: list[DrawnCase]
    planned_case_ids: list[uuid.UUID]
    drawn_not_planned: list[uuid.UUID]
    planned_not_drawn: list[uuid.UUID]


class ProgrammeAuditRead(BaseModel):
    """An audit of the programme: its state and grades (the case by id; no child named)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    team_id: uuid.UUID
    state: str
    auditor_id: uuid.UUID | None
    overall_grade: AuditGrade | None
    moderation_outcome: ModerationOutcome | None
    moderated_grade: AuditGrade | None
    final_grade: AuditGrade | None
    submitted_at: datetime | None
    version: int


class ProgrammeSummary(BaseModel):
    id: uuid.UUID
    name: str
    kind: ProgrammeKind
    tool_id: uuid.UUID
    month: str
    seed: int
    sample_size: int | None
    criteria: dict[str, Any] | None
    team_ids: list[uuid.UUID] | None
    created_by_id: uuid.UUID | None
    created_at: datetime
    version: int
    audit_count: int
    states: dict[str, int] = Field(description="How many of its audits are in each state")

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        return value.strftime("%Y-%m") if isinstance(value, date) else value


class ProgrammeRead(ProgrammeSummary):
    """The programme and its audits, oldest case id first within each team."""

    audits: list[ProgrammeAuditRead]
    unassigned: int = Field(description="Audits still planned (no auditor fitted)")


# --- findings ----------------------------------------------------------------------------------


class GradeCount(BaseModel):
    grade: AuditGrade
    count: int
    percent: float


class Distribution(BaseModel):
    """Audits by final grade, best first (percentages of ``total``, one decimal)."""

    key: str = Field(description="The team id, the area, or the month (YYYY-MM)")
    label: str
    total: int
    grades: list[GradeCount]


class TrendPoint(BaseModel):
    """One month: audits graded, % good or outstanding, % inadequate (null when none)."""

    month: str
    total: int
    percent_good_or_better: float | None
    percent_inadequate: float | None


class ThemeFinding(BaseModel):
    """Answers in one theme, by grade; ``percent_weak`` is the share graded requires improvement
    or inadequate. Themes are ranked weakest first."""

    theme: str
    answers: int
    grades: list[GradeCount]
    percent_weak: float


class ModerationStats(BaseModel):
    submitted: int
    moderated: int
    agreed: int
    adjusted: int
    percent_moderated: float | None
    percent_agreed: float | None


class FindingsRead(BaseModel):
    """Aggregated findings of audits submitted in [from, to] (whole months), by the final grade."""

    from_month: str
    to_month: str
    team_id: uuid.UUID | None
    area: str | None
    total: int
    overall: list[GradeCount]
    by_team: list[Distribution]
    by_area: list[Distribution]
    by_month: list[Distribution]
    trend: list[TrendPoint]
    themes: list[ThemeFinding]
    moderation: ModerationStats
