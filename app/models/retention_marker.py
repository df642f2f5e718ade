"""The disposal job's pass through the append-only audit tables.

The triggers on ``case_event``, ``change_log`` and ``access_log`` refuse every UPDATE and every
DELETE (migration 0002), except a DELETE of a row about an id listed here (migration 0011). Only the
disposal job (``app.retention.disposal``) writes this table, and it empties it again before its
transaction commits, so between transactions it is always empty and a normal request finds every
audit row as immovable as before. See README, "Retention and disposal".
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DisposalMarker(Base):
    """One id (the person, or any row of theirs being destroyed) whose audit rows may be deleted
    in the current transaction of the disposal run ``run_id``."""

    __tablename__ = "disposal_marker"

    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID]
