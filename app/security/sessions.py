"""Staff sign-in and server-side sessions, with their CSRF token.

A session is a row, not a signed cookie, so that it can be ended at once (sign-out, a password
reset, a disabled account). The cookie carries 256 random bits; only their SHA-256 is stored, so a
copy of the database cannot be used to sign in. Sessions end after ``session_idle_minutes``
without activity and ``session_absolute_minutes`` after sign-in whatever happens (ASVS 3.3.1,
3.3.2).

Cookies are sent by the browser on their own, so every unsafe request made with one must also
carry the session's CSRF token, which another site cannot read (synchronizer token pattern, OWASP
CSRF Prevention Cheat Sheet). Bearer credentials are never sent on their own and need none.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from datetime import timedelta

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.errors import Forbidden, Unauthenticated
from app.models.org import UserAccount
from app.models.security import UserSession
from app.security.authn import principal_for_user
from app.security.passwords import burn_verify_time, verify_and_rehash
from app.security.principal import AuthMethod, Principal
from app.security.throttle import sign_in_source_check, sign_in_source_failure
from app.security.tokens import hash_secret
from app.security.users import (
    account_lock_check,
    password_failure_record,
    password_success_record,
    user_get_by_username,
)

log = logging.getLogger("casework.security")

CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BAD_CREDENTIALS = "The username or password is not right."
CSRF_FAILED = "The form has expired or did not come from Casework; reload and try again."
SESSION_ENDED = "Your session has ended; sign in again."
# last_seen_at is written at most this often: the idle timeout counts in minutes, and a write on
# every request would serialise all of one user's requests on SQLite for nothing.
TOUCH_INTERVAL = timedelta(seconds=60)


def login(
    session: Session, *, username: str, password: str, settings: Settings, ip: str | None
) -> tuple[UserSession, str]:
    """Check a local password and open a session; returns the session and the cookie value.

    A wrong password and an unknown username get the same answer after the same work (a dummy
    argon2 verification), so neither the message nor the timing tells which usernames exist (ASVS
    2.2.1, 3.x). ``max_failed_logins`` failures in a row lock the account for ``lockout_minutes``
    (ASVS 2.2.1): the caller must commit the failure count even though the answer is an error.
    """
    # Password spraying: too many failures from this address, whatever the accounts.
    sign_in_source_check(session, ip=ip, settings=settings)
    user = user_get_by_username(session, username)
    if user is None or user.password_hash is None:
        burn_verify_time()
        log.info("failed sign-in: unknown or password-less account (from %s)", ip)
        sign_in_source_failure(session, ip=ip, settings=settings)
        raise Unauthenticated(BAD_CREDENTIALS, code="bad_credentials")
    account_lock_check(user)
    ok, upgraded_hash = verify_and_rehash(user.password_hash, password)
    if not ok:
        log.info("failed sign-in for account %s (from %s)", user.id, ip)
        sign_in_source_failure(session, ip=ip, settings=settings)
        password_failure_record(session, user=user, settings=settings)
        raise Unauthenticated(BAD_CREDENTIALS, code="bad_credentials")
    if not user.is_active:
        # Only said to someone who knows the password.
        raise Unauthenticated("This account is disabled; ask an administrator.")
    password_success_record(session, user=user, new_hash=upgraded_hash)
    now = clock.now()
    cookie = secrets.token_urlsafe(32)
    user_session = UserSession(
        token_hash=hash_secret(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(minutes=settings.session_absolute_minutes),
    )
    session.add(user_session)
    session.flush()
    log.info("account %s signed in (session %s)", user.id, user_session.id)
    return user_session, cookie


def _same_secret(expected: str, supplied: str | None) -> bool:
    # compare_digest: the comparison time does not reveal how much of the token was right.
    return supplied is not None and hmac.compare_digest(expected.encode(), supplied.encode())


def csrf_matches(principal: Principal, supplied: str | None) -> bool:
    """Whether ``supplied`` (a header or a form's hidden field) is the session's CSRF token."""
    return principal.csrf_token is not None and _same_secret(principal.csrf_token, supplied)


def authenticate_session_cookie(
    session: Session, request: Request, cookie: str, settings: Settings, *, check_csrf: bool = True
) -> Principal:
    """The principal for a session cookie: live (not revoked, not past its absolute expiry, not
    idle too long) and, for an unsafe method, with the session's CSRF token in ``X-CSRF-Token``.

    The web client's forms, which cannot set headers without JavaScript, pass
    ``check_csrf=False`` and check the hidden field with :func:`csrf_matches` instead.
    """
    user_session = session.scalar(
        select(UserSession).where(UserSession.token_hash == hash_secret(cookie))
    )
    now = clock.now()
    if user_session is None or user_session.revoked_at is not None:
        raise Unauthenticated(SESSION_ENDED, code="session_ended")
    if user_session.expires_at <= now:
        raise Unauthenticated(
            "Your session has reached its time limit; sign in again.", code="session_ended"
        )
    if now - user_session.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        raise Unauthenticated(
            f"You were signed out after {settings.session_idle_minutes} minutes without "
            "activity; sign in again.",
            code="session_ended",
        )
    if (
        check_csrf
        and request.method in UNSAFE_METHODS
        and not _same_secret(user_session.csrf_token, request.headers.get(CSRF_HEADER))
    ):
        raise Forbidden(CSRF_FAILED, code="csrf_failed")
    user = session.get(UserAccount, user_session.user_id)
    if user is None:
        raise Unauthenticated(SESSION_ENDED, code="session_ended")
    principal = principal_for_user(
        session,
        user,
        auth=AuthMethod.session,
        session_id=user_session.id,
        csrf_token=user_session.csrf_token,
        must_change_password=user.must_change_password,
    )
    if now - user_session.last_seen_at >= TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return principal


def logout(session: Session, *, session_id: uuid.UUID) -> None:
    """End a session now; its cookie is refused from the next request on."""
    user_session = session.get(UserSession, session_id)
    if user_session is not None and user_session.revoked_at is None:
        user_session.revoked_at = clock.now()
