"""What the chronology API answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


class Format(StrEnum):
    json = "json"
    text = "text"


class ChildChronologyEntry(BaseModel):
    """One significant event in the child's life as the service knows it."""

    case_id: uuid.UUID
    seq: int = Field(description="The event's place in its case's chain")
    occurred_at: datetime = Field(description="When it was recorded")
    action: str = Field(description="The event (the `type` filter)")
    label: str = Field(description="What happened, for a person")
    subject_type: str
    subject_id: uuid.UUID
    from_state: str | None
    to_state: str | None
    actor_id: uuid.UUID | None
    actor_name: str | None
    actor_role: str | None
    reason: str | None
    details: dict[str, Any] = Field(description="The event's recorded fields")
