"""Schemas of services and interventions for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.interventions import (
    InterventionKind,
    InterventionOutcome,
    InterventionStatus,
    ProviderKind,
)


class InterventionCreate(BaseModel):
    """A referral of the child and family to a service (started at once when ``start_date`` is
    given)."""

    model_config = ConfigDict(extra="forbid")

    kind: InterventionKind
    description: str | None = Field(default=None, max_length=4000)
    provider_kind: ProviderKind
    provider_name: str = Field(min_length=1, max_length=200)
    referred_date: date | None = Field(default=None, description="Default today")
    start_date: date | None = None


class InterventionStart(BaseModel):
    """The day the service started working with the family (send the ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Default today")


class InterventionEnd(BaseModel):
    """How the intervention ended (send the ETag in If-Match). ``declined`` only for one that
    never started; any other outcome only for one that did."""

    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="Default today")
    outcome: InterventionOutcome
    outcome_notes: str | None = Field(default=None, max_length=20000)


class InterventionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    kind: InterventionKind
    description: str | None
    provider_kind: ProviderKind
    provider_name: str
    referred_date: date
    start_date: date | None
    end_date: date | None
    outcome: InterventionOutcome | None
    outcome_notes: str | None
    status: InterventionStatus
    recorded_by_id: uuid.UUID | None
    version: int
    created_at: datetime


class EdgeOfCareChildRead(BaseModel):
    """One child's edge-of-care support and whether they were at home after it ended (true),
    looked after (false), or not yet known (null: that day is still to come)."""

    model_config = ConfigDict(from_attributes=True)

    intervention_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    end_date: date
    outcome: InterventionOutcome
    at_home_3_months: bool | None
    at_home_6_months: bool | None
    at_home_12_months: bool | None


class EdgeOfCarePointRead(BaseModel):
    """At one point after the end: children whose situation is known, how many were at home, and
    that as a percentage of those known (null when none is known yet)."""

    months: int
    known: int
    at_home: int
    percent_at_home: float | None


class EdgeOfCareOutcomesRead(BaseModel):
    """The edge-of-care measure ("preventing family breakdown") for interventions that ended in
    [ended_from, ended_to]."""

    ended_from: date
    ended_to: date
    count: int
    points: list[EdgeOfCarePointRead]
    children: list[EdgeOfCareChildRead]
