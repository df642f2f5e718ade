"""Authentication: turn a request's credentials into a ``Principal`` (or refuse with 401)."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.errors import Unauthenticated
from app.models.org import TeamMembership, UserAccount
from app.security.principal import AuthMethod, Principal
from app.security.tokens import TOKEN_PREFIX, token_lookup


def principal_for_user(
    session: Session,
    user: UserAccount,
    *,
    auth: AuthMethod,
    scopes: frozenset[str] | None = None,
    session_id: uuid.UUID | None = None,
    csrf_token: str | None = None,
    must_change_password: bool = False,
) -> Principal:
    """Build the principal for an active user with their current team memberships."""
    if not user.is_active:
        raise Unauthenticated("This account is disabled.")
    today = clock.today()
    memberships = session.scalars(
        select(TeamMembership).where(
            TeamMembership.user_id == user.id,
            TeamMembership.start_date <= today,
            or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
        )
    ).all()
    return Principal(
        user_id=user.id,
        role=user.role,
        display_name=user.display_name,
        auth=auth,
        team_ids=frozenset(m.team_id for m in memberships),
        managed_team_ids=frozenset(m.team_id for m in memberships if m.is_manager),
        scopes=scopes,
        session_id=session_id,
        csrf_token=csrf_token,
        must_change_password=must_change_password,
    )


def authenticate_bearer_token(session: Session, secret: str) -> Principal:
    """An integration's opaque token: valid, unrevoked, unexpired, for an active account."""
    if not secret.startswith(TOKEN_PREFIX):
        raise Unauthenticated("The bearer token is not recognised.")
    token = token_lookup(session, secret)
    if token is None:
        raise Unauthenticated("The bearer token is not recognised, has expired or was revoked.")
    user = session.get(UserAccount, token.user_id)
    if user is None:
        raise Unauthenticated("The bearer token is not recognised.")
    token.last_used_at = clock.now()
    return principal_for_user(
        session, user, auth=AuthMethod.token, scopes=frozenset(str(s) for s in token.scopes)
    )


SESSION_COOKIE = "casework_session"


def authenticate_request(request: Request, session: Session) -> Principal:
    """Bearer credentials first (integration token or OIDC JWT), then the session cookie."""
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        credentials = credentials.strip()
        if credentials.startswith(TOKEN_PREFIX):
            return authenticate_bearer_token(session, credentials)
        from app.security.oidc import authenticate_jwt

        return authenticate_jwt(session, credentials, settings)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        from app.security.sessions import authenticate_session_cookie

        return authenticate_session_cookie(session, request, cookie, settings)
    raise Unauthenticated(
        "Sign in, or send an integration token as 'Authorization: Bearer <token>'."
    )
