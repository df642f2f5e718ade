"""Opaque bearer tokens for integrations: shown once, stored as SHA-256, limited to scopes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.errors import Invalid
from app.models.security import ApiToken

TOKEN_PREFIX = "cw_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for, not a secret


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def token_issue(
    session: Session,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret value, which is never stored or shown again."""
    from app.security.policy import PERMISSIONS

    unknown = sorted(set(scopes) - set(PERMISSIONS))
    if unknown:
        raise Invalid.field("scopes", f"Unknown scopes: {', '.join(unknown)}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_secret(secret),
        token_prefix=secret[:12],
        user_id=user_id,
        scopes=sorted(scopes),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def token_lookup(session: Session, secret: str) -> ApiToken | None:
    """The live token for ``secret``, or None when unknown, revoked or expired."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        return None
    return token
