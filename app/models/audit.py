"""The append-only records: a case's chronology, plain edits, and who looked at what.

Rows here are written only by ``app.audit``; database triggers refuse UPDATE and DELETE on both
SQLite and PostgreSQL (see the migration that creates them).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime

APPEND_ONLY_TABLES = ("case_event", "change_log", "access_log")


class CaseEvent(IdMixin, Base):
    """One transition or significant change on a case: its chronology and its audit trail at once.

    ``seq`` is unique per case, so two concurrent appends cannot both win; ``hash`` is the SHA-256
    of
    the canonical row chained to the previous row's hash.
    """

    __tablename__ = "case_event"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        Index("ix_case_event_child_occurred", "child_id", "occurred_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    seq: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID]
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChangeLog(IdMixin, Base):
    """Field-level before/after for edits outside a case (a person's details, a team, a user)."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_entity", "entity_type", "entity_id"),)

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(64))


class AccessLog(IdMixin, Base):
    """One row per read of a child's record, list or export that shows a child, and per denied try.

    The basis of subject access requests and snooping checks. ``person_id`` is the child seen.
    """

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_person_occurred", "person_id", "occurred_at"),
        Index("ix_access_log_user_occurred", "user_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    user_role: Mapped[str | None] = mapped_column(String(40))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"))
    # view | list | search | export | break_glass | denied
    action: Mapped[str] = mapped_column(String(20))
    resource: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
