"""Server-side sessions, integration tokens and named access to restricted records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.models.base import Base, IdMixin, UTCDateTime


class UserSession(IdMixin, Base):
    """A signed-in session. Only the SHA-256 of the cookie value is stored, so a copy of the
    database cannot be used to sign in; revoking is setting ``revoked_at``."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(IdMixin, Base):
    """An opaque bearer token for an integration, stored hashed, limited to its scopes."""

    __tablename__ = "api_token"

    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RestrictedAccessGrant(IdMixin, Base):
    """A named user who may see a restricted child's record (everyone else gets 404)."""

    __tablename__ = "restricted_access_grant"
    __table_args__ = (UniqueConstraint("person_id", "user_id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    granted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SignInThrottle(Base):
    """Failed sign-ins from one network address in the current window (OWASP ASVS 2.2.1): the
    account lock-out stops guessing one account's password, this stops one source trying one
    password on many accounts (password spraying). Only the SHA-256 of the address is stored."""

    __tablename__ = "sign_in_throttle"

    source_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(default=0)
