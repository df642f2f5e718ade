"""Idempotency keys: a retried POST from an integration does its work once (issue 8).

An integration that sends ``Idempotency-Key`` with a POST may send it again after a timeout or a
dropped connection without creating a second contact or a second referral: the first request's
response is stored and replayed (Stripe's semantics). See ``app/idempotency.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    # Whose key: a hash of the caller's credential (a key is private to the caller that sent it).
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    # SHA-256 of the body: the same key with a different request is refused, never replayed.
    request_hash: Mapped[str] = mapped_column(String(64))
    # in_flight -> committed (in the request's own transaction) -> done (response stored). Not
    # called "state": that name is kept for the records the workflow engine moves.
    progress: Mapped[str] = mapped_column(String(12))
    response_status: Mapped[int | None]
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
