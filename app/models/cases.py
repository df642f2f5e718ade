"""The case: one episode of a child's involvement, from contact to closure."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.cases.codes import SWReason
from app.core_types import ReasonForClosure
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin, UTCDateTime
from app.models.org import Team, UserAccount
from app.models.people import Person


class Case(IdMixin, TimestampMixin, Base):
    """A child's case. ``state`` is written only by ``app.workflow.engine.apply``."""

    __tablename__ = "case"
    __table_args__ = (
        # A closure date needs a reason and vice versa (CIN census rules 8805, 8810).
        CheckConstraint(
            "(closed_date IS NULL) = (closure_reason IS NULL)", name="closure_date_and_reason"
        ),
        CheckConstraint("closed_date IS NULL OR closed_date >= opened_date", name="closed_after"),
        Index("ix_case_team_state", "team_id", "state"),
        Index("ix_case_worker_state", "allocated_worker_id", "state"),
        # One open case per child (CIN census 8815/8816: one open episode). The service says so
        # politely; this index makes two simultaneous contacts unable to both open one.
        Index(
            "uq_case_one_open_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("state <> 'closed'"),
            sqlite_where=text("state <> 'closed'"),
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    opened_date: Mapped[date]
    closed_date: Mapped[date | None]
    closure_reason: Mapped[ReasonForClosure | None] = mapped_column(
        StrEnumType(ReasonForClosure, 3)
    )
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"))
    allocated_worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    child: Mapped[Person] = relationship(lazy="raise")
    team: Mapped[Team] = relationship(lazy="raise")
    allocated_worker: Mapped[UserAccount | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Allocation(IdMixin, Base):
    """Who held the case when: one row per allocation, the current one has no ``ended_at``."""

    __tablename__ = "allocation"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"), index=True)
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))
    allocated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    # SSDA903 SW_REASON of the social worker episode this allocation starts (why the worker
    # changed); recorded for looked-after children (validator rules SW03, SW15).
    sw_reason: Mapped[SWReason | None] = mapped_column(StrEnumType(SWReason, 6))
