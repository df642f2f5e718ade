"""Opaque bearer tokens for integrations: shown once, stored as SHA-256, limited to scopes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import change_log_append
from app.errors import Invalid, NotFound
from app.models.org import Role, UserAccount
from app.models.security import ApiToken
from app.security.principal import Principal

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


def integration_token_issue(
    session: Session,
    *,
    actor: Principal | None,
    user_id: uuid.UUID,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """An administrator issues a token to an integration client account.

    Staff sign in instead (a token would outlive their session and skip the lock-out), and a token
    can carry only scopes the account's role has: least privilege, and a scope the role lacks would
    be refused on every call anyway.
    """
    from app.security.policy import PERMISSIONS, role_may

    user = session.get(UserAccount, user_id)
    if user is None:
        raise Invalid.field("user_id", "There is no user with this id.")
    if user.role is not Role.integration_client:
        raise Invalid.field(
            "user_id", "Tokens are issued only to integration client accounts; staff sign in."
        )
    if not user.is_active:
        raise Invalid.field("user_id", "This account is disabled.")
    beyond_role = sorted(s for s in set(scopes) & set(PERMISSIONS) if not role_may(user.role, s))
    if beyond_role:
        raise Invalid.field(
            "scopes", f"An integration client may not hold these scopes: {', '.join(beyond_role)}."
        )
    if expires_at is not None and expires_at <= clock.now():
        raise Invalid.field("expires_at", "Choose an expiry date in the future.")
    token, secret = token_issue(
        session, user_id=user.id, name=name.strip(), scopes=scopes, expires_at=expires_at
    )
    change_log_append(
        session,
        actor=actor,
        entity_type="api_token",
        entity_id=token.id,
        action="issue",
        changes={
            "name": token.name,
            "user_id": token.user_id,
            "scopes": token.scopes,
            "token_prefix": token.token_prefix,
            "expires_at": token.expires_at,
        },
    )
    return token, secret


def token_revoke(session: Session, *, actor: Principal | None, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token at once (from the next request on). Revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no token with this id.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        change_log_append(
            session,
            actor=actor,
            entity_type="api_token",
            entity_id=token.id,
            action="revoke",
            changes={"revoked_at": token.revoked_at},
        )
        session.flush()
    return token
