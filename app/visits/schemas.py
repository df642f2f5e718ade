"""Statutory visit schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class StatutoryVisitCreate(BaseModel):
    """A visit to a looked-after child (Care Planning Regulations 2010, regs 28-29)."""

    model_config = ConfigDict(extra="forbid")

    visit_date: date | None = Field(default=None, description="Default today")
    child_seen: bool
    seen_alone: bool = Field(default=False, description="Reg 29: spoken to alone (needs seen)")
    bedroom_seen: bool | None = Field(default=None, description="None: not recorded")
    is_unannounced: bool = False
    visited_by_id: uuid.UUID | None = Field(
        default=None, description="The visiting worker's user id; default the caller"
    )
    visited_by_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The visitor's name (for a visitor without an account, or as recorded)",
    )
    notes: str | None = Field(default=None, max_length=20000)


class StatutoryVisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    period_id: uuid.UUID
    placement_id: uuid.UUID
    visit_date: date
    visited_by_id: uuid.UUID | None
    visited_by_name: str
    child_seen: bool
    seen_alone: bool
    bedroom_seen: bool | None
    is_unannounced: bool
    notes: str | None
    recorded_by_id: uuid.UUID
    created_at: datetime


class NextVisitDue(BaseModel):
    """The visit deadline running now and the rule (timescales 18-22) that set it."""

    model_config = ConfigDict(from_attributes=True)

    due_date: date
    rule_id: str
    source: str
    start_date: date = Field(description="The placement start or the last visit it runs from")


class StatutoryVisitList(BaseModel):
    """The child's visits, oldest first, and when the next one is due."""

    items: list[StatutoryVisitRead]
    next_due: NextVisitDue | None = Field(
        default=None, description="None when the child is not looked after"
    )
