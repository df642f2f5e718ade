"""The plans of a looked-after child: care plan, placement plan, permanence plan and PEP.

Each plan is a series of dated versions: ``cla_plan`` is the plan (one per period of care and
kind, or one per placement for placement plans) and carries the row version that makes two
concurrent revisions unable to both win; ``cla_plan_version`` keeps every version ever recorded,
never changed, with its author and date. A new version supersedes the previous one (the plan
points at its current number); the history stays readable.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class PlanKind(StrEnum):
    """The plans of the Care Planning, Placement and Case Review (England) Regulations 2010."""

    care_plan = "care_plan"  # reg 4 and 5 (timescales rule 13)
    placement_plan = "placement_plan"  # reg 9 (timescales rule 14), one per placement
    permanence_plan = "permanence_plan"  # reg 5(a) and guidance vol 2 ch.2 (by the second review)
    pep = "pep"  # personal education plan, reg 5(b)(ii) (timescales rule 25)


class PermanenceOption(StrEnum):
    """The permanence options of the Children Act 1989 guidance and regulations, volume 2: care
    planning, placement and case review (DfE, revised 2021), paragraphs 2.3-2.5 (unchecked against
    the text: the guidance lists return to birth parents, family and friends (kinship) care,
    long-term foster care, special guardianship, child arrangements orders and adoption;
    residential care and supported/independent living are the plans for some older children)."""

    return_home = "return_home"  # return to parents or the wider family with support
    kinship_care = "kinship_care"  # living with family or friends (connected persons)
    long_term_fostering = "long_term_fostering"  # a foster placement intended to last until 18
    adoption = "adoption"
    special_guardianship = "special_guardianship"  # a special guardianship order (s.14A)
    child_arrangements_order = "child_arrangements_order"  # a CAO naming where the child lives
    residential = "residential"  # long-term residential care
    independent_living = "independent_living"  # supported or independent living towards 18


class CLAPlan(IdMixin, TimestampMixin, Base):
    """One plan of a looked-after child and its current version number.

    A care plan, permanence plan and PEP are one per period of care; a placement plan is one per
    placement (reg 9: a placement plan for each placement).
    """

    __tablename__ = "cla_plan"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'placement_plan') = (placement_id IS NOT NULL)",
            name="placement_iff_placement_plan",
        ),
        CheckConstraint("current_number >= 1", name="current_number_positive"),
        Index(
            "uq_cla_plan_one_per_period_and_kind",
            "period_id",
            "kind",
            unique=True,
            postgresql_where=text("kind <> 'placement_plan'"),
            sqlite_where=text("kind <> 'placement_plan'"),
        ),
        Index(
            "uq_cla_plan_one_per_placement",
            "placement_id",
            unique=True,
            postgresql_where=text("placement_id IS NOT NULL"),
            sqlite_where=text("placement_id IS NOT NULL"),
        ),
    )

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[PlanKind] = mapped_column(StrEnumType(PlanKind))
    placement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("placement.id"))
    current_number: Mapped[int] = mapped_column(default=1)
    current_plan_date: Mapped[date]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CLAPlanVersion(IdMixin, TimestampMixin, Base):
    """One dated version of a plan, as its author recorded it; never changed afterwards.

    The version numbered ``n`` is superseded by ``n + 1`` (the plan's ``current_number`` names the
    version in force).
    """

    __tablename__ = "cla_plan_version"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_cla_plan_version_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cla_plan.id"), index=True)
    number: Mapped[int]
    plan_date: Mapped[date]
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    summary: Mapped[str] = mapped_column(Text)
    # Permanence plans only: the option chosen (guidance vol 2, para 2.3-2.5).
    permanence_option: Mapped[PermanenceOption | None] = mapped_column(
        StrEnumType(PermanenceOption)
    )
    # PEPs only: the school or setting the plan was made with.
    school_name: Mapped[str | None] = mapped_column(Text)
