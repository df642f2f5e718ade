"""Supervision and management oversight (issue 6, part 3).

A **supervision session** is between a worker and their supervisor; its reflective notes are
private to the two of them and their managers (anyone else is told the session does not exist).
The decisions taken in it about each case are not private: each is written onto the case file as a
**management oversight** entry, as is oversight recorded outside supervision (a manager's direction
on the file). Timescales rules 36 (supervision, default monthly) and 37 (oversight on every open
case, default every 6 weeks) — local policy, council settings
``CASEWORK_SUPERVISION_MONTHS`` and ``CASEWORK_MANAGEMENT_OVERSIGHT_WEEKS``.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class SupervisionSession(IdMixin, TimestampMixin, Base):
    __tablename__ = "supervision_session"
    __table_args__ = (
        Index("ix_supervision_worker_held", "worker_id", "held_on"),
        CheckConstraint("worker_id <> supervisor_id", name="not_self_supervised"),
    )

    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    supervisor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    held_on: Mapped[date]
    # Reflective notes: private to the worker, the supervisor and their managers.
    notes: Mapped[str | None] = mapped_column(Text)
    # Wellbeing / caseload / learning discussed (short, also private).
    wellbeing: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ManagementOversight(IdMixin, TimestampMixin, Base):
    """A manager's recorded direction on a case file: from a supervision session's per-case
    decision (``supervision_id``) or recorded on its own."""

    __tablename__ = "management_oversight"
    __table_args__ = (Index("ix_management_oversight_case_on", "case_id", "recorded_on"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    supervision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("supervision_session.id"), index=True
    )
    recorded_on: Mapped[date]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(Text)
    # When the manager wants the next look (optional; the 6-week rule applies anyway).
    review_by: Mapped[date | None]
