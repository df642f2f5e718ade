"""Case schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.cases.codes import SWReason
from app.core_types import ReasonForClosure


class Rag(StrEnum):
    """The front door's rating of a contact; sets the decision deadline (timescales rule 1)."""

    red = "red"
    amber = "amber"
    green = "green"


class CaseCreate(BaseModel):
    """A contact about a child arrives: the case opens in ``contact``."""

    model_config = ConfigDict(extra="forbid")

    child_id: uuid.UUID
    team_id: uuid.UUID = Field(description="The team that holds the case (usually the MASH)")
    opened_date: date | None = Field(
        default=None, description="The date the contact was received; default today"
    )
    rag: Rag = Rag.amber
    worker_id: uuid.UUID | None = Field(
        default=None, description="A current member of the team to allocate it to"
    )
    summary: str | None = Field(default=None, max_length=4000)


class AllowedEvent(BaseModel):
    """An event the caller may take from the case's current state (a button the UI may show)."""

    event: str
    target: str
    description: str
    requires_reason: bool
    required_fields: list[str]
    optional_fields: list[str]


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    state: str
    opened_date: date
    closed_date: date | None
    closure_reason: ReasonForClosure | None
    team_id: uuid.UUID
    allocated_worker_id: uuid.UUID | None
    summary: str | None
    version: int
    allowed_events: list[AllowedEvent] = Field(
        default_factory=list, description="What you may do next (empty if you may not change it)"
    )


class CaseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    state: str
    opened_date: date
    closed_date: date | None
    team_id: uuid.UUID
    allocated_worker_id: uuid.UUID | None
    version: int


class TransitionRequest(BaseModel):
    """Take ``event`` on the case (send its ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=80)
    reason: str | None = Field(default=None, max_length=4000)
    data: dict[str, Any] | None = Field(
        default=None, description="The fields the event asks for, e.g. closure_reason"
    )


class AllocationRequest(BaseModel):
    """Allocate (or transfer) the case to a team and, optionally, one of its current members."""

    model_config = ConfigDict(extra="forbid")

    team_id: uuid.UUID
    worker_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=200)
    sw_reason: SWReason | None = Field(
        default=None,
        description="SSDA903 SW_REASON: why the social worker changed (required for a new worker "
        "of a looked-after child; FCONTA is derived for a case's first worker)",
    )


class AllocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    team_id: uuid.UUID
    worker_id: uuid.UUID | None
    started_at: datetime
    ended_at: datetime | None
    reason: str | None
    sw_reason: SWReason | None = None
    allocated_by_id: uuid.UUID | None


class ChronologyEntry(BaseModel):
    """One event in the case's chronology (its audit trail: append-only and hash-chained)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    action: str
    actor_id: uuid.UUID | None
    actor_role: str | None
    subject_type: str
    subject_id: uuid.UUID
    from_state: str | None
    to_state: str | None
    reason: str | None
    changes: dict[str, Any]


class SocialWorkerEpisodeRead(BaseModel):
    """One SSDA903 SWEpisodes row, derived from the allocation history."""

    model_config = ConfigDict(from_attributes=True)

    case_id: uuid.UUID
    worker_id: uuid.UUID
    worker_name: str
    sw_id: str | None = Field(description="The worker's Social Work England number (SW_ID)")
    sw_decom: date = Field(description="SW_DECOM: the day the worker took the case")
    sw_dec: date | None = Field(description="SW_DEC: the day the episode ended (none if open)")
    sw_reason: SWReason | None = Field(description="SW_REASON: why this episode started")
    flags: list[str] = Field(
        description="What the SSDA903 validator would refuse: sw_id_missing, sw_reason_missing"
    )
