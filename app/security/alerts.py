"""Security alerts: every break-glass read and every denied attempt on a child's record.

Breaking the glass is allowed so that a manager can act in an emergency, and it must be seen: the
council's information governance lead (a service manager, or an administrator answering for the
Caldicott Guardian) reviews each one (NHS/DSPT "break-glass" practice; UK GDPR art. 32 "regularly
testing ... the effectiveness of ... measures"). A run of denied attempts is the other thing a
snooping check looks for. Both are already rows of the access log, written in the transaction of
the attempt, so the alert list is a view of the log and cannot miss one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from app.api.pagination import Page
from app.audit.service import access_log_append
from app.models.audit import AccessLog
from app.security.access import access_log_rows
from app.security.principal import Principal

#: The access-log actions that are alerts (see AccessLog.action).
ALERT_ACTIONS = ("break_glass", "denied")


def security_alerts(
    session: Session,
    *,
    principal: Principal,
    kinds: tuple[str, ...] = ALERT_ACTIONS,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[tuple[AccessLog, str | None]]:
    """Break-glass reads and denied attempts, newest first. Each child named on the page is
    recorded as listed (the reasons given for breaking the glass are about the child)."""
    where: list[ColumnElement[bool]] = [AccessLog.action.in_(kinds)]
    if since is not None:
        where.append(AccessLog.occurred_at >= since)
    page = access_log_rows(session, *where, cursor=cursor, limit=limit)
    for person_id in dict.fromkeys(row.person_id for row, _ in page.items if row.person_id):
        access_log_append(
            session,
            principal=principal,
            action="list",
            resource="security-alerts",
            person_id=person_id,
        )
    return page
