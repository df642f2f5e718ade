"""Missing and absent episode schemas for the JSON API (SSDA903 Missing; timescales rule 30)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.models.missing import MissingKind, ReturnInterviewResponse


class MissingEpisodeCreate(BaseModel):
    """A child went missing (M) or away from placement without authorisation (A)."""

    model_config = ConfigDict(extra="forbid")

    kind: MissingKind = Field(description="SSDA903 MISSING: M missing, A away from placement")
    started_at: AwareDatetime = Field(description="When the child went missing (MIS_START)")
    ended_at: AwareDatetime | None = Field(
        default=None, description="When the child returned or was found, if known (MIS_END)"
    )
    notes: str | None = Field(default=None, max_length=20000)


class MissingEpisodeReturn(BaseModel):
    """The child returned or was found (send the episode's ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    ended_at: AwareDatetime
    notes: str | None = Field(default=None, max_length=20000)


class ReturnInterviewRecord(BaseModel):
    """The return home interview: offered (within 72 hours of the return), accepted or declined,
    held (send the episode's ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    offered_at: AwareDatetime | None = Field(
        default=None, description="When it was offered; may be left out once recorded"
    )
    response: ReturnInterviewResponse | None = None
    held_on: date | None = None
    held_by: str | None = Field(default=None, min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=20000)


class MissingEpisodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    period_id: uuid.UUID | None
    while_looked_after: bool = Field(
        description="Started while the child was looked after (goes on the SSDA903 return)"
    )
    kind: MissingKind
    started_at: datetime
    ended_at: datetime | None
    start_date: date = Field(description="SSDA903 MIS_START (the day in England)")
    end_date: date | None = Field(description="SSDA903 MIS_END")
    notes: str | None
    interview_offered_at: datetime | None
    interview_response: ReturnInterviewResponse | None
    interview_held_on: date | None
    interview_held_by: str | None
    interview_notes: str | None
    interview_due_at: datetime | None = Field(
        default=None, description="Rule 30: the return home interview is offered by then"
    )
    interview_offered_in_time: bool | None = Field(
        default=None, description="Whether the offer came by interview_due_at (None: no offer)"
    )
    version: int


class MissingEpisodeList(BaseModel):
    items: list[MissingEpisodeRead]
