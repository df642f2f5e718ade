"""Children in care: periods of care, the legal-status history and the placement history.

The SSDA903 episodes are not stored: they are derived from these two histories
(:mod:`app.care.episodes`), so a worker never types an RNE or REC code and the episodes can never
disagree with the record.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.care.codes import (
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
    ReasonPlaceChange,
)
from app.core_types import PrimaryNeed
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class CareEntryRoute(StrEnum):
    """How the child came to be looked after (the period's first legal status says under what)."""

    assessment = "assessment"  # an assessment or plan concluded the child should be looked after
    emergency = "emergency"  # police protection or an emergency protection order
    section_20 = "section_20"  # accommodation agreed with those with parental responsibility
    court_order = "court_order"  # an interim care order or other order on application
    remand = "remand"  # remanded or detained (J1/J2)
    short_breaks = "short_breaks"  # an agreed series of short breaks (V3/V4)


class PeriodOfCare(IdMixin, TimestampMixin, Base):
    """One period of being looked after, from the day care started to the day it ceased.

    ``state`` (``looked_after`` / ``ceased``) is written only by the workflow engine.
    """

    __tablename__ = "period_of_care"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        # SSDA903 rule 148: a ceased date and its reason come together.
        CheckConstraint("(end_date IS NULL) = (reason_ceased IS NULL)", name="end_date_and_reason"),
        CheckConstraint("(state = 'ceased') = (end_date IS NOT NULL)", name="end_date_iff_ceased"),
        # One open period of care per child (periods never overlap: SSDA903 rule 142 and the
        # service's overlap check; this index makes two simultaneous starts unable to both win).
        Index(
            "uq_period_of_care_one_open_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("state = 'looked_after'"),
            sqlite_where=text("state = 'looked_after'"),
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    entry_route: Mapped[CareEntryRoute] = mapped_column(StrEnumType(CareEntryRoute))
    # SSDA903 CIN: the category of need at the start of the period (N1-N8).
    category_of_need: Mapped[PrimaryNeed] = mapped_column(StrEnumType(PrimaryNeed, 3))
    reason_ceased: Mapped[ReasonEpisodeCeased | None] = mapped_column(
        StrEnumType(ReasonEpisodeCeased, 4)
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class LegalStatusRecord(IdMixin, TimestampMixin, Base):
    """A legal status held from ``start_date`` until the next one starts or care ceases.

    The history of a period has no gaps and no overlaps: the service ends the previous status the
    day the next one starts.
    """

    __tablename__ = "legal_status"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        Index("ix_legal_status_period_start", "period_id", "start_date"),
    )

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    legal_status: Mapped[LegalStatus] = mapped_column(StrEnumType(LegalStatus, 3))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)


class Placement(IdMixin, TimestampMixin, Base):
    """Where the child lived, with whom and under which provider, from start to end."""

    __tablename__ = "placement"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        Index("ix_placement_period_start", "period_id", "start_date"),
        # One current placement per child.
        Index(
            "uq_placement_one_current_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("end_date IS NULL"),
            sqlite_where=text("end_date IS NULL"),
        ),
    )

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    placement_type: Mapped[PlacementType] = mapped_column(StrEnumType(PlacementType, 3))
    provider: Mapped[PlacementProvider | None] = mapped_column(StrEnumType(PlacementProvider, 3))
    # Ofsted unique reference number of a registered provision (SSDA903 URN).
    ofsted_urn: Mapped[str | None] = mapped_column(String(10))
    # The carer(s) or the home, in words; ``carer_key`` identifies the same carer(s) across
    # placements (a move to the same carers is RNE T/B, not P/U).
    carer_name: Mapped[str | None] = mapped_column(String(200))
    carer_key: Mapped[str | None] = mapped_column(String(80))
    home_postcode: Mapped[str | None] = mapped_column(String(8))
    placement_postcode: Mapped[str | None] = mapped_column(String(8))
    # The local authority the placement is in (3-digit DfE code); out of area when not ours.
    placement_la_code: Mapped[str | None] = mapped_column(String(3))
    distance_km: Mapped[float | None]
    # Regulation 28(2) and 28(3A): whether the placement is intended to last until the child is 18
    # (long-term) and whether a long-term foster child has agreed to 6-monthly visits.
    intended_until_18: Mapped[bool] = mapped_column(default=False)
    child_agrees_six_monthly_visits: Mapped[bool] = mapped_column(default=False)
    # Reg 19 (placed with parents before assessment) / reg 24 (temporary connected-person approval).
    placed_under_reg: Mapped[str | None] = mapped_column(String(10))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    end_reason: Mapped[ReasonPlaceChange | None] = mapped_column(StrEnumType(ReasonPlaceChange, 6))
    planned_ending: Mapped[bool | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
