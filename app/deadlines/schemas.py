"""Deadline schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.deadlines import DeadlineKind, DeadlineStatus


class DeadlineRead(BaseModel):
    """A deadline: which rule set it (and its source), when its clock started, when it is due,
    and where it stands today."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: DeadlineKind
    rule_id: str = Field(description="The rule's number in the timescales table, e.g. TS2")
    source: str = Field(description="The regulation, guidance or local policy behind the rule")
    subject_type: str
    subject_id: uuid.UUID
    case_id: uuid.UUID | None
    child_id: uuid.UUID | None
    start_date: date
    due_date: date
    due_at: datetime | None = Field(
        description="For deadlines counted in working hours, the exact instant (UTC)"
    )
    status: DeadlineStatus
    met_date: date | None
    stopped_date: date | None
