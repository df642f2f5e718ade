"""Case file audits (issue 6, part 4): the council's quality-assurance framework.

An **audit tool** is a set of questions grouped into themes; each question is graded Outstanding /
Good / Requires improvement / Inadequate (Ofsted's scale) with a comment. An **audit programme**
draws the cases to audit: a random sample per team for a month, or a thematic sample by criteria
(e.g. CP plans over 12 months), reproducible from its seed. A **case audit** is done by an auditor
who is neither the case's worker nor its manager, submitted (then fixed: moderation is the way to
change a grade), and moderated by a second auditor who agrees or adjusts the grade with reasons.
**Actions** arising have owners and deadlines (timescales rule 38) tracked to completion on the
case. Local QA framework (seed 3.2-3.3).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class AuditGrade(StrEnum):
    """Ofsted's four-point scale, best first."""

    outstanding = "outstanding"
    good = "good"
    requires_improvement = "requires_improvement"
    inadequate = "inadequate"


class ProgrammeKind(StrEnum):
    random = "random"  # a random sample per team per month
    thematic = "thematic"  # cases meeting criteria (e.g. CP plans over 12 months)


class ModerationOutcome(StrEnum):
    agreed = "agreed"
    adjusted = "adjusted"


class AuditTool(IdMixin, TimestampMixin, Base):
    """A set of questions in themes. Once an audit has used it, its questions are fixed (a changed
    tool is a new tool), so findings over time compare like with like."""

    __tablename__ = "audit_tool"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class AuditQuestion(IdMixin, Base):
    __tablename__ = "audit_question"
    __table_args__ = (UniqueConstraint("tool_id", "code"),)

    tool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_tool.id"), index=True)
    theme: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(20))  # e.g. "V1": short, stable, for exports
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int]


class AuditProgramme(IdMixin, TimestampMixin, Base):
    """Which cases are audited in a month, drawn reproducibly from ``seed``."""

    __tablename__ = "audit_programme"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProgrammeKind] = mapped_column(StrEnumType(ProgrammeKind, 20))
    tool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_tool.id"))
    # The first day of the month audited.
    month: Mapped[date]
    seed: Mapped[int]
    # Random: cases drawn per team. Thematic: at most this many in all (None: every match).
    sample_size: Mapped[int | None]
    # Thematic criteria (a small documented vocabulary, validated by the service), and the teams
    # covered (None: every team holding cases).
    criteria: Mapped[dict[str, Any] | None]
    team_ids: Mapped[list[Any] | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CaseAudit(IdMixin, TimestampMixin, Base):
    """One case file audit (the ``case_audit`` machine: planned → assigned → submitted →
    moderated; planned/assigned → cancelled). Its events are on the audited case's chronology."""

    __tablename__ = "case_audit"
    __table_args__ = (
        Index("ix_case_audit_team_submitted", "team_id", "submitted_at"),
        UniqueConstraint("programme_id", "case_id"),
        CheckConstraint(
            "moderator_id IS NULL OR auditor_id IS NULL OR moderator_id <> auditor_id",
            name="moderator_is_a_second_auditor",
        ),
    )

    programme_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("audit_programme.id"), index=True
    )
    tool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_tool.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    # The case's team when the audit was planned (findings are aggregated by it, and its area).
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"))
    state: Mapped[str] = mapped_column(String(40))
    auditor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    overall_grade: Mapped[AuditGrade | None] = mapped_column(StrEnumType(AuditGrade, 30))
    # The child's lived experience and voice, and the family's, as found on the file.
    child_voice: Mapped[str | None] = mapped_column(Text)
    family_voice: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    moderator_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    moderation_outcome: Mapped[ModerationOutcome | None] = mapped_column(
        StrEnumType(ModerationOutcome, 20)
    )
    moderated_grade: Mapped[AuditGrade | None] = mapped_column(StrEnumType(AuditGrade, 30))
    moderation_reason: Mapped[str | None] = mapped_column(Text)
    moderated_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def final_grade(self) -> AuditGrade | None:
        """The grade that counts: the moderator's when moderated, else the auditor's."""
        return self.moderated_grade or self.overall_grade


class CaseAuditAnswer(IdMixin, Base):
    __tablename__ = "case_audit_answer"
    __table_args__ = (UniqueConstraint("audit_id", "question_id"),)

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_audit.id"), index=True)
    question_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audit_question.id"))
    grade: Mapped[AuditGrade] = mapped_column(StrEnumType(AuditGrade, 30))
    comment: Mapped[str | None] = mapped_column(Text)


class AuditAction(IdMixin, TimestampMixin, Base):
    """An action arising from an audit, owned by a worker or manager, due by a date (rule 38), and
    completed on the case."""

    __tablename__ = "audit_action"
    __table_args__ = (
        CheckConstraint(
            "(completed_date IS NULL) OR (completed_date >= agreed_date)",
            name="completed_after_agreed",
        ),
    )

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_audit.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    agreed_date: Mapped[date]
    due_date: Mapped[date]
    completed_date: Mapped[date | None]
    completion_note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
