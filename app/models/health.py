"""Health and wellbeing of looked-after children: the dated records the SSDA903 OC2 row is built
from (health assessments, dental checks, SDQs, substance misuse, convictions).

Every record belongs to the period of care it was recorded in; the OC2 row for a year is derived
from these rows by :func:`app.health.service.oc2_for_child`, never typed.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class HealthAssessmentKind(StrEnum):
    """Regulation 7 of the Care Planning Regulations 2010 (timescales rules 23 and 24)."""

    initial = "initial"  # the first in the period of care, before the first review
    review = "review"  # every 6 months under 5, every 12 months from 5


class SDQReason(StrEnum):
    """SSDA903 OC2 SDQ_REASON: why there is no SDQ score (validator rule 196)."""

    SDQ1 = "SDQ1"  # no form returned: child under 4 or over 17 at the date of the assessment
    SDQ2 = "SDQ2"  # carer(s) refused to complete and return the questionnaire
    SDQ3 = "SDQ3"  # not possible because of the severity of the child's disability
    SDQ4 = "SDQ4"  # other
    SDQ5 = "SDQ5"  # the child or young person refused to allow an SDQ to be completed


class _ChildRecord:
    """The columns every health record shares: whose record and in which period of care."""

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class HealthAssessment(_ChildRecord, IdMixin, TimestampMixin, Base):
    """A statutory health assessment (reg 7). It also answers the OC2 questions asked at it:
    immunisations up to date (IMMUNISATIONS) and, under 5, development checks up to date
    (HEALTH_CHECK, validator rules 545/546)."""

    __tablename__ = "health_assessment"

    kind: Mapped[HealthAssessmentKind] = mapped_column(StrEnumType(HealthAssessmentKind, 10))
    assessment_date: Mapped[date] = mapped_column(index=True)
    assessed_by: Mapped[str | None] = mapped_column(String(200))
    is_immunisations_up_to_date: Mapped[bool]
    is_development_checks_up_to_date: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(Text)


class DentalCheck(_ChildRecord, IdMixin, TimestampMixin, Base):
    """A check of the child's teeth by a dentist (OC2 TEETH_CHECK)."""

    __tablename__ = "dental_check"

    check_date: Mapped[date] = mapped_column(index=True)
    notes: Mapped[str | None] = mapped_column(Text)


class SDQRecord(_ChildRecord, IdMixin, TimestampMixin, Base):
    """The child's Strengths and Difficulties Questionnaire for one SSDA903 year (1 April to the
    31 March ``year_end``): a score 0-40 (validator rule 180), or the reason there is none (rule
    196), never both (rule 197a). One per child and year; corrections change it (versioned)."""

    __tablename__ = "sdq_record"
    __table_args__ = (
        UniqueConstraint("child_id", "year_end", name="uq_sdq_record_child_year"),
        CheckConstraint("(score IS NULL) <> (reason IS NULL)", name="score_or_reason"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 40)", name="score_range"),
    )

    year_end: Mapped[date]
    completed_date: Mapped[date]
    score: Mapped[int | None]
    reason: Mapped[SDQReason | None] = mapped_column(StrEnumType(SDQReason, 4))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class SubstanceMisuse(_ChildRecord, IdMixin, TimestampMixin, Base):
    """A substance misuse problem identified on ``identified_date`` (OC2 SUBSTANCE_MISUSE) and
    whether an intervention was received, or else offered and refused (validator rules 158, 159,
    192: offered is answered exactly when none was received)."""

    __tablename__ = "substance_misuse"
    __table_args__ = (
        CheckConstraint(
            "(is_intervention_received = true) = (is_intervention_offered IS NULL)",
            name="offered_iff_not_received",
        ),
    )

    identified_date: Mapped[date] = mapped_column(index=True)
    is_intervention_received: Mapped[bool]
    is_intervention_offered: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(Text)


class Conviction(_ChildRecord, IdMixin, TimestampMixin, Base):
    """A conviction, or a final warning or reprimand, of a child aged 10 or over (OC2 CONVICTED;
    validator rules 542/543: the age of criminal responsibility is 10)."""

    __tablename__ = "conviction"

    conviction_date: Mapped[date] = mapped_column(index=True)
    offence: Mapped[str | None] = mapped_column(Text)
