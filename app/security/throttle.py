"""Sign-in rate limiting per network address (OWASP ASVS 2.2.1, anti-automation).

The account lock-out (``users.password_failure_record``) stops someone guessing one account's
password. It does nothing against password spraying: one common password tried once on each of
many accounts, which never locks any of them. So failed sign-ins are also counted per network
address over a window, whatever the accounts; past the limit that address is refused with 429 and
``Retry-After`` until the window ends, before any password is checked. A successful sign-in does not
clear the count (an attacker with one account of their own could otherwise reset it between
guesses). The count lives in the database, so every API process behind the load balancer sees the
same one; only the SHA-256 of the address is stored.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import timedelta

from sqlalchemy import case, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.errors import RateLimited
from app.models.base import UTCDateTime
from app.models.security import SignInThrottle

log = logging.getLogger("casework.security")


def _source(ip: str) -> str:
    return hashlib.sha256(ip.encode()).hexdigest()


def sign_in_source_check(session: Session, *, ip: str | None, settings: Settings) -> None:
    """Refuse with 429 while ``ip`` has used up its failed sign-ins for the window."""
    if ip is None:
        return
    row = session.get(SignInThrottle, _source(ip))
    if row is None or row.failures < settings.sign_in_source_max_failures:
        return
    until = row.window_started_at + timedelta(minutes=settings.sign_in_window_minutes)
    seconds = math.ceil((until - clock.now()).total_seconds())
    if seconds <= 0:
        return
    minutes = math.ceil(seconds / 60)
    raise RateLimited(
        "Too many failed sign-in attempts have come from your network address. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}; if you share the address with your "
        "office, tell the service desk.",
        code="sign_in_throttled",
        retry_after=seconds,
    )


def sign_in_source_failure(session: Session, *, ip: str | None, settings: Settings) -> None:
    """Count one failed sign-in from ``ip``: one statement (an upsert), so parallel guesses cannot
    lose a count; a window that has ended starts again at one. The caller commits even though the
    request fails."""
    if ip is None:
        return
    now = clock.now()
    cutoff = now - timedelta(minutes=settings.sign_in_window_minutes)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    expired = SignInThrottle.window_started_at < literal(cutoff, UTCDateTime())
    statement = (
        insert(SignInThrottle)
        .values(source_hash=_source(ip), window_started_at=now, failures=1)
        .on_conflict_do_update(
            index_elements=[SignInThrottle.source_hash],
            set_={
                "failures": case((expired, 1), else_=SignInThrottle.failures + 1),
                "window_started_at": case(
                    (expired, literal(now, UTCDateTime())), else_=SignInThrottle.window_started_at
                ),
            },
        )
    )
    session.execute(statement)
    count = session.get(SignInThrottle, _source(ip), populate_existing=True)
    if count is not None and count.failures == settings.sign_in_source_max_failures:
        log.warning("sign-in refused from one network address after %d failures", count.failures)
