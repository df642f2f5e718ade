"""Schemas of the looked-after child's plans (care, placement, permanence, PEP) for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.careplans import PermanenceOption, PlanKind


class PlanVersionCreate(BaseModel):
    """A plan, or a new version of one that supersedes the current version."""

    model_config = ConfigDict(extra="forbid")

    plan_date: date | None = Field(default=None, description="The date of the plan; default today")
    summary: str = Field(min_length=1, max_length=20000, description="The plan, in words")
    permanence_option: PermanenceOption | None = Field(
        default=None, description="Permanence plans only (and required for them)"
    )
    school_name: str | None = Field(
        default=None, max_length=200, description="PEPs only: the school or setting"
    )


class PlacementPlanCreate(PlanVersionCreate):
    """A placement plan (reg 9) for one placement of the period: by default the current one."""

    placement_id: uuid.UUID | None = Field(
        default=None, description="The placement it is for; default the child's current placement"
    )


class PlanVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    plan_date: date
    author_id: uuid.UUID
    summary: str
    permanence_option: PermanenceOption | None
    school_name: str | None
    created_at: datetime
    superseded_by: int | None = Field(
        default=None, description="The number of the version that superseded this one, if any"
    )


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    kind: PlanKind
    placement_id: uuid.UUID | None
    current_number: int
    current_plan_date: date
    version: int = Field(description="The row version: send it in If-Match to add a version")
    current: PlanVersionRead | None = None
    history: list[PlanVersionRead] = Field(
        default_factory=list, description="Every version, newest first (the current one included)"
    )
