"""Record-level access: which children a caller may see, and which cases they may change.

OWASP API #1 is broken object-level authorisation, so every query for a child starts from
``readable_people(principal)`` and every read of a child's record is written to ``access_log``.
A restricted record is invisible (404, existence not disclosed) to anyone not named on it; a manager
may break the glass with a reason, which is logged loudly and grants nothing lasting.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from app.audit.service import access_log_append
from app.errors import Forbidden, Invalid, NotFound
from app.models.cases import Case
from app.models.org import Role
from app.models.people import Person
from app.models.security import RestrictedAccessGrant
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


def readable_people(principal: Principal) -> Select[tuple[Person]]:
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
    access_log_append(
        session,
        principal=principal,
        action="break_glass",
        resource=resource,
        person_id=person.id,
        reason=reason.strip(),
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
