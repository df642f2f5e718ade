"""Child protection: strategy discussions, section 47 enquiries, conferences, CP plans, core groups
and CP visits (Working Together to Safeguard Children 2018/2023, ch.1; CIN census Section47 and
ChildProtectionPlans).

``state`` columns are written only by ``app.workflow.engine`` (machines in
``app.protection.workflow``).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core_types import CategoryOfAbuse
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class DiscussionFormat(StrEnum):
    """A strategy discussion is a meeting or a series of calls (Working Together 2018, ch.1)."""

    meeting = "meeting"
    calls = "calls"


class Agency(StrEnum):
    """Who took part; social care, police and health must (Working Together 2018, ch.1 para 72)."""

    social_care = "social_care"
    police = "police"
    health = "health"
    education = "education"
    other = "other"


#: The agencies a strategy discussion needs to decide on a section 47 enquiry, and a conference
#: needs to be quorate.
REQUIRED_AGENCIES: tuple[Agency, ...] = (Agency.social_care, Agency.police, Agency.health)


class S47Outcome(StrEnum):
    """The section 47 enquiry's conclusion (CIN census ``ICPCnotRequired`` when no conference)."""

    icpc_required = "icpc_required"
    icpc_not_required = "icpc_not_required"


class S47NextStep(StrEnum):
    """What follows an enquiry that needs no conference: the assessment goes on, or a CIN plan."""

    assessment = "assessment"
    cin_plan = "cin_plan"


class ConferenceKind(StrEnum):
    initial = "initial"
    review = "review"


class ConferenceOutcome(StrEnum):
    """Initial: a CP plan, or not (a CIN plan, or no further action). Review: the plan continues
    or ends."""

    cp_plan = "cp_plan"
    cin_plan = "cin_plan"
    no_further_action = "no_further_action"
    continue_plan = "continue_plan"
    end_plan = "end_plan"


class StrategyDiscussion(IdMixin, TimestampMixin, Base):
    """A strategy discussion (a meeting or calls) and its decision on a section 47 enquiry."""

    __tablename__ = "strategy_discussion"
    __table_args__ = (
        CheckConstraint("held_date >= concern_date", name="held_after_concern"),
        CheckConstraint(
            "is_s47_decided OR decision_reason IS NOT NULL", name="no_s47_has_a_reason"
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    concern_date: Mapped[date]
    held_date: Mapped[date]
    format: Mapped[DiscussionFormat] = mapped_column(StrEnumType(DiscussionFormat, 20))
    concerns: Mapped[str] = mapped_column(Text)
    # True: the discussion decided to start a section 47 enquiry.
    is_s47_decided: Mapped[bool] = mapped_column(Boolean)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    participants: Mapped[list[StrategyParticipant]] = relationship(
        lazy="raise", order_by="StrategyParticipant.position"
    )

    __mapper_args__ = {"version_id_col": version}


class StrategyParticipant(IdMixin, Base):
    """One person who took part in a strategy discussion, and for which agency."""

    __tablename__ = "strategy_participant"

    strategy_discussion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("strategy_discussion.id"), index=True
    )
    position: Mapped[int]
    agency: Mapped[Agency] = mapped_column(StrEnumType(Agency, 20))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))


class S47Enquiry(IdMixin, TimestampMixin, Base):
    """A section 47 enquiry, started by a strategy discussion (CIN census ``Section47``)."""

    __tablename__ = "s47_enquiry"
    __table_args__ = (
        CheckConstraint(
            "(concluded_date IS NULL) = (outcome IS NULL)", name="concluded_with_outcome"
        ),
        CheckConstraint(
            "concluded_date IS NULL OR concluded_date >= start_date", name="concluded_after_start"
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    # One enquiry per strategy discussion: the discussion that started it sets its ICPC target.
    strategy_discussion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("strategy_discussion.id"), unique=True
    )
    state: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date]  # CIN S47ActualStartDate
    icpc_target_date: Mapped[date]  # CIN InitialCPCtarget (timescales rule 5)
    outcome: Mapped[S47Outcome | None] = mapped_column(StrEnumType(S47Outcome, 30))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[S47NextStep | None] = mapped_column(StrEnumType(S47NextStep, 20))
    concluded_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CPConference(IdMixin, TimestampMixin, Base):
    """A child protection conference: the initial one (after a s47 enquiry) or a plan's review."""

    __tablename__ = "cp_conference"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'initial' AND s47_enquiry_id IS NOT NULL) OR "
            "(kind = 'review' AND s47_enquiry_id IS NULL AND cp_plan_id IS NOT NULL)",
            name="initial_or_review",
        ),
        Index("ix_cp_conference_plan_date", "cp_plan_id", "conference_date"),
    )

    kind: Mapped[ConferenceKind] = mapped_column(StrEnumType(ConferenceKind, 20))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    # One initial conference per enquiry (CIN census rule 2884: recorded at s47 level once).
    s47_enquiry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("s47_enquiry.id"), unique=True
    )
    # A review's plan; for an initial conference, the plan it started (if any).
    cp_plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cp_plan.id"))
    conference_date: Mapped[date]
    chair: Mapped[str] = mapped_column(String(200))
    agencies_present: Mapped[list[Any]]
    is_quorate: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[ConferenceOutcome] = mapped_column(StrEnumType(ConferenceOutcome, 30))
    # The initial category (initial conference, plan) or the new latest category (review).
    category: Mapped[CategoryOfAbuse | None] = mapped_column(StrEnumType(CategoryOfAbuse, 3))
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CPPlan(IdMixin, TimestampMixin, Base):
    """A child protection plan (CIN census ``ChildProtectionPlans``)."""

    __tablename__ = "cp_plan"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("(end_date IS NULL) = (end_reason IS NULL)", name="end_date_and_reason"),
        # At most one open CP plan per child (CIN census rule 8935); the service says so first.
        Index(
            "uq_cp_plan_one_active_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("state <> 'ended'"),
            sqlite_where=text("state <> 'ended'"),
        ),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    # Starts on the day of the initial conference (CIN census rule 2885); no initial conference
    # for a plan imported from a legacy system.
    start_date: Mapped[date]
    initial_category: Mapped[CategoryOfAbuse] = mapped_column(StrEnumType(CategoryOfAbuse, 3))
    latest_category: Mapped[CategoryOfAbuse] = mapped_column(StrEnumType(CategoryOfAbuse, 3))
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CoreGroup(IdMixin, TimestampMixin, Base):
    """A core group meeting of a CP plan (timescales rules 6 and 10)."""

    __tablename__ = "core_group"

    cp_plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cp_plan.id"), index=True)
    meeting_date: Mapped[date]
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))


class CPVisit(IdMixin, TimestampMixin, Base):
    """A statutory visit to a child on a CP plan (timescales rule 9; Annex A list 7)."""

    __tablename__ = "cp_visit"
    __table_args__ = (
        CheckConstraint("child_seen OR NOT seen_alone", name="seen_alone_needs_seen"),
    )

    cp_plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cp_plan.id"), index=True)
    visit_date: Mapped[date]
    child_seen: Mapped[bool] = mapped_column(Boolean)
    seen_alone: Mapped[bool] = mapped_column(Boolean)
    visited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    visited_by_name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
