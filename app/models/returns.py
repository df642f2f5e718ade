"""Statutory returns generated in the background through the API (``POST /api/v1/returns``).

The file is kept in the database, not on a worker's disk, so any stateless API process can report
progress and serve the download (DESIGN.md: scale-out is API processes in front of PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app import clock
from app.models.base import Base, IdMixin, StrEnumType, UTCDateTime


class ReturnKind(StrEnum):
    cin_census = "cin_census"  # DfE Children in Need census, XML
    ssda903 = "ssda903"  # DfE children looked after return, CSV tables in a zip
    annex_a = "annex_a"  # Ofsted inspection lists 1-11, XLSX


class ReturnJobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ReturnJob(IdMixin, Base):
    """One request to generate a return: who asked, for which year (or as-of day), its progress."""

    __tablename__ = "return_job"

    kind: Mapped[ReturnKind] = mapped_column(StrEnumType(ReturnKind, 20))
    year: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[date | None]
    state: Mapped[ReturnJobState] = mapped_column(StrEnumType(ReturnJobState, 20), index=True)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A sentence for the person who asked (never a traceback, never personal data).
    error: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(120))
    media_type: Mapped[str | None] = mapped_column(String(120))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
