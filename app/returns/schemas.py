"""Schemas of the returns API: ask for a return, follow its progress, download it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.returns import ReturnJobState, ReturnKind


class ReturnJobCreate(BaseModel):
    """Ask for a return. ``year`` names the collection year by the year it ends (2026 = 2025-26;
    default: the year in progress) for the CIN census and SSDA903; ``as_of`` is the inspection day
    for Annex A (default today)."""

    model_config = ConfigDict(extra="forbid")

    kind: ReturnKind
    year: int | None = Field(default=None, ge=2015, le=2100)
    as_of: date | None = None


class ReturnJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ReturnKind
    year: int | None
    as_of: date | None
    state: ReturnJobState
    progress: int = Field(description="Percent done")
    requested_by_id: uuid.UUID
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    filename: str | None
    media_type: str | None
    size_bytes: int | None
    download_url: str | None = Field(default=None, description="Present once the file is ready")


class ReturnJobList(BaseModel):
    items: list[ReturnJobRead]
