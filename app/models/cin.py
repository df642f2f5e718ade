"""Child in need plans and their reviews."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class CINPlan(IdMixin, TimestampMixin, Base):
    """A child in need plan (CIN census CINPlanDates). ``state`` is written only by the engine."""

    __tablename__ = "cin_plan"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        # An ended plan has an end date, an active one has none.
        CheckConstraint("(state = 'ended') = (end_date IS NOT NULL)", name="end_date_iff_ended"),
        # At most one open CIN plan per child (CIN census rule 4004).
        Index(
            "uq_cin_plan_one_active_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("state = 'active'"),
            sqlite_where=text("state = 'active'"),
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    # Set by each review, so that two reviews recorded at once cannot both win (version bump).
    last_review_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CINPlanReview(IdMixin, TimestampMixin, Base):
    """A review of a CIN plan (timescales rule 11)."""

    __tablename__ = "cin_plan_review"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cin_plan.id"), index=True)
    review_date: Mapped[date]
    outcome: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
