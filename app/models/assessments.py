"""The child and family assessment: its text, the dates the child was seen, its authorisation."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class AssessmentOutcome(StrEnum):
    """What the authorising manager decides the assessment leads to (issue 3, step 3)."""

    no_further_action = "no_further_action"  # the case closes, RC8
    early_help = "early_help"  # step down: the case closes, RC9
    cin_plan = "cin_plan"
    strategy_discussion = "strategy_discussion"
    looked_after = "looked_after"


class Assessment(IdMixin, TimestampMixin, Base):
    """A child and family assessment. ``state`` is written only by ``app.workflow.engine``."""

    __tablename__ = "assessment"
    __table_args__ = (
        # Authoriser is never the author (issue 3: "authoriser ≠ author"); the service says so
        # with a 403, this makes it impossible to store.
        CheckConstraint(
            "authorised_by_id IS NULL OR authorised_by_id <> author_id",
            name="authoriser_not_author",
        ),
        CheckConstraint(
            "authorised_date IS NULL OR (submitted_date IS NOT NULL "
            "AND authorised_date >= submitted_date)",
            name="authorised_after_submitted",
        ),
        CheckConstraint(
            "submitted_date IS NULL OR submitted_date >= start_date", name="submitted_after_start"
        ),
        # One assessment not yet authorised per case (CIN census rule 8896: one open assessment
        # per episode). The service answers 409; this stops two concurrent starts.
        Index(
            "uq_assessment_one_open_per_case",
            "case_id",
            unique=True,
            postgresql_where=text("state <> 'authorised'"),
            sqlite_where=text("state <> 'authorised'"),
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date]
    # The case's assessment_authorised deadline (timescales rule 3), copied for display.
    due_date: Mapped[date | None]
    summary_of_needs: Mapped[str | None] = mapped_column(Text)
    analysis: Mapped[str | None] = mapped_column(Text)
    child_views: Mapped[str | None] = mapped_column(Text)
    # DfE assessment factor codes (CIN census AssessmentFactors), e.g. ["3A", "4B"].
    factors: Mapped[list[Any]] = mapped_column(default=list)
    submitted_date: Mapped[date | None]
    authorised_date: Mapped[date | None]
    authorised_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[AssessmentOutcome | None] = mapped_column(StrEnumType(AssessmentOutcome))
    # The latest comments of the manager (returned or authorised); each one is also in the
    # chronology as the reason of its event.
    manager_comments: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class AssessmentChildSeen(IdMixin, TimestampMixin, Base):
    """A date the child was seen during the assessment (and whether alone)."""

    __tablename__ = "assessment_child_seen"

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment.id"), index=True)
    seen_date: Mapped[date]
    is_seen_alone: Mapped[bool] = mapped_column(default=False)
    seen_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
