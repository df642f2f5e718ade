"""Schemas of supervision and management oversight for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.org import Role


class CaseDecisionIn(BaseModel):
    """A decision taken in supervision about one of the worker's cases (written onto the case file
    as management oversight)."""

    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID
    decision: str = Field(min_length=1, max_length=20000)
    review_by: date | None = Field(default=None, description="When the manager wants to look again")


class SupervisionCreate(BaseModel):
    """A supervision session, recorded by a manager of one of the worker's teams (or a service
    manager). ``supervisor_id`` defaults to the recorder."""

    model_config = ConfigDict(extra="forbid")

    worker_id: uuid.UUID
    supervisor_id: uuid.UUID | None = Field(default=None, description="Default: the recorder")
    held_on: date | None = Field(default=None, description="Default today")
    notes: str | None = Field(default=None, max_length=50000)
    wellbeing: str | None = Field(default=None, max_length=20000)
    case_decisions: list[CaseDecisionIn] = Field(default_factory=list, max_length=200)


class SupervisionUpdate(BaseModel):
    """Corrected notes (send the ETag in If-Match); a field left out is left as it is."""

    model_config = ConfigDict(extra="forbid")

    notes: str | None = Field(default=None, max_length=50000)
    wellbeing: str | None = Field(default=None, max_length=20000)


class OversightCreate(BaseModel):
    """A manager's direction on the case file, outside supervision."""

    model_config = ConfigDict(extra="forbid")

    decision: str = Field(min_length=1, max_length=20000)
    recorded_on: date | None = Field(default=None, description="Default today")
    review_by: date | None = None


class OversightRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    supervision_id: uuid.UUID | None
    recorded_on: date
    recorded_by_id: uuid.UUID
    decision: str
    review_by: date | None
    created_at: datetime


class SupervisionSummary(BaseModel):
    """A session in a list (its notes only on the session itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    worker_id: uuid.UUID
    worker_name: str
    supervisor_id: uuid.UUID
    supervisor_name: str
    held_on: date
    version: int


class SupervisionRead(SupervisionSummary):
    notes: str | None
    wellbeing: str | None
    recorded_by_id: uuid.UUID | None
    created_at: datetime
    case_decisions: list[OversightRead]


class WorkerDueRead(BaseModel):
    worker_id: uuid.UUID
    name: str
    role: Role
    last_supervision: date | None
    due_date: date
    days_overdue: int


class CaseOversightDueRead(BaseModel):
    case_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    allocated_worker_id: uuid.UUID | None
    allocated_worker_name: str | None
    last_oversight: date | None
    due_date: date
    days_overdue: int


class TeamPracticeDueRead(BaseModel):
    """A team's supervision and management oversight that is overdue, or due in the next 14
    days."""

    team_id: uuid.UUID
    team_name: str
    today: date
    workers_overdue: list[WorkerDueRead]
    workers_due_soon: list[WorkerDueRead]
    cases_overdue: list[CaseOversightDueRead]
    cases_due_soon: list[CaseOversightDueRead]


class MySupervisionDueRead(BaseModel):
    """The caller's own supervision: last held, next due (null when no clock runs)."""

    worker_id: uuid.UUID
    last_supervision: date | None
    due_date: date | None
    is_overdue: bool
    days_overdue: int
