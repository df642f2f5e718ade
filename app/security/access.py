"""Record-level access: which children a caller may see, and which cases they may change.

OWASP API #1 is broken object-level authorisation, so every query for a child starts from
``readable_people(principal)`` and every read of a child's record is written to ``access_log``.
A restricted record is invisible (404, existence not disclosed) to anyone not named on it; a manager
may break the glass with a reason, which is logged loudly and grants nothing lasting.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from app.api.pagination import Page, decode_cursor, encode_cursor
from app.audit.service import access_log_append, change_log_append, diff
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models.audit import AccessLog
from app.models.cases import Case
from app.models.org import Role, UserAccount
from app.models.people import Person
from app.models.security import RestrictedAccessGrant
from app.outbox import service as outbox_service
from app.security.principal import Principal

log = logging.getLogger("casework.security")

NOT_VISIBLE = "There is no person with this id that you can see."
BREAK_GLASS_MIN_REASON = 10


def person_visible(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause: not restricted, or restricted and the caller is named on it."""
    granted = exists().where(
        RestrictedAccessGrant.person_id == Person.id,
        RestrictedAccessGrant.user_id == principal.user_id,
    )
    return or_(Person.is_restricted.is_(False), granted)


def readable_people(principal: Principal) -> Select[Person]:
    """The base of every query that returns people to ``principal``."""
    return select(Person).where(person_visible(principal))


def person_denied(
    session: Session, *, principal: Principal, person_id: uuid.UUID, resource: str
) -> NotFound:
    """The 404 for a person the caller may not see. When the person exists (a restricted record),
    the attempt is a security event: it is logged in its own transaction by the error handler, after
    the request's own work has been rolled back."""
    error = NotFound(NOT_VISIBLE)
    if session.get(Person, person_id) is not None:
        error.security_event = {"person_id": person_id, "resource": resource}
        log.warning("denied read of a restricted record by user %s", principal.user_id)
    return error


def get_person_for_read(
    session: Session,
    *,
    principal: Principal,
    person_id: uuid.UUID,
    resource: str,
    case_id: uuid.UUID | None = None,
    action: str = "view",
) -> Person:
    """Load a person the caller may see and record the read (in the same transaction)."""
    person = session.scalar(readable_people(principal).where(Person.id == person_id))
    if person is None:
        raise person_denied(session, principal=principal, person_id=person_id, resource=resource)
    access_log_append(
        session,
        principal=principal,
        action=action,
        resource=resource,
        person_id=person.id,
        case_id=case_id,
    )
    return person


def break_glass_read(
    session: Session, *, principal: Principal, person_id: uuid.UUID, reason: str, resource: str
) -> Person:
    """A manager's emergency read of a record they are not named on: allowed with a reason,
    recorded as ``break_glass`` (what the snooping report looks for), granting nothing lasting."""
    if principal.role not in (Role.team_manager, Role.service_manager):
        raise Forbidden("Only team and service managers may break the glass.")
    if len(reason.strip()) < BREAK_GLASS_MIN_REASON:
        raise Invalid.field(
            "reason", "Say why you need to see this record (at least 10 characters)."
        )
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(NOT_VISIBLE)
    row = access_log_append(
        session,
        principal=principal,
        action="break_glass",
        resource=resource,
        person_id=person.id,
        reason=reason.strip(),
    )
    # The alert: the security alert list reads the access log; a council's security monitoring
    # (a SIEM) subscribed to webhooks hears of it at once, in the same transaction as the read.
    # Ids only: the reason is words about the child.
    outbox_service.publish(
        session,
        event_type=outbox_service.BREAK_GLASS,
        subject_type="person",
        subject_id=person.id,
        case_id=None,
        child_id=person.id,
        data={
            "access_log_id": str(row.id),
            "user_id": str(principal.user_id),
            "user_role": principal.role.value,
        },
    )
    log.warning("BREAK-GLASS read by user %s (request logged in access_log)", principal.user_id)
    return person


def may_change_case(principal: Principal, case: Case) -> bool:
    """Whether ``principal`` may record work on ``case``: its team, its allocated worker, a manager
    of its team, a service manager, or an integration (limited by its token's scopes)."""
    if principal.role in (Role.service_manager, Role.integration_client):
        return True
    if principal.role in (Role.social_worker, Role.mash_officer, Role.team_manager):
        return case.team_id in principal.team_ids or case.allocated_worker_id == principal.user_id
    return False


def require_case_change(principal: Principal, case: Case) -> None:
    if not may_change_case(principal, case):
        raise Forbidden(
            "You can see this case but not change it: it is held by another team. "
            "Ask its team manager to allocate or transfer it."
        )


def access_log_page(
    session: Session, *, person_id: uuid.UUID, cursor: str | None, limit: int
) -> Page[tuple[AccessLog, str | None]]:
    """Who has looked at this child: access-log rows, newest first, each with the display name
    of whoever it was. The caller has already checked (and logged) that it may see the child."""
    return access_log_rows(session, AccessLog.person_id == person_id, cursor=cursor, limit=limit)


def access_log_rows(
    session: Session, *where: ColumnElement[bool], cursor: str | None, limit: int
) -> Page[tuple[AccessLog, str | None]]:
    """Access-log rows matching ``where``, newest first, with the display name of who it was.

    Keyset pagination on (occurred_at, id): many rows share an instant, so the id breaks ties.
    """
    stmt = (
        select(AccessLog, UserAccount.display_name)
        .outerjoin(UserAccount, UserAccount.id == AccessLog.user_id)
        .where(*where)
        .order_by(AccessLog.occurred_at.desc(), AccessLog.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        key = decode_cursor(cursor)
        if (
            len(key) != 2
            or not isinstance(key[0], datetime)
            or key[0].tzinfo is None
            or not isinstance(key[1], uuid.UUID)
        ):
            raise Invalid.field("cursor", "This cursor is not one we gave out; start again.")
        at, row_id = key
        stmt = stmt.where(
            or_(
                AccessLog.occurred_at < at,
                and_(AccessLog.occurred_at == at, AccessLog.id < row_id),
            )
        )
    rows = [(row, name) for row, name in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else None
    return Page(
        items=rows,
        next_cursor=encode_cursor((last.occurred_at, last.id)) if more and last else None,
    )


def _person_for_change(session: Session, *, principal: Principal, person_id: uuid.UUID) -> Person:
    person = session.scalar(readable_people(principal).where(Person.id == person_id))
    if person is None:
        raise person_denied(
            session, principal=principal, person_id=person_id, resource="restricted-access"
        )
    return person


def restricted_access_named(
    session: Session, *, person_id: uuid.UUID
) -> list[tuple[RestrictedAccessGrant, str]]:
    """The users named on a restricted record, with their display names."""
    return [
        (grant, name)
        for grant, name in session.execute(
            select(RestrictedAccessGrant, UserAccount.display_name)
            .join(UserAccount, UserAccount.id == RestrictedAccessGrant.user_id)
            .where(RestrictedAccessGrant.person_id == person_id)
            .order_by(UserAccount.display_name, RestrictedAccessGrant.user_id)
        )
    ]


def person_restrict(
    session: Session, *, principal: Principal, person_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> Person:
    """Restrict a record (if it is not already) and name users who may see it.

    The manager making the change is always named, so restricting a record never hides it from
    the person who restricted it. Anyone not named sees 404 from now on.
    """
    person = _person_for_change(session, principal=principal, person_id=person_id)
    wanted = list(dict.fromkeys([principal.user_id, *user_ids]))
    found = set(
        session.scalars(
            select(UserAccount.id).where(UserAccount.id.in_(wanted), UserAccount.is_active)
        )
    )
    missing = [str(u) for u in wanted if u not in found]
    if missing:
        raise Invalid.field("user_ids", f"There is no active user with the id {missing[0]}.")
    already = set(
        session.scalars(
            select(RestrictedAccessGrant.user_id).where(
                RestrictedAccessGrant.person_id == person.id
            )
        )
    )
    added = [u for u in wanted if u not in already]
    for user_id in added:
        session.add(
            RestrictedAccessGrant(
                person_id=person.id, user_id=user_id, granted_by_id=principal.user_id
            )
        )
    was_restricted = person.is_restricted
    person.is_restricted = True
    session.flush()
    if added or not was_restricted:
        change_log_append(
            session,
            actor=principal,
            entity_type="person",
            entity_id=person.id,
            action="restrict",
            changes=diff({"is_restricted": was_restricted}, {"is_restricted": True})
            | {"named_users_added": added},
        )
    return person


def person_restriction_lift(
    session: Session, *, principal: Principal, person_id: uuid.UUID, user_id: uuid.UUID | None
) -> Person:
    """Remove one named user (``user_id``), or, without one, lift the restriction altogether
    (the named users are removed with it, so that restricting again starts from a clean list).
    A restricted record always names someone: removing the last name is refused."""
    person = _person_for_change(session, principal=principal, person_id=person_id)
    grants = {
        grant.user_id: grant
        for grant in session.scalars(
            select(RestrictedAccessGrant).where(RestrictedAccessGrant.person_id == person.id)
        )
    }
    if user_id is not None:
        if user_id not in grants:
            raise NotFound("This user is not named on the record.")
        if person.is_restricted and len(grants) == 1:
            raise Conflict(
                "A restricted record must name at least one user: name another first, or lift "
                "the restriction."
            )
        session.delete(grants[user_id])
        session.flush()
        change_log_append(
            session,
            actor=principal,
            entity_type="person",
            entity_id=person.id,
            action="restricted_access_revoke",
            changes={"named_users_removed": [user_id]},
        )
        return person
    was_restricted = person.is_restricted
    for grant in grants.values():
        session.delete(grant)
    person.is_restricted = False
    session.flush()
    if was_restricted or grants:
        change_log_append(
            session,
            actor=principal,
            entity_type="person",
            entity_id=person.id,
            action="unrestrict",
            changes=diff({"is_restricted": was_restricted}, {"is_restricted": False})
            | {"named_users_removed": sorted(grants, key=str)},
        )
    return person
