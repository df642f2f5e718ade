"""Schemas of legal holds, the records due for disposal, and a disposal run (no names anywhere:
a records manager works from ids)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class LegalHoldCreate(BaseModel):
    """Place a hold on a person's record: nothing of it is disposed of until it is lifted."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000, description="Why the record must be kept")
    reference: str | None = Field(
        default=None, max_length=200, description="A case number or inquiry name, if any"
    )


class LegalHoldLift(BaseModel):
    """Lift a hold (send its ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class LegalHoldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    reason: str
    reference: str | None
    placed_at: datetime
    placed_by_id: uuid.UUID | None
    lifted_at: datetime | None
    lifted_by_id: uuid.UUID | None
    lift_reason: str | None
    version: int


class DueRecordRead(BaseModel):
    person_id: uuid.UUID
    rule: str = Field(description="The rule that set the date (the longest that applies)")
    disposal_due: date
    held: bool = Field(description="Under a legal hold: the job will skip it")


class DueRecordsRead(BaseModel):
    as_of: date
    count: int
    items: list[DueRecordRead]


class DisposalRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(default=None, description="Default today; never a later day")
    dry_run: bool = False


class DisposalRunRead(BaseModel):
    run_id: uuid.UUID
    as_of: date
    dry_run: bool
    disposed: list[uuid.UUID]
    held: list[uuid.UUID]
    failed: list[uuid.UUID]
    would_dispose: list[uuid.UUID] = Field(description="A dry run: who would have been disposed of")
