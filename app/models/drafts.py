"""Drafts of web forms: what a person typed and has not yet saved to the record.

A form autosaves here while it is open (progressive enhancement), and a form posted after the
session ran out is kept here before the person is sent to sign in again, so nothing typed is lost.
A draft belongs to one user and one form (its path); only that user ever reads it. It holds
personal data, so it is deleted when the form is saved or discarded, and never logged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class FormDraft(IdMixin, TimestampMixin, Base):
    __tablename__ = "form_draft"
    __table_args__ = (UniqueConstraint("user_id", "form_path"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The form's own address (e.g. /cases/{id}/notes/new): where the draft is opened again.
    form_path: Mapped[str] = mapped_column(String(300))
    # A short label for "My work" ("Case note for Ava Smith"); no other personal data in it.
    title: Mapped[str] = mapped_column(String(200))
    # The child the form is about, if any: the draft is listed only while the user may still
    # see that child's record.
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    # Field name -> value, as the form posted it (strings, or lists for repeated fields).
    data: Mapped[dict[str, Any]]
    # Why it was kept: "autosave" (the page saved it) or "timeout" (posted after the session ended).
    saved_by: Mapped[str] = mapped_column(String(20))
    last_saved_at: Mapped[datetime]
