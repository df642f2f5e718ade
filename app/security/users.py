"""Staff and integration accounts: create, list, passwords, lock-out bookkeeping, (de)activation.

Every change to an account is written to ``change_log`` in the same transaction (who changed whose
account, and what), never with a password or its hash.
"""

from __future__ import annotations

import logging
import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.api.pagination import Page, decode_cursor, encode_cursor
from app.audit.service import change_log_append, diff
from app.config import Settings
from app.errors import Conflict, Invalid, NotFound, RateLimited
from app.models.org import Role, UserAccount
from app.models.security import UserSession
from app.security.passwords import hash_password, password_policy_check, verify_and_rehash
from app.security.principal import Principal

log = logging.getLogger("casework.security")

NO_SUCH_USER = "There is no user with this username or id."


def normalise_username(username: str) -> str:
    """Usernames are compared without case or surrounding spaces (``A.Smith`` is ``a.smith``)."""
    return username.strip().lower()


def user_get_by_username(session: Session, username: str) -> UserAccount | None:
    return session.scalar(
        select(UserAccount).where(UserAccount.username == normalise_username(username))
    )


def _user_get(session: Session, username_or_id: str | uuid.UUID) -> UserAccount:
    user: UserAccount | None
    if isinstance(username_or_id, uuid.UUID):
        user = session.get(UserAccount, username_or_id)
    else:
        try:
            user = session.get(UserAccount, uuid.UUID(username_or_id))
        except ValueError:
            user = user_get_by_username(session, username_or_id)
    if user is None:
        raise NotFound(NO_SUCH_USER)
    return user


def user_create(
    session: Session,
    *,
    actor: Principal | None,
    username: str,
    display_name: str,
    role: Role,
    password: str | None = None,
    email: str | None = None,
    swe_registration_number: str | None = None,
    must_change_password: bool = True,
) -> UserAccount:
    """Create an account. Without a password it can sign in only through the council's identity
    provider (or, for an integration client, with a token). ``actor`` is None for the first
    administrator, created from the command line."""
    name = normalise_username(username)
    if not name:
        raise Invalid.field("username", "Enter a username.")
    if not display_name.strip():
        raise Invalid.field("display_name", "Enter the name to show for this user.")
    if session.scalar(select(UserAccount.id).where(UserAccount.username == name)) is not None:
        raise Conflict(f"There is already a user with the username {name!r}.")
    if swe_registration_number is not None and session.scalar(
        select(UserAccount.id).where(UserAccount.swe_registration_number == swe_registration_number)
    ):
        raise Conflict("Another user already has this Social Work England registration number.")
    if password is not None:
        password_policy_check(password, username=name, field="password")
    user = UserAccount(
        username=name,
        display_name=display_name.strip(),
        role=Role(role),
        email=email,
        password_hash=hash_password(password) if password is not None else None,
        must_change_password=must_change_password,
        swe_registration_number=swe_registration_number,
    )
    session.add(user)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="user_account",
        entity_id=user.id,
        action="create",
        changes={
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "email": user.email,
            "swe_registration_number": user.swe_registration_number,
            "must_change_password": user.must_change_password,
            "has_password": user.password_hash is not None,
        },
    )
    return user


def user_list(session: Session, *, cursor: str | None, limit: int) -> Page[UserAccount]:
    """Accounts in username order, a page at a time (keyset on the unique username)."""
    stmt = select(UserAccount).order_by(UserAccount.username).limit(limit + 1)
    if cursor is not None:
        key = decode_cursor(cursor)
        if len(key) != 1 or not isinstance(key[0], str):
            raise Invalid.field("cursor", "This cursor is not one we gave out; start again.")
        stmt = stmt.where(UserAccount.username > key[0])
    users = list(session.scalars(stmt))
    more = len(users) > limit
    users = users[:limit]
    return Page(items=users, next_cursor=encode_cursor((users[-1].username,)) if more else None)


def user_sessions_revoke(
    session: Session, *, user_id: uuid.UUID, keep_session_id: uuid.UUID | None = None
) -> int:
    """End every live session of a user (but ``keep_session_id``); returns how many ended."""
    stmt = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    result = session.execute(stmt.values(revoked_at=clock.now()))
    return int(getattr(result, "rowcount", 0) or 0)


def user_reset_password(
    session: Session,
    *,
    actor: Principal | None,
    username_or_id: str | uuid.UUID,
    new_password: str,
) -> UserAccount:
    """An administrator sets a temporary password: the user must change it at next sign-in, any
    lock-out is lifted, and every session they had is ended (whoever held them is signed out)."""
    user = _user_get(session, username_or_id)
    password_policy_check(new_password, username=user.username)
    before = {"must_change_password": user.must_change_password, "locked_until": user.locked_until}
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    user.failed_login_count = 0
    user.locked_until = None
    ended = user_sessions_revoke(session, user_id=user.id)
    session.flush()
    changes = diff(before, {"must_change_password": True, "locked_until": None}) | {
        "password": "reset",
        "sessions_ended": ended,
    }
    change_log_append(
        session,
        actor=actor,
        entity_type="user_account",
        entity_id=user.id,
        action="password_reset",
        changes=changes,
    )
    return user


def user_change_password(
    session: Session,
    *,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
    settings: Settings,
    actor: Principal | None = None,
    keep_session_id: uuid.UUID | None = None,
) -> UserAccount:
    """A user changes their own password. The current one is asked for again (ASVS 2.1.5) and a
    wrong one counts towards the lock-out like a failed sign-in, so a stolen session cannot be
    used to guess it. Other sessions are ended (ASVS 3.3.3); ``keep_session_id`` stays."""
    user = session.get(UserAccount, user_id)
    if user is None or user.password_hash is None:
        raise Invalid.field(
            "current_password", "This account has no Casework password; it signs in elsewhere."
        )
    account_lock_check(user)
    ok, _ = verify_and_rehash(user.password_hash, current_password)
    if not ok:
        password_failure_record(session, user=user, settings=settings)
        raise Invalid.field("current_password", "That is not your current password.")
    password_policy_check(new_password, username=user.username)
    if new_password == current_password:
        raise Invalid.field("new_password", "Choose a password different from your current one.")
    before_flag = user.must_change_password
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.failed_login_count = 0
    ended = user_sessions_revoke(session, user_id=user.id, keep_session_id=keep_session_id)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="user_account",
        entity_id=user.id,
        action="password_change",
        changes=diff({"must_change_password": before_flag}, {"must_change_password": False})
        | {"password": "changed", "sessions_ended": ended},
    )
    return user


def user_set_active(
    session: Session, *, actor: Principal | None, user_id: uuid.UUID, is_active: bool
) -> UserAccount:
    """Enable or disable an account (staff who leave are disabled, never deleted: the records
    they wrote keep pointing at them). Disabling ends their sessions at once; their tokens stop
    working because a disabled account yields no principal."""
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound(NO_SUCH_USER)
    if not is_active and actor is not None and actor.user_id == user.id:
        raise Conflict("You cannot disable your own account; ask another administrator.")
    if user.is_active == is_active:
        return user
    user.is_active = is_active
    ended = 0 if is_active else user_sessions_revoke(session, user_id=user.id)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="user_account",
        entity_id=user.id,
        action="enable" if is_active else "disable",
        changes=diff({"is_active": not is_active}, {"is_active": is_active})
        | {"sessions_ended": ended},
    )
    return user


# Lock-out (OWASP ASVS 2.2.1: anti-automation against credential stuffing and brute force).
#
# The counters change through single UPDATE statements rather than the ORM's versioned write:
# parallel guesses then cannot lose increments (which would buy extra guesses), and two people
# signing in to one account at once do not trip over the row version meant for edits.


def account_lock_check(user: UserAccount) -> None:
    """Refuse with 429 while the account is locked."""
    if user.locked_until is not None and user.locked_until > clock.now():
        raise locked_error(user.locked_until)


def locked_error(until: datetime) -> RateLimited:
    seconds = max(1, math.ceil((until - clock.now()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return RateLimited(
        "This account is locked after too many failed sign-in attempts. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator to reset your "
        "password.",
        code="account_locked",
        retry_after=seconds,
    )


def password_failure_record(session: Session, *, user: UserAccount, settings: Settings) -> None:
    """Count a wrong password; at ``max_failed_logins`` in a row, lock the account for
    ``lockout_minutes`` and raise the 429 that says so. The caller must commit even though the
    request fails, or the count is rolled back with it."""
    count = session.execute(
        update(UserAccount)
        .where(UserAccount.id == user.id)
        .values(failed_login_count=UserAccount.failed_login_count + 1)
        .returning(UserAccount.failed_login_count)
    ).scalar_one()
    if count < settings.max_failed_logins:
        return
    until = clock.now() + timedelta(minutes=settings.lockout_minutes)
    session.execute(
        update(UserAccount)
        .where(UserAccount.id == user.id)
        .values(failed_login_count=0, locked_until=until)
    )
    log.warning("account %s locked after %d failed sign-in attempts", user.id, count)
    raise locked_error(until)


def password_success_record(
    session: Session, *, user: UserAccount, new_hash: str | None = None
) -> None:
    """Reset the failure count, note the sign-in, and store an upgraded hash if there is one."""
    values: dict[str, object] = {
        "failed_login_count": 0,
        "locked_until": None,
        "last_login_at": clock.now(),
    }
    if new_hash is not None:
        values["password_hash"] = new_hash
    session.execute(update(UserAccount).where(UserAccount.id == user.id).values(**values))
