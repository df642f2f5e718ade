"""Schemas of the IRO service's JSON API: allocations, reviews, contacts, disputes, dashboards."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.iro import IROContactKind, ParticipationCode, ReviewActionKind


class IROAllocationCreate(BaseModel):
    """Allocate (or change) the child's IRO. Without ``iro_id`` the IRO of a looked-after sibling
    is taken (siblings share an IRO by default); a change of IRO, or choosing another IRO than a
    sibling's, needs a reason."""

    model_config = ConfigDict(extra="forbid")

    iro_id: uuid.UUID | None = Field(default=None, description="Default: a sibling's IRO")
    start_date: date | None = Field(default=None, description="Default today")
    reason: str | None = Field(default=None, max_length=4000)


class IROAllocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    case_id: uuid.UUID
    period_id: uuid.UUID
    iro_id: uuid.UUID
    start_date: date
    end_date: date | None
    reason: str | None
    end_reason: str | None
    allocated_by_id: uuid.UUID
    ended_by_id: uuid.UUID | None
    version: int


class CaseloadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    iro_id: uuid.UUID
    display_name: str
    children: int = Field(description="Looked-after children allocated to this IRO now")


class ChildOverviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    child_id: uuid.UUID
    name: str
    iro_id: uuid.UUID
    period_id: uuid.UUID
    looked_after_since: date
    next_review_due: date | None
    next_review_kind: str | None
    last_review_date: date | None
    last_review_on_time: bool | None
    last_review_lateness_reason: str | None
    outstanding_recommendations: int
    overdue_recommendations: int
    open_disputes: int
    dispute_ids: list[uuid.UUID]


class ReviewActionIn(BaseModel):
    """A decision or recommendation of the review: what, who owns it, by when."""

    model_config = ConfigDict(extra="forbid")

    kind: ReviewActionKind = ReviewActionKind.recommendation
    text: str = Field(min_length=1, max_length=4000)
    owner_id: uuid.UUID
    due_date: date


class CLAReviewCreate(BaseModel):
    """A review held (reg 33). The chair defaults to the caller when the caller is an IRO."""

    model_config = ConfigDict(extra="forbid")

    review_date: date | None = Field(default=None, description="Default today")
    chair_id: uuid.UUID | None = Field(default=None, description="The child's IRO")
    participation: ParticipationCode = Field(description="SSDA903 REVIEW_CODE, PN0-PN7")
    lateness_reason: str | None = Field(
        default=None, max_length=4000, description="Required when the review is held late"
    )
    notes: str | None = Field(default=None, max_length=20000)
    actions: list[ReviewActionIn] = Field(default_factory=list, max_length=100)


class CLAReviewStep(BaseModel):
    """Decisions circulated, or record completed (send the review's ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    on_date: date | None = Field(default=None, description="Default today")


class CLAReviewActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    review_id: uuid.UUID
    kind: ReviewActionKind
    text: str
    owner_id: uuid.UUID
    due_date: date
    completed_date: date | None
    completed_by_id: uuid.UUID | None
    completion_note: str | None
    version: int


class CLAReviewActionComplete(BaseModel):
    """Mark a decision or recommendation done (send its version in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    completed_date: date | None = Field(default=None, description="Default today")
    note: str | None = Field(default=None, max_length=4000)


class CLAReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    sequence: int
    state: str
    review_date: date
    due_date: date | None
    on_time: bool | None = None
    chair_id: uuid.UUID
    participation: ParticipationCode
    lateness_reason: str | None
    notes: str | None
    decisions_circulated_date: date | None
    record_completed_date: date | None
    recorded_by_id: uuid.UUID
    version: int
    created_at: datetime
    actions: list[CLAReviewActionRead] = Field(default_factory=list)


class CLAReviewList(BaseModel):
    period_id: uuid.UUID
    next_review_due: date | None = Field(description="Rules 15-17 (None once care ceased)")
    next_review_kind: str | None
    reviews: list[CLAReviewRead]


class IROContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_date: date | None = Field(default=None, description="Default today")
    kind: IROContactKind
    notes: str | None = Field(default=None, max_length=20000)


class IROContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    period_id: uuid.UUID
    iro_id: uuid.UUID
    contact_date: date
    kind: IROContactKind
    notes: str | None
    recorded_by_id: uuid.UUID
    created_at: datetime


class IRODisputeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concern: str = Field(min_length=1, max_length=20000)
    raised_date: date | None = Field(default=None, description="Default today")


class IRODisputeTransition(BaseModel):
    """Take an event on the dispute: escalate, respond, resolve, refer_to_cafcass (send its ETag
    in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=80)
    reason: str | None = Field(default=None, max_length=4000)
    on_date: date | None = Field(default=None, description="Default today")
    response: str | None = Field(default=None, max_length=20000, description="For respond")


class IRODisputeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    case_id: uuid.UUID
    period_id: uuid.UUID
    raised_by_id: uuid.UUID
    raised_date: date
    concern: str
    state: str
    stage: int = Field(description="0 = informal resolution, then the protocol's stages 1..N")
    stage_started_date: date
    stage_response_due: date | None = None
    last_response: str | None
    last_response_date: date | None
    outcome: str | None
    closed_date: date | None
    version: int


class TallyRead(BaseModel):
    due: int
    on_time: int
    late: int
    overdue: int
    not_yet_due: int
    percent_on_time: float | None = Field(
        description="on_time / (on_time + late + overdue) x 100, one decimal place"
    )


class IROTallyRead(TallyRead):
    iro_id: uuid.UUID | None


class TeamTallyRead(TallyRead):
    team_id: uuid.UUID


class ReviewDueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    child_id: uuid.UUID
    child_name: str
    period_id: uuid.UUID
    kind: str
    due_date: date
    status: str = Field(description="on_time, late, overdue or not_yet_due")
    held_date: date | None
    review_id: uuid.UUID | None
    iro_id: uuid.UUID | None
    team_id: uuid.UUID
    lateness_reason: str | None


class TimelinessRead(BaseModel):
    """Reviews whose due date falls in [from, to]; see ``GET /iro/timeliness``."""

    from_date: date
    to_date: date
    overall: TallyRead
    by_iro: list[IROTallyRead]
    by_team: list[TeamTallyRead]
    reviews: list[ReviewDueRead]
