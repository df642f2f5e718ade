"""Statutory visits to a looked-after child (Care Planning, Placement and Case Review (England)
Regulations 2010, regs 28-29; timescales rules 18-22)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class StatutoryVisit(IdMixin, TimestampMixin, Base):
    """A visit by the council's representative to a looked-after child in a placement.

    A recorded visit is a fact, not a draft: it is never edited (a correction is a case note), so
    it has no version. The placement is the one the child was in on the visit date (the visit
    clock, reg 28(2), runs per placement).
    """

    __tablename__ = "statutory_visit"
    __table_args__ = (
        # Reg 29: the child is spoken to alone where possible; alone implies seen.
        CheckConstraint("child_seen OR NOT seen_alone", name="seen_alone_needs_seen"),
        Index("ix_statutory_visit_child_date", "child_id", "visit_date"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    placement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("placement.id"), index=True)
    visit_date: Mapped[date]
    # Who visited: the worker (a user, when they have an account) and their name as recorded.
    visited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    visited_by_name: Mapped[str] = mapped_column(String(200))
    child_seen: Mapped[bool] = mapped_column(Boolean)
    seen_alone: Mapped[bool] = mapped_column(Boolean)
    # None: not recorded (e.g. a visit away from the placement).
    bedroom_seen: Mapped[bool | None] = mapped_column(Boolean)
    is_unannounced: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
