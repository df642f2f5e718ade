"""Services and interventions provided for a child and family on a case (issue 6): what was
provided, by whom, and how it ended.

An intervention has no workflow state of its own: it is referred, then active from its start date,
then ended with an outcome, and that is read off its dates (a ``status`` property), so there is no
second copy of the truth to keep in step. The case's chronology records each step.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class InterventionKind(StrEnum):
    """What was provided (the service offers of the improvement plan)."""

    edge_of_care = "edge_of_care"  # intensive support to keep a teenager at home
    family_support = "family_support"  # family support / key worker
    parenting_programme = "parenting_programme"
    family_group_conference = "family_group_conference"
    domestic_abuse = "domestic_abuse"
    mental_health = "mental_health"
    substance_misuse = "substance_misuse"
    advocacy = "advocacy"
    independent_visitor = "independent_visitor"  # Children Act 1989 s.23ZB
    other = "other"


class ProviderKind(StrEnum):
    in_house = "in_house"  # the council's own service
    commissioned = "commissioned"  # a provider the council commissions


class InterventionOutcome(StrEnum):
    """How it ended."""

    goals_met = "goals_met"
    partly_met = "partly_met"
    not_met = "not_met"
    disengaged = "disengaged"  # the family stopped taking part
    declined = "declined"  # offered, never started
    ended_other = "ended_other"


class InterventionStatus(StrEnum):
    referred = "referred"
    active = "active"
    ended = "ended"


class Intervention(IdMixin, TimestampMixin, Base):
    __tablename__ = "intervention"
    __table_args__ = (
        CheckConstraint(
            "start_date IS NULL OR start_date >= referred_date", name="starts_after_referral"
        ),
        CheckConstraint(
            "end_date IS NULL OR end_date >= referred_date", name="ends_after_referral"
        ),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="ends_after_start",
        ),
        # An ended intervention says how it ended, and only an ended one does.
        CheckConstraint("(end_date IS NULL) = (outcome IS NULL)", name="outcome_iff_ended"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[InterventionKind] = mapped_column(StrEnumType(InterventionKind, 30))
    description: Mapped[str | None] = mapped_column(Text)
    provider_kind: Mapped[ProviderKind] = mapped_column(StrEnumType(ProviderKind, 20))
    provider_name: Mapped[str] = mapped_column(String(200))
    referred_date: Mapped[date]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    outcome: Mapped[InterventionOutcome | None] = mapped_column(
        StrEnumType(InterventionOutcome, 20)
    )
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    @property
    def status(self) -> InterventionStatus:
        if self.end_date is not None:
            return InterventionStatus.ended
        if self.start_date is not None:
            return InterventionStatus.active
        return InterventionStatus.referred
