"""The IRO service: allocations, looked-after children's reviews, monitoring contacts, disputes.

An Independent Reviewing Officer is appointed for every looked-after child (Children Act 1989
s.25A; timescales rule 28), chairs the child's reviews (Care Planning, Placement and Case Review
(England) Regulations 2010, regs 33-38; rules 15-17 and 29) and may take the child's plan through
the council's dispute resolution process up to a referral to Cafcass (IRO Handbook 2010 ch.5).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class ParticipationCode(StrEnum):
    """SSDA903 REVIEW_CODE: how the child took part in the review (validator rule 167)."""

    PN0 = "PN0"  # child aged under 4 at the time of the review (rules 440/441)
    PN1 = "PN1"  # attends and speaks for him or herself
    PN2 = "PN2"  # attends and an advocate speaks for him or her
    PN3 = "PN3"  # attends and conveys his or her view symbolically (non-verbally)
    PN4 = "PN4"  # attends but does not speak, convey a view or ask an advocate to
    PN5 = "PN5"  # does not attend but briefs an advocate to speak for him or her
    PN6 = "PN6"  # does not attend but conveys his or her feelings by a facilitative medium
    PN7 = "PN7"  # does not attend, nor are his or her views conveyed


class ReviewActionKind(StrEnum):
    decision = "decision"
    recommendation = "recommendation"


class IROContactKind(StrEnum):
    """The IRO's monitoring between reviews (IRO Handbook 2010 ch.3)."""

    visit_child = "visit_child"
    call_child = "call_child"
    call_social_worker = "call_social_worker"
    call_carer = "call_carer"
    file_review = "file_review"
    meeting = "meeting"
    other = "other"


class IROAllocation(IdMixin, TimestampMixin, Base):
    """An IRO appointed to a looked-after child from ``start_date`` to ``end_date`` (inclusive).

    A reallocation ends the current row the day before the next starts, so the history says who
    was the child's IRO on any day, who made each change and why.
    """

    __tablename__ = "iro_allocation"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("(end_date IS NULL) = (end_reason IS NULL)", name="end_date_and_reason"),
        # One current IRO per child (s.25A: "an" IRO); two simultaneous allocations cannot both win.
        Index(
            "uq_iro_allocation_one_current_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("end_date IS NULL"),
            sqlite_where=text("end_date IS NULL"),
        ),
        Index("ix_iro_allocation_iro_current", "iro_id", "end_date"),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    iro_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(Text)
    end_reason: Mapped[str | None] = mapped_column(Text)
    allocated_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    ended_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CLAReview(IdMixin, TimestampMixin, Base):
    """A looked-after child's review (reg 33), chaired by the child's IRO.

    ``sequence`` is the review's number in its period of care (1 = the first review, rule 15);
    ``due_date`` is the due date of the review deadline it met (rules 15-17), so whether it was
    held on time, and ``lateness_reason`` why not, stay with the review. ``state`` (held →
    decisions_circulated → record_completed, rule 29) is written only by the workflow engine.
    """

    __tablename__ = "cla_review"
    __table_args__ = (
        # Two reviews recorded at once for one period cannot both take the same number.
        UniqueConstraint("period_id", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint(
            "decisions_circulated_date IS NULL OR decisions_circulated_date >= review_date",
            name="circulated_after_review",
        ),
        CheckConstraint(
            "record_completed_date IS NULL OR record_completed_date >= review_date",
            name="record_after_review",
        ),
        CheckConstraint(
            "(state = 'held') = (decisions_circulated_date IS NULL)", name="circulated_iff_state"
        ),
        CheckConstraint(
            "(state = 'record_completed') = (record_completed_date IS NOT NULL)",
            name="record_iff_state",
        ),
    )

    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    sequence: Mapped[int]
    state: Mapped[str] = mapped_column(String(40))
    review_date: Mapped[date]
    due_date: Mapped[date | None]
    deadline_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deadline.id"))
    chair_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    participation: Mapped[ParticipationCode] = mapped_column(StrEnumType(ParticipationCode, 3))
    lateness_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    decisions_circulated_date: Mapped[date | None]
    record_completed_date: Mapped[date | None]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CLAReviewAction(IdMixin, TimestampMixin, Base):
    """A decision or recommendation of a review, with its owner and due date, tracked to
    completion (IRO Handbook 2010; timescales rule 29)."""

    __tablename__ = "cla_review_action"
    __table_args__ = (
        CheckConstraint(
            "completed_date IS NULL OR completed_by_id IS NOT NULL", name="completed_by_whom"
        ),
    )

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cla_review.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[ReviewActionKind] = mapped_column(StrEnumType(ReviewActionKind, 20))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date]
    completed_date: Mapped[date | None]
    completed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    completion_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class IROContact(IdMixin, TimestampMixin, Base):
    """The IRO's monitoring of the child's plan between reviews (IRO Handbook 2010 ch.3)."""

    __tablename__ = "iro_contact"

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"))
    iro_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    contact_date: Mapped[date]
    kind: Mapped[IROContactKind] = mapped_column(StrEnumType(IROContactKind, 30))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class IRODispute(IdMixin, TimestampMixin, Base):
    """An IRO's dispute about a child's plan (IRO Handbook 2010 ch.5): informal resolution, then
    escalation stages 1..N of the council's protocol, resolved at any point or referred to Cafcass
    after the last stage. ``state`` and ``stage`` are written only by the workflow engine."""

    __tablename__ = "iro_dispute"
    __table_args__ = (
        CheckConstraint("stage >= 0", name="stage_not_negative"),
        # Informal resolution is stage 0; an escalated dispute is at one of the stages 1..N.
        CheckConstraint("state <> 'informal' OR stage = 0", name="informal_at_stage_0"),
        CheckConstraint("state <> 'escalated' OR stage >= 1", name="escalated_at_a_stage"),
        CheckConstraint(
            "(state IN ('resolved', 'referred_to_cafcass')) = (closed_date IS NOT NULL)",
            name="closed_date_iff_closed",
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("period_of_care.id"))
    raised_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    raised_date: Mapped[date]
    concern: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(40))
    stage: Mapped[int] = mapped_column(default=0)
    stage_started_date: Mapped[date]
    last_response: Mapped[str | None] = mapped_column(Text)
    last_response_date: Mapped[date | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
