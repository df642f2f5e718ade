"""Permanence: unaccompanied asylum-seeking status, adoption milestones, special guardianship and
child arrangements orders that end care, previous permanence, and motherhood.

Each table maps onto an SSDA903 table (UASC, PlacedAdoption and AD1, the REC codes E41/E45-E48,
PrevPerm, and the Header's MOTHER and MC_DOB) and keeps, as CHECK constraints, the invariants the
DfE validator states of a single row.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.care.codes import ReasonEpisodeCeased
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin
from app.permanence.codes import (
    AdopterLegalStatus,
    AdopterSex,
    PreviousPermanence,
    ReasonPlacedCeased,
)


class UascStatus(IdMixin, TimestampMixin, Base):
    """A child's status as an unaccompanied asylum-seeking child, and the date it ceased (SSDA903
    UASC.DUC), at the latest on the 18th birthday (validator rule 304)."""

    __tablename__ = "uasc_status"
    __table_args__ = (
        CheckConstraint("ceased_date IS NULL OR ceased_date >= since_date", name="ceased_after"),
        CheckConstraint(
            "(ceased_date IS NULL) = (ceased_reason IS NULL)", name="ceased_date_and_reason"
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), unique=True)
    since_date: Mapped[date]
    ceased_date: Mapped[date | None]
    ceased_reason: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class AdoptionDecision(IdMixin, TimestampMixin, Base):
    """A decision that the child should be placed for adoption and the milestones after it
    (SSDA903 PlacedAdoption and AD1). At most one decision per child is open (not reversed and
    no adoption order) at a time (validator rules 579, 583)."""

    __tablename__ = "adoption_decision"
    __table_args__ = (
        # Validator rule 119: a reversal has its date and its reason, or neither.
        CheckConstraint(
            "(reversed_date IS NULL) = (reversed_reason IS NULL)", name="reversed_date_and_reason"
        ),
        # Rule 522: a decision is reversed on or after the day it was made.
        CheckConstraint(
            "reversed_date IS NULL OR reversed_date >= decision_date", name="reversed_after"
        ),
        # Rules 525 and 558: an adopted child's decision was not reversed.
        CheckConstraint(
            "reversed_date IS NULL OR adoption_order_date IS NULL", name="reversed_or_adopted"
        ),
        # Rules 333, 331, 521/552, 554: decision ≤ match ≤ placed ≤ adoption order.
        CheckConstraint(
            "matched_date IS NULL OR matched_date >= decision_date", name="matched_after_decision"
        ),
        CheckConstraint(
            "placed_date IS NULL OR placed_date >= decision_date", name="placed_after_decision"
        ),
        CheckConstraint(
            "placed_date IS NULL OR matched_date IS NULL OR placed_date >= matched_date",
            name="placed_after_matched",
        ),
        CheckConstraint(
            "placement_order_date IS NULL OR placement_order_date >= decision_date",
            name="placement_order_after_decision",
        ),
        CheckConstraint(
            "adoption_order_date IS NULL OR (placed_date IS NOT NULL "
            "AND adoption_order_date >= placed_date)",
            name="adopted_after_placed",
        ),
        Index(
            "uq_adoption_decision_one_open_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("reversed_date IS NULL AND adoption_order_date IS NULL"),
            sqlite_where=text("reversed_date IS NULL AND adoption_order_date IS NULL"),
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    # SSDA903 PlacedAdoption.DATE_PLACED (= AD1.DATE_INT, rule 523).
    decision_date: Mapped[date]
    placement_order_date: Mapped[date | None]
    # AD1.DATE_MATCH.
    matched_date: Mapped[date | None]
    placed_date: Mapped[date | None]
    adoption_order_date: Mapped[date | None]
    # PlacedAdoption.DATE_PLACED_CEASED and REASON_PLACED_CEASED.
    reversed_date: Mapped[date | None]
    reversed_reason: Mapped[ReasonPlacedCeased | None] = mapped_column(
        StrEnumType(ReasonPlacedCeased, 3)
    )
    # AD1: FOSTER_CARE (adopted by the current foster carers), NB_ADOPTR, SEX_ADOPTR, LS_ADOPTR.
    adopted_by_foster_carers: Mapped[bool | None]
    number_of_adopters: Mapped[int | None]
    adopters_sex: Mapped[AdopterSex | None] = mapped_column(StrEnumType(AdopterSex, 2))
    adopters_legal_status: Mapped[AdopterLegalStatus | None] = mapped_column(
        StrEnumType(AdopterLegalStatus, 3)
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PermanenceOrderKind(StrEnum):
    special_guardianship = "special_guardianship"
    child_arrangements = "child_arrangements"


class OrderCarer(StrEnum):
    """To whom the order was made (the distinction SSDA903 REC E45-E48 draws)."""

    relative_or_friend = "relative_or_friend"
    other = "other"


class PermanenceOrder(IdMixin, TimestampMixin, Base):
    """A special guardianship or child arrangements order that ended (or is to end) a period of
    care, with the SSDA903 reason for ceasing it implies (E41, E45-E48)."""

    __tablename__ = "permanence_order"

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), unique=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[PermanenceOrderKind] = mapped_column(StrEnumType(PermanenceOrderKind))
    order_date: Mapped[date]
    carer: Mapped[OrderCarer] = mapped_column(StrEnumType(OrderCarer))
    carer_is_former_foster_carer: Mapped[bool]
    carer_name: Mapped[str | None] = mapped_column(String(200))
    reason_ceased: Mapped[ReasonEpisodeCeased] = mapped_column(StrEnumType(ReasonEpisodeCeased, 4))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PreviousPermanenceRecord(IdMixin, TimestampMixin, Base):
    """Whether a child starting a period of care had left care before for a permanence option
    (SSDA903 PrevPerm: PREV_PERM, LA_PERM, DATE_PERM); one per period of care (rule 630)."""

    __tablename__ = "previous_permanence"
    __table_args__ = (
        # Rule 630 and 635: the LA and date come with P1-P4 and not with Z1.
        CheckConstraint(
            "(prev_perm = 'Z1') = (la_perm IS NULL AND date_perm IS NULL)",
            name="la_and_date_with_option",
        ),
    )

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), unique=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    prev_perm: Mapped[PreviousPermanence] = mapped_column(StrEnumType(PreviousPermanence, 2))
    la_perm: Mapped[str | None] = mapped_column(String(3))
    # DD/MM/YYYY as the return carries it; ZZ for a day or month not known (rule 632).
    date_perm: Mapped[str | None] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Motherhood(IdMixin, TimestampMixin, Base):
    """Whether a looked-after young woman is a mother and the date of birth of her first child
    (SSDA903 Header MOTHER, MC_DOB)."""

    __tablename__ = "motherhood"
    __table_args__ = (
        # Rules 611 and 612: a mother has her child's date of birth, and only a mother has one.
        CheckConstraint(
            "is_mother = (first_child_birth_date IS NOT NULL)", name="birth_date_iff_mother"
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), unique=True)
    is_mother: Mapped[bool]
    first_child_birth_date: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
