"""Deadlines: every statutory or local timescale the system tracks, with the rule that set it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin, UTCDateTime


class DeadlineKind(StrEnum):
    """The fixed vocabulary of deadline kinds (published as an enum in the OpenAPI document)."""

    contact_decision = "contact_decision"
    referral_decision = "referral_decision"
    assessment_authorised = "assessment_authorised"
    strategy_discussion = "strategy_discussion"
    icpc_held = "icpc_held"
    pre_birth_conference = "pre_birth_conference"
    core_group_first = "core_group_first"
    core_group = "core_group"
    rcpc_first = "rcpc_first"
    rcpc = "rcpc"
    cp_visit = "cp_visit"
    cin_review = "cin_review"
    # Children in care, care leavers, the IRO service and the courts (timescales rules 13-35).
    care_plan = "care_plan"
    placement_plan = "placement_plan"
    permanence_plan = "permanence_plan"
    cla_review_first = "cla_review_first"
    cla_review_second = "cla_review_second"
    cla_review = "cla_review"
    statutory_visit = "statutory_visit"
    health_assessment_initial = "health_assessment_initial"
    health_assessment_review = "health_assessment_review"
    pep = "pep"
    pep_review = "pep_review"
    pathway_needs_assessment = "pathway_needs_assessment"
    pathway_plan = "pathway_plan"
    pathway_plan_review = "pathway_plan_review"
    iro_allocation = "iro_allocation"
    review_decisions = "review_decisions"
    review_record = "review_record"
    recommendation = "recommendation"
    return_interview = "return_interview"
    iro_dispute_stage = "iro_dispute_stage"
    pre_proceedings_review = "pre_proceedings_review"
    care_proceedings_26_weeks = "care_proceedings_26_weeks"
    # Practice and quality (timescales rules 36-38, local).
    supervision = "supervision"
    management_oversight = "management_oversight"
    audit_action = "audit_action"


class DeadlineStatus(StrEnum):
    """met: done on time; missed: done late; overdue: not done and past due; due: open, not yet due;
    stopped: its case, plan or episode ended first (no longer counts)."""

    due = "due"
    overdue = "overdue"
    met = "met"
    missed = "missed"
    stopped = "stopped"


class Deadline(IdMixin, TimestampMixin, Base):
    __tablename__ = "deadline"
    __table_args__ = (
        CheckConstraint("due_date >= start_date", name="due_after_start"),
        Index("ix_deadline_open_due", "met_date", "stopped_date", "due_date"),
        Index("ix_deadline_subject", "subject_type", "subject_id", "kind"),
    )

    kind: Mapped[DeadlineKind] = mapped_column(StrEnumType(DeadlineKind))
    rule_id: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(300))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID]
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    start_date: Mapped[date]
    due_date: Mapped[date]
    # For deadlines counted in working hours (a red MASH contact: 4 working hours), the exact
    # instant.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    met_date: Mapped[date | None]
    stopped_date: Mapped[date | None]
