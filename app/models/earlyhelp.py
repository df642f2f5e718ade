"""Early help (issue 6, part 2): support below the threshold of social care, and the way back up.

An early-help episode is opened when a contact or an assessment steps down (the MASH decides
"early help"; an assessment ends with outcome early_help and the case closes RC9), or when a
social care case closes to early help. It has a lead professional (often not a council worker: a
school, a health visitor), a team around the family, an early help assessment, a plan and an
outcome. A **step-up** back to social care goes through the front door as a new contact, so the
referral that follows is counted by the same re-referral rule as any other
(``app.referrals.service.previous_referral``); the episode names the case it stepped up to.

Working Together to Safeguard Children 2023, ch. 2 (early help); the episode's events are written
on the chronology of the case it stepped down from (its ``origin_case_id``).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class EarlyHelpOrigin(StrEnum):
    """Where the episode came from."""

    contact = "contact"  # the MASH decided early help at the door
    assessment = "assessment"  # an assessment ended with early help (RC9)
    case_closure = "case_closure"  # a CIN/CP case closed to early help


class EarlyHelpOutcome(StrEnum):
    needs_met = "needs_met"
    stepped_up = "stepped_up"  # back to social care (a new contact)
    declined = "declined"  # consent withdrawn or never given (early help is voluntary)
    disengaged = "disengaged"
    moved_away = "moved_away"
    other = "other"


class EarlyHelpEpisode(IdMixin, TimestampMixin, Base):
    """One episode of early help for a child, from step-down to its end (states: open → assessed →
    plan → closed, or stepped_up; the ``early_help`` machine)."""

    __tablename__ = "early_help_episode"
    __table_args__ = (
        Index("ix_early_help_child_start", "child_id", "start_date"),
        CheckConstraint(
            "assessment_date IS NULL OR assessment_date >= start_date", name="assessed_after_start"
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("(end_date IS NULL) = (outcome IS NULL)", name="outcome_iff_ended"),
        CheckConstraint(
            "step_up_case_id IS NULL OR outcome = 'stepped_up'", name="step_up_names_outcome"
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    origin: Mapped[EarlyHelpOrigin] = mapped_column(StrEnumType(EarlyHelpOrigin, 20))
    # The social care case that stepped down (its chronology carries this episode's events).
    origin_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    # The early help team holding it (None: awaiting allocation by the early help hub).
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date]
    # The lead professional: a council worker (user) or someone in a partner agency (named).
    lead_professional_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id")
    )
    lead_professional_name: Mapped[str | None] = mapped_column(String(200))
    lead_professional_agency: Mapped[str | None] = mapped_column(String(200))
    # The early help assessment (Annex A list 2 counts these) and the plan it leads to.
    assessment_date: Mapped[date | None]
    assessment_summary: Mapped[str | None] = mapped_column(Text)
    plan_date: Mapped[date | None]
    plan_summary: Mapped[str | None] = mapped_column(Text)
    end_date: Mapped[date | None]
    outcome: Mapped[EarlyHelpOutcome | None] = mapped_column(StrEnumType(EarlyHelpOutcome, 20))
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    # A step-up: the case the new contact opened (its referral, when accepted, is the link the
    # re-referral figures follow).
    step_up_case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"), index=True)
    step_up_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class EarlyHelpMember(IdMixin, Base):
    """A member of the team around the family: who, from which agency, doing what, and when."""

    __tablename__ = "early_help_member"
    __table_args__ = (
        CheckConstraint("left_date IS NULL OR left_date >= joined_date", name="leaves_after_join"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("early_help_episode.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    joined_date: Mapped[date]
    left_date: Mapped[date | None]
