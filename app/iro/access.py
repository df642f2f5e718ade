"""Who may act in the IRO service on a child's record.

``app.security.access.require_case_change`` is for the case's own team; the IRO is independent of
it (s.25A Children Act 1989) and never passes it. Here instead: the child's allocated IRO, or a
manager — a service manager, a manager of the case's team, or a manager of an IRO team.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.errors import Forbidden
from app.models.cases import Case
from app.models.iro import IROAllocation
from app.models.org import Role, Team, TeamKind, TeamMembership
from app.models.people import Person
from app.security.access import person_denied, readable_people
from app.security.principal import Principal


def require_child_visible(
    session: Session, *, actor: Principal, child_id: uuid.UUID, resource: str
) -> Person:
    """The child, if the caller may see them (404 otherwise, existence not disclosed); for writes,
    which are recorded as case events rather than reads."""
    person = session.scalar(readable_people(actor).where(Person.id == child_id))
    if person is None:
        raise person_denied(session, principal=actor, person_id=child_id, resource=resource)
    return person


def current_allocation(session: Session, *, child_id: uuid.UUID) -> IROAllocation | None:
    """The child's IRO now (the allocation that has not ended)."""
    return session.scalar(
        select(IROAllocation)
        .where(IROAllocation.child_id == child_id, IROAllocation.end_date.is_(None))
        .limit(1)
    )


def allocation_on(session: Session, *, child_id: uuid.UUID, day: date) -> IROAllocation | None:
    """The child's IRO on ``day`` (allocations run from start to end date inclusive)."""
    return session.scalar(
        select(IROAllocation)
        .where(
            IROAllocation.child_id == child_id,
            IROAllocation.start_date <= day,
            or_(IROAllocation.end_date.is_(None), IROAllocation.end_date >= day),
        )
        .limit(1)
    )


def manages_iro_team(session: Session, *, actor: Principal) -> bool:
    if not actor.managed_team_ids:
        return False
    found = session.scalar(
        select(exists().where(Team.id.in_(actor.managed_team_ids), Team.kind == TeamKind.iro))
    )
    return bool(found)


def is_manager_for(session: Session, *, actor: Principal, case: Case) -> bool:
    """A service manager, a manager of the case's team, or a manager of an IRO team."""
    if actor.role is Role.service_manager:
        return True
    if actor.role is not Role.team_manager:
        return False
    return case.team_id in actor.managed_team_ids or manages_iro_team(session, actor=actor)


def require_iro_or_manager(
    session: Session, *, actor: Principal, case: Case, child_id: uuid.UUID
) -> None:
    """403 unless the caller is the child's allocated IRO or a manager (:func:`is_manager_for`)."""
    if actor.role is Role.iro:
        allocation = current_allocation(session, child_id=child_id)
        if allocation is not None and allocation.iro_id == actor.user_id:
            return
        raise Forbidden(
            "You are not this child's IRO: only the allocated IRO (or a manager) may do this.",
            code="not_childs_iro",
        )
    if is_manager_for(session, actor=actor, case=case):
        return
    raise Forbidden(
        "Only the child's IRO, a manager of the case's team, an IRO manager or a service manager "
        "may do this."
    )


def is_team_manager_of(session: Session, *, user_id: uuid.UUID, team_id: uuid.UUID) -> bool:
    """Whether ``user_id`` currently manages ``team_id`` (IRO independence, reg 46(2))."""
    today = clock.today()
    found = session.scalar(
        select(
            exists().where(
                TeamMembership.team_id == team_id,
                TeamMembership.user_id == user_id,
                TeamMembership.is_manager.is_(True),
                TeamMembership.start_date <= today,
                or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
            )
        )
    )
    return bool(found)
