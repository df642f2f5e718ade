"""Care leavers: the leaving-care status, the pathway needs assessment and plan, the personal
adviser and the dated contacts behind the SSDA903 OC3 table.

The eligibility category (eligible, relevant, former relevant, qualifying) is derived from the
periods of care (:mod:`app.leavingcare.eligibility`); ``leaving_care_status`` keeps the last
derivation so that lists and deadlines have one row per young person to hang on.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class CareLeaverCategory(StrEnum):
    """Children Act 1989 Sch 2 para 19B (eligible), s.23A (relevant), s.23C (former relevant),
    s.24 (qualifying); ``none`` when none applies."""

    eligible = "eligible"
    relevant = "relevant"
    former_relevant = "former_relevant"
    qualifying = "qualifying"
    none = "none"


class LeavingCareStatus(IdMixin, TimestampMixin, Base):
    """One row per young person who has ever been looked after at 16 or over: the last derived
    category and why, and the case the leaving-care work is recorded on."""

    __tablename__ = "leaving_care_status"

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    category: Mapped[CareLeaverCategory] = mapped_column(StrEnumType(CareLeaverCategory))
    reason: Mapped[str] = mapped_column(Text)
    # The day the young person first met the eligible-child test (CPPCR reg 40), if ever.
    eligible_since: Mapped[date | None]
    computed_on: Mapped[date]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PathwayNeedsAssessment(IdMixin, TimestampMixin, Base):
    """The assessment of needs the pathway plan is built on (Care Planning Regulations 2010 reg 42;
    timescales rule 26)."""

    __tablename__ = "pathway_needs_assessment"

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    completed_date: Mapped[date]
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class PathwayPlan(IdMixin, TimestampMixin, Base):
    """The young person's pathway plan (CPPCR reg 43; Care Leavers (England) Regulations 2010
    reg 6), one per young person, kept up to date and reviewed at least every 6 months (reg 7,
    timescales rule 27)."""

    __tablename__ = "pathway_plan"

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    plan_date: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    last_review_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PathwayPlanReview(IdMixin, TimestampMixin, Base):
    """A review of the pathway plan (Care Leavers (England) Regulations 2010 reg 7)."""

    __tablename__ = "pathway_plan_review"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pathway_plan.id"), index=True)
    review_date: Mapped[date]
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class PersonalAdviserAllocation(IdMixin, TimestampMixin, Base):
    """A personal adviser allocated to the young person from ``start_date`` until the next one
    (Children Act 1989 s.23B(2), s.23C(3)(a); CPPCR reg 44)."""

    __tablename__ = "personal_adviser_allocation"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        # One current personal adviser per young person.
        Index(
            "uq_personal_adviser_one_current_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("end_date IS NULL"),
            sqlite_where=text("end_date IS NULL"),
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    adviser_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(String(400))
    allocated_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class LeavingCareContact(IdMixin, TimestampMixin, Base):
    """A dated contact with a care leaver: in touch, activity and accommodation (SSDA903 OC3).
    All three are recorded together (validator rule 153)."""

    __tablename__ = "leaving_care_contact"
    __table_args__ = (Index("ix_leaving_care_contact_child_date", "child_id", "contact_date"),)

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    contact_date: Mapped[date]
    in_touch: Mapped[InTouch] = mapped_column(StrEnumType(InTouch, 4))
    activity: Mapped[Activity] = mapped_column(StrEnumType(Activity, 2))
    accommodation: Mapped[Accommodation] = mapped_column(StrEnumType(Accommodation, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
