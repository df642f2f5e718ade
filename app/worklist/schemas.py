"""What the worklist API answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.models.deadlines import DeadlineKind, DeadlineStatus


class WorklistItem(BaseModel):
    """One open deadline: what is due, under which rule, for which child and case."""

    deadline_id: uuid.UUID
    kind: DeadlineKind
    rule_id: str = Field(description="The timescale rule (timescales.md numbering)")
    source: str = Field(description="Where the timescale comes from (statute, guidance, local)")
    rule: str | None = Field(description="The rule in words, when known")
    due_date: date
    due_at: datetime | None = Field(description="For deadlines counted in working hours")
    status: DeadlineStatus = Field(description="overdue or due")
    days_overdue: int | None = Field(description="Calendar days past the due date (overdue only)")
    working_days_left: int | None = Field(description="Working days until due (due only)")
    child_id: uuid.UUID
    child_name: str
    case_id: uuid.UUID
    case_state: str
    team_id: uuid.UUID
    worker_id: uuid.UUID | None


class UnallocatedCase(BaseModel):
    """An open case of the team with no worker, and its most pressing deadline."""

    case_id: uuid.UUID
    case_state: str
    opened_date: date
    child_id: uuid.UUID
    child_name: str
    oldest_due_date: date | None = Field(description="Its earliest open deadline, if any")
    overdue: bool


class Worklist(BaseModel):
    today: date
    due_by: date = Field(description="The last day counted as due soon (10 working days on)")
    team_id: uuid.UUID | None
    items: list[WorklistItem] = Field(description="Overdue first, then due soon, soonest first")
    unallocated: list[UnallocatedCase] = Field(
        default_factory=list, description="Team view only: open cases waiting for a worker"
    )
