"""Case notes: what a worker saw, heard and did, typed, drafted as they type, then made immutable.

A note starts as the author's private ``draft`` (saved as they type, so a session timeout loses
nothing) and becomes ``final`` through the workflow engine (``app.casenotes.workflow``); a final
note is never changed again: a correction is a new note that names the one it corrects.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin, UTCDateTime


class CaseNoteKind(StrEnum):
    home_visit = "home_visit"
    office_visit = "office_visit"
    phone = "phone"
    meeting = "meeting"
    management_oversight = "management_oversight"
    supervision = "supervision"
    other = "other"


#: The kinds that are visits: they record whether the child was seen, seen alone, bedroom seen.
VISIT_KINDS = frozenset({CaseNoteKind.home_visit, CaseNoteKind.office_visit})


class CaseNote(IdMixin, TimestampMixin, Base):
    """One note on a case. ``state`` (draft → final) is written only by the workflow engine."""

    __tablename__ = "case_note"
    __table_args__ = (
        # A final note carries the instant it was finished; a draft does not.
        CheckConstraint(
            "(state = 'final') = (finalised_at IS NOT NULL)", name="final_has_finalised_at"
        ),
        CheckConstraint("corrects_note_id IS NULL OR corrects_note_id <> id", name="not_self"),
        # The caller's drafts (GET /me/drafts) and a case's notes in the order they happened.
        Index("ix_case_note_author_state", "author_id", "state"),
        Index("ix_case_note_case_occurred", "case_id", "occurred_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[CaseNoteKind] = mapped_column(StrEnumType(CaseNoteKind))
    # When the contact with the family happened (not when it was typed).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # Visits only (None otherwise): statutory visits record whether the child was seen, seen
    # alone and their bedroom seen (Working Together; timescales rule 9).
    child_seen: Mapped[bool | None]
    seen_alone: Mapped[bool | None]
    bedroom_seen: Mapped[bool | None]
    state: Mapped[str] = mapped_column(String(40))
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrects_note_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("case_note.id"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
