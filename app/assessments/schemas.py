"""Assessment schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.cases.schemas import AllowedEvent
from app.models.assessments import AssessmentOutcome

TEXT_MAX = 100_000


class AssessmentCreate(BaseModel):
    """Start a child and family assessment on the case (you are its author)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Default today")
    summary_of_needs: str | None = Field(default=None, max_length=TEXT_MAX)
    analysis: str | None = Field(default=None, max_length=TEXT_MAX)
    child_views: str | None = Field(default=None, max_length=TEXT_MAX)
    factors: list[str] = Field(
        default_factory=list, description='DfE assessment factor codes, e.g. ["3A", "4B"]'
    )


class AssessmentUpdate(BaseModel):
    """Save the draft (send its ETag in If-Match): only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = None
    summary_of_needs: str | None = Field(default=None, max_length=TEXT_MAX)
    analysis: str | None = Field(default=None, max_length=TEXT_MAX)
    child_views: str | None = Field(default=None, max_length=TEXT_MAX)
    factors: list[str] | None = None


class ChildSeenCreate(BaseModel):
    """A date the child was seen for the assessment."""

    model_config = ConfigDict(extra="forbid")

    seen_date: date
    seen_alone: bool = False
    seen_by_id: uuid.UUID | None = Field(default=None, description="Default you")


class AssessmentReturn(BaseModel):
    """Return the submitted assessment to its author (send its ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    comments: str = Field(min_length=1, max_length=TEXT_MAX)


class AssessmentAuthorise(BaseModel):
    """Authorise the submitted assessment with comments and its outcome (If-Match)."""

    model_config = ConfigDict(extra="forbid")

    outcome: AssessmentOutcome
    comments: str = Field(min_length=1, max_length=TEXT_MAX)
    authorised_date: date | None = Field(default=None, description="Default today")


class ChildSeenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seen_date: date
    seen_alone: bool = Field(validation_alias="is_seen_alone")
    seen_by_id: uuid.UUID


class FactorRead(BaseModel):
    code: str
    label: str


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    author_id: uuid.UUID
    state: str
    start_date: date
    due_date: date | None = Field(description="Authorisation due (timescales rule 3)")
    summary_of_needs: str | None
    analysis: str | None
    child_views: str | None
    factors: list[FactorRead] = Field(default_factory=list)
    submitted_date: date | None
    authorised_date: date | None
    authorised_by_id: uuid.UUID | None
    outcome: AssessmentOutcome | None
    manager_comments: str | None
    version: int
    updated_at: datetime
    seen: list[ChildSeenRead] = Field(default_factory=list)
    allowed_events: list[AllowedEvent] = Field(
        default_factory=list, description="What you may do next (empty if you may not change it)"
    )
