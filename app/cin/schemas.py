"""CIN plan schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class CINPlanCreate(BaseModel):
    """Start a child in need plan on the case (the case moves to ``cin_plan``)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Default today")


class CINPlanReviewCreate(BaseModel):
    """A review of the plan (meets the review due; the next falls due 3 months later)."""

    model_config = ConfigDict(extra="forbid")

    review_date: date | None = Field(default=None, description="Default today")
    outcome: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=20000)


class CINPlanEnd(BaseModel):
    """End the plan (send its ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="Default today")
    reason: str = Field(min_length=1, max_length=4000)


class CINPlanReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    plan_id: uuid.UUID
    review_date: date
    outcome: str | None
    notes: str | None
    recorded_by_id: uuid.UUID
    created_at: datetime


class CINPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    state: str
    start_date: date
    end_date: date | None
    end_reason: str | None
    last_review_date: date | None
    version: int
    next_review_due: date | None = Field(
        default=None, description="When the next review is due (timescales rule 11)"
    )
    reviews: list[CINPlanReviewRead] = Field(default_factory=list)
