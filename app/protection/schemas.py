"""Child protection schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.core_types import CategoryOfAbuse, ReasonForClosure
from app.models.protection import (
    Agency,
    ConferenceKind,
    ConferenceOutcome,
    DiscussionFormat,
    S47NextStep,
    S47Outcome,
)


class PlanEndStep(StrEnum):
    """What follows a CP plan that a review conference ends: a CIN plan (step down), or closure."""

    cin_plan = "cin_plan"
    close = "close"


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: Agency
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)


class ParticipantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    agency: Agency
    name: str
    role: str | None


class StrategyDiscussionCreate(BaseModel):
    """A strategy discussion held about the case's child, and its decision on a s47 enquiry."""

    model_config = ConfigDict(extra="forbid")

    concern_date: date = Field(
        description="When the concern of significant harm arose (timescales rule 4 counts from it)"
    )
    held_date: date
    format: DiscussionFormat
    participants: list[ParticipantIn] = Field(min_length=1, max_length=50)
    concerns: str = Field(min_length=1, max_length=8000)
    start_s47: bool = Field(description="Whether the discussion decided to start a s47 enquiry")
    decision_reason: str | None = Field(
        default=None, max_length=8000, description="Required when no s47 enquiry is started"
    )


class StrategyDiscussionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    concern_date: date
    held_date: date
    format: DiscussionFormat
    concerns: str
    start_s47: bool = Field(validation_alias="is_s47_decided")
    decision_reason: str | None
    participants: list[ParticipantRead]
    version: int


class S47EnquiryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy_discussion_id: uuid.UUID
    start_date: date = Field(description="CIN census S47ActualStartDate; not before the discussion")


class S47Conclude(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: S47Outcome
    reason: str = Field(min_length=1, max_length=8000)
    concluded_date: date
    next_step: S47NextStep | None = Field(
        default=None,
        description="Only when no conference is needed: the assessment goes on, or a CIN plan",
    )


class S47EnquiryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    strategy_discussion_id: uuid.UUID
    state: str
    start_date: date
    icpc_target_date: date = Field(description="CIN census InitialCPCtarget (rule 5)")
    outcome: S47Outcome | None
    outcome_reason: str | None
    next_step: S47NextStep | None
    concluded_date: date | None
    version: int


class InitialConferenceCreate(BaseModel):
    """The initial child protection conference (never at a weekend: CIN census rule 8875)."""

    model_config = ConfigDict(extra="forbid")

    conference_date: date
    chair: str = Field(min_length=1, max_length=200)
    agencies_present: list[Agency] = Field(min_length=1)
    outcome: ConferenceOutcome = Field(description="cp_plan, cin_plan or no_further_action")
    initial_category: CategoryOfAbuse | None = Field(
        default=None, description="Required with a CP plan (NEG, PHY, SAB, EMO, MUL)"
    )
    notes: str | None = Field(default=None, max_length=8000)


class ReviewConferenceCreate(BaseModel):
    """A review conference of a CP plan: it continues (perhaps with a new category) or ends it."""

    model_config = ConfigDict(extra="forbid")

    conference_date: date
    chair: str = Field(min_length=1, max_length=200)
    agencies_present: list[Agency] = Field(min_length=1)
    outcome: ConferenceOutcome = Field(description="continue_plan or end_plan")
    latest_category: CategoryOfAbuse | None = Field(
        default=None, description="A new latest category of abuse, when it changes"
    )
    end_reason: str | None = Field(default=None, max_length=8000)
    next_step: PlanEndStep | None = Field(
        default=None,
        description="When the plan ends: cin_plan (step down) or close (with closure_reason; "
        "a team manager)",
    )
    closure_reason: ReasonForClosure | None = None
    notes: str | None = Field(default=None, max_length=8000)


class ConferenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ConferenceKind
    case_id: uuid.UUID
    child_id: uuid.UUID
    s47_enquiry_id: uuid.UUID | None
    cp_plan_id: uuid.UUID | None
    conference_date: date
    chair: str
    agencies_present: list[Agency]
    is_quorate: bool
    outcome: ConferenceOutcome
    category: CategoryOfAbuse | None
    notes: str | None
    version: int


class CoreGroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_date: date
    notes: str | None = Field(default=None, max_length=8000)


class CoreGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    cp_plan_id: uuid.UUID
    meeting_date: date
    notes: str | None


class CPVisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visit_date: date
    child_seen: bool
    seen_alone: bool = False
    visited_by_name: str | None = Field(default=None, max_length=200, description="Default: you")
    notes: str | None = Field(default=None, max_length=8000)


class CPVisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    cp_plan_id: uuid.UUID
    visit_date: date
    child_seen: bool
    seen_alone: bool
    visited_by_id: uuid.UUID | None
    visited_by_name: str
    notes: str | None


class CPPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    state: str
    start_date: date
    initial_category: CategoryOfAbuse
    latest_category: CategoryOfAbuse
    end_date: date | None
    end_reason: str | None
    version: int
    number_of_previous_cp_plans: int = Field(
        default=0, description="CIN census NumberOfPreviousCPP: this child's plans ended before"
    )
    core_groups: list[CoreGroupRead] = Field(default_factory=list)
    visits: list[CPVisitRead] = Field(default_factory=list)
    review_conferences: list[ConferenceRead] = Field(default_factory=list)


class ReviewConferenceResult(BaseModel):
    conference: ConferenceRead
    cp_plan: CPPlanRead


class CaseProtectionRead(BaseModel):
    """Everything protective on a case, oldest first."""

    strategy_discussions: list[StrategyDiscussionRead]
    s47_enquiries: list[S47EnquiryRead]
    conferences: list[ConferenceRead]
    cp_plans: list[CPPlanRead]
