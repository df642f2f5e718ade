"""Retention: how long a child's record is kept, legal holds, and the disposals done.

A child's social care record is kept for the longest period any of its parts needs (rule 39: a
looked-after child's record to the 75th birthday, or 15 years after death if the child died before
18, Care Planning Regulations 2010 reg 50; rule 40: an adoption record 100 years from the adoption
order, Adoption Agencies Regulations 2005 reg 42; everything else for a period the council sets).
A legal hold (litigation, a public inquiry, a police investigation, the Independent Inquiry into
Child Sexual Abuse's moratorium) stops disposal until it is lifted. The disposal job destroys a
record whose date has passed and that has no hold, and leaves a ``RecordDisposal`` row that says
what was destroyed, when, under which rule and by which run, with no personal data in it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin


class LegalHold(IdMixin, Base):
    """A hold on one person's record: nothing of it is disposed of while the hold is in place."""

    __tablename__ = "legal_hold"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    # A reference outside Casework (a legal case number, an inquiry's name), if any.
    reference: Mapped[str | None] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    placed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)


class RecordDisposal(IdMixin, Base):
    """A record destroyed under the retention rules: the proof, without the personal data.

    ``person_id`` is the destroyed person's former id (no foreign key: the row it named is gone),
    so a second run of the job, or a question from the council's records manager, can tell that
    this record was disposed of and when.
    """

    __tablename__ = "record_disposal"

    person_id: Mapped[uuid.UUID] = mapped_column(index=True, unique=True)
    # Which rule set the date: "looked_after_75th_birthday", "adoption_100_years",
    # "council_default", and so on.
    rule: Mapped[str] = mapped_column(String(60))
    disposal_due: Mapped[date]
    disposed_at: Mapped[datetime]
    # The run of the disposal job that did it (one id per run; a rerun finds nothing left to do).
    run_id: Mapped[uuid.UUID]
    disposed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    # Table name -> number of rows destroyed, and a digest of the audit chains removed.
    rows_removed: Mapped[dict[str, Any]]
