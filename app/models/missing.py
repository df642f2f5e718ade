"""Missing and absent episodes and the return home interview (timescales rule 30; SSDA903 Missing
table: MISSING, MIS_START, MIS_END)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class MissingKind(StrEnum):
    """SSDA903 ``MISSING`` (validator rule 1006: M or A)."""

    M = "M"  # missing: whereabouts unknown
    A = "A"  # away from placement without authorisation: whereabouts known


class ReturnInterviewResponse(StrEnum):
    """What the child said to the offer of a return home interview."""

    accepted = "accepted"
    declined = "declined"


class MissingEpisode(IdMixin, TimestampMixin, Base):
    """A period in which a child was missing (M) or away without authorisation (A).

    Times are instants (the return interview is due 72 hours after the return, rule 30); the
    SSDA903 dates are their calendar dates in England. ``while_looked_after`` says whether the
    episode started in a period of care (only those go on the SSDA903 return, rule 581).
    """

    __tablename__ = "missing_episode"
    __table_args__ = (
        # SSDA903 rule 567: the end is not before the start.
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        # "Away from placement" needs a placement: only while looked after.
        CheckConstraint("kind = 'M' OR while_looked_after", name="away_only_while_looked_after"),
        # A period of care is named exactly when the child was looked after.
        CheckConstraint(
            "(period_id IS NOT NULL) = while_looked_after", name="period_iff_looked_after"
        ),
        # The interview is held only after an offer the child accepted.
        CheckConstraint(
            "interview_held_on IS NULL OR interview_response = 'accepted'",
            name="interview_held_after_acceptance",
        ),
        CheckConstraint(
            "interview_response IS NULL OR interview_offered_at IS NOT NULL",
            name="interview_response_after_offer",
        ),
        # SSDA903 rule 574: a new episode cannot start while another is open — one open per child.
        Index(
            "uq_missing_episode_one_open_per_child",
            "child_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        Index("ix_missing_episode_child_start", "child_id", "started_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    period_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("period_of_care.id"), index=True)
    while_looked_after: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[MissingKind] = mapped_column(StrEnumType(MissingKind, 1))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
    # The return home interview (statutory guidance on children who run away or go missing from
    # home or care, 2014): offered within 72 hours of the return, accepted or declined, held.
    interview_offered_at: Mapped[datetime | None]
    interview_response: Mapped[ReturnInterviewResponse | None] = mapped_column(
        StrEnumType(ReturnInterviewResponse, 10)
    )
    interview_held_on: Mapped[date | None]
    interview_held_by: Mapped[str | None] = mapped_column(String(200))
    interview_notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
