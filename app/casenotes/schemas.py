"""What the case notes API accepts and answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.casenotes import CaseNoteKind


class CaseNoteContent(BaseModel):
    """What the author writes; saved as they type while the note is a draft."""

    model_config = ConfigDict(extra="forbid")

    kind: CaseNoteKind
    occurred_at: datetime = Field(description="When the contact with the family happened")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)
    child_seen: bool | None = Field(default=None, description="Visits only")
    seen_alone: bool | None = Field(default=None, description="Visits only")
    bedroom_seen: bool | None = Field(default=None, description="Visits only")


class CaseNoteCreate(CaseNoteContent):
    finalise: bool = Field(
        default=False, description="Record the note as finished at once (no draft)"
    )


class CaseNoteCorrection(BaseModel):
    """A correction: a new note linked to the finished one it corrects (which never changes)."""

    model_config = ConfigDict(extra="forbid")

    kind: CaseNoteKind | None = Field(default=None, description="Default: the original's kind")
    occurred_at: datetime | None = Field(
        default=None, description="Default: when the original's contact happened"
    )
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)
    child_seen: bool | None = None
    seen_alone: bool | None = None
    bedroom_seen: bool | None = None
    finalise: bool = False


class CaseNoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    author_id: uuid.UUID
    kind: CaseNoteKind
    occurred_at: datetime
    title: str
    body: str
    child_seen: bool | None
    seen_alone: bool | None
    bedroom_seen: bool | None
    state: str = Field(description="draft (only its author sees it) or final (immutable)")
    finalised_at: datetime | None
    corrects_note_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class DraftSummary(BaseModel):
    """One of the caller's drafts in progress (to pick up after a timeout)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    kind: CaseNoteKind
    occurred_at: datetime
    title: str
    version: int
    updated_at: datetime
