"""Teams, the workers in them, and the cases they hold.

Writes record ``change_log`` in the same transaction; ``actor`` is None for the system (demo
data). A case is open while its state is not ``closed``; caseloads count open cases only.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app import calendar, clock
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import access_log_append, change_log_append, diff
from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.cases import Case
from app.models.org import Role, Team, TeamMembership, UserAccount
from app.models.people import Person
from app.org.schemas import (
    MemberRead,
    MembershipCreate,
    MembershipEnd,
    TeamCaseloads,
    TeamCreate,
    TeamUpdate,
    UnallocatedCase,
    UnallocatedChild,
    WorkerCaseload,
    WorkerRead,
    WorkerTeam,
    WorkerUpdate,
)
from app.security.access import person_visible
from app.security.policy import PRACTITIONERS
from app.security.principal import Principal

CLOSED_STATE = "closed"
NO_TEAM = "There is no team with this id."
NO_WORKER = "There is no worker with this id."
BAD_CURSOR = "This cursor is not one we gave out; start again without it."


def case_is_open() -> ColumnElement[bool]:
    return Case.state != CLOSED_STATE


def membership_is_current(today: date) -> ColumnElement[bool]:
    """A membership counts from its start date through its end date (the last day)."""
    return and_(
        TeamMembership.start_date <= today,
        or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
    )


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise PreconditionFailed(
            "Someone else changed this record since you loaded it (you have version "
            f"{expected}, it is now {current}); reload and try again. Nothing was saved."
        )


def _cursor(cursor: str, *types: type) -> tuple[Any, ...]:
    values = decode_cursor(cursor)
    if len(values) != len(types) or not all(
        isinstance(v, t) for v, t in zip(values, types, strict=True)
    ):
        raise Invalid.field("cursor", BAD_CURSOR)
    return values


# --------------------------------------------------------------------------------------------------
# Teams
# --------------------------------------------------------------------------------------------------


def _team_fields(team: Team) -> dict[str, Any]:
    return {"name": team.name, "kind": team.kind, "area": team.area, "is_active": team.is_active}


def _check_team_name(session: Session, name: str, *, exclude_id: uuid.UUID | None = None) -> None:
    stmt = select(Team.id).where(func.lower(Team.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Team.id != exclude_id)
    existing = session.scalar(stmt.limit(1))
    if existing is not None:
        raise Conflict(
            "A team with this name already exists.",
            code="duplicate_team",
            field="name",
            existing_id=str(existing),
        )


def team_get(session: Session, *, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(NO_TEAM)
    return team


def team_create(session: Session, *, actor: Principal | None, data: TeamCreate) -> Team:
    """Create a team; names are unique regardless of case."""
    _check_team_name(session, data.name)
    team = Team(name=data.name, kind=data.kind, area=data.area)
    session.add(team)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="team",
        entity_id=team.id,
        action="create",
        changes=_team_fields(team),
    )
    return team


def team_update(
    session: Session,
    *,
    actor: Principal | None,
    team_id: uuid.UUID,
    expected_version: int | None,
    data: TeamUpdate,
) -> Team:
    """Rename, re-class or (de)activate a team. A team that still holds open cases cannot be
    deactivated: its cases would fall off every manager's worklist."""
    team = team_get(session, team_id=team_id)
    _check_version(team.version, expected_version)
    sent = data.model_dump(exclude_unset=True)
    if "name" in sent and sent["name"] != team.name:
        _check_team_name(session, sent["name"], exclude_id=team.id)
    if sent.get("is_active") is False and team.is_active:
        open_cases = session.scalar(
            select(func.count()).select_from(Case).where(Case.team_id == team.id, case_is_open())
        )
        if open_cases:
            raise Conflict(
                f"This team still holds {open_cases} open case(s): transfer them before "
                "deactivating it.",
                code="team_has_open_cases",
            )
    before = _team_fields(team)
    for field, value in sent.items():
        setattr(team, field, value)
    changes = diff(before, _team_fields(team))
    if changes:
        session.flush()
        change_log_append(
            session,
            actor=actor,
            entity_type="team",
            entity_id=team.id,
            action="update",
            changes=changes,
        )
    return team


def team_list(
    session: Session, *, include_inactive: bool, cursor: str | None, limit: int
) -> tuple[list[Team], str | None]:
    """Teams by name."""
    stmt = select(Team)
    if not include_inactive:
        stmt = stmt.where(Team.is_active.is_(True))
    if cursor is not None:
        name, last_id = _cursor(cursor, str, uuid.UUID)
        stmt = stmt.where(or_(Team.name > name, and_(Team.name == name, Team.id > last_id)))
    rows = list(session.scalars(stmt.order_by(Team.name, Team.id).limit(limit + 1)))
    teams = rows[:limit]
    next_cursor = (
        encode_cursor((teams[-1].name, teams[-1].id)) if len(rows) > limit and teams else None
    )
    return teams, next_cursor


def team_members(
    session: Session, *, team_id: uuid.UUID, current_only: bool = True
) -> list[MemberRead]:
    """The team's members (today's, unless ``current_only`` is False), managers first."""
    stmt = (
        select(TeamMembership, UserAccount)
        .join(UserAccount, UserAccount.id == TeamMembership.user_id)
        .where(TeamMembership.team_id == team_id)
        .order_by(
            TeamMembership.is_manager.desc(), UserAccount.display_name, TeamMembership.start_date
        )
    )
    if current_only:
        stmt = stmt.where(membership_is_current(clock.today()))
    return [_member_read(m, u) for m, u in session.execute(stmt).all()]


def _member_read(membership: TeamMembership, user: UserAccount) -> MemberRead:
    return MemberRead(
        id=membership.id,
        team_id=membership.team_id,
        user_id=user.id,
        display_name=user.display_name,
        role=user.role,
        is_manager=membership.is_manager,
        start_date=membership.start_date,
        end_date=membership.end_date,
    )


# --------------------------------------------------------------------------------------------------
# Memberships
# --------------------------------------------------------------------------------------------------


def _membership_fields(membership: TeamMembership) -> dict[str, Any]:
    return {
        "team_id": membership.team_id,
        "user_id": membership.user_id,
        "is_manager": membership.is_manager,
        "start_date": membership.start_date,
        "end_date": membership.end_date,
    }


def membership_add(
    session: Session, *, actor: Principal | None, team_id: uuid.UUID, data: MembershipCreate
) -> MemberRead:
    """Add a worker to a team (from today unless a start date is given). A worker already in the
    team on that date is refused (409); the team's managers see and allocate its cases."""
    team = team_get(session, team_id=team_id)
    if not team.is_active:
        raise Conflict("This team is no longer active.", code="team_inactive")
    user = session.get(UserAccount, data.user_id)
    if user is None:
        raise Invalid.field("user_id", NO_WORKER)
    if not user.is_active:
        raise Invalid.field("user_id", "This account is disabled.")
    if user.role is Role.integration_client:
        raise Invalid.field("user_id", "An integration client cannot be a member of a team.")
    start = data.start_date or clock.today()
    overlapping = session.scalar(
        select(TeamMembership.id).where(
            TeamMembership.team_id == team.id,
            TeamMembership.user_id == user.id,
            or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= start),
        )
    )
    if overlapping is not None:
        raise Conflict(
            "This worker is already a member of the team on that date.",
            code="already_member",
            existing_id=str(overlapping),
        )
    membership = TeamMembership(
        team_id=team.id, user_id=user.id, is_manager=data.is_manager, start_date=start
    )
    session.add(membership)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="team_membership",
        entity_id=membership.id,
        action="create",
        changes=_membership_fields(membership),
    )
    return _member_read(membership, user)


def membership_end(
    session: Session,
    *,
    actor: Principal | None,
    team_id: uuid.UUID,
    membership_id: uuid.UUID,
    data: MembershipEnd,
) -> MemberRead:
    """End a membership on its last day (today unless given); it stays in the history."""
    membership = session.get(TeamMembership, membership_id)
    if membership is None or membership.team_id != team_id:
        raise NotFound("There is no membership with this id in this team.")
    if membership.end_date is not None:
        raise Conflict(
            f"This membership already ended on {membership.end_date.isoformat()}.",
            code="already_ended",
        )
    end = data.end_date or clock.today()
    if end < membership.start_date:
        raise Invalid.field("end_date", "The end date cannot be before the start date")
    membership.end_date = end
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="team_membership",
        entity_id=membership.id,
        action="end",
        changes={"end_date": {"before": None, "after": end}},
    )
    user = session.get(UserAccount, membership.user_id)
    assert user is not None  # a foreign key
    return _member_read(membership, user)


# --------------------------------------------------------------------------------------------------
# Workers and caseloads
# --------------------------------------------------------------------------------------------------


def _caseloads(
    session: Session, worker_ids: list[uuid.UUID], *, team_id: uuid.UUID | None = None
) -> dict[uuid.UUID, tuple[int, int]]:
    """(open cases allocated, of which in ``team_id``) per worker, in one grouped query."""
    if not worker_ids:
        return {}
    in_team = (
        func.sum(case((Case.team_id == team_id, 1), else_=0))
        if team_id is not None
        else func.count()
    )
    rows = session.execute(
        select(Case.allocated_worker_id, func.count(), in_team)
        .where(Case.allocated_worker_id.in_(worker_ids), case_is_open())
        .group_by(Case.allocated_worker_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}


def worker_list(
    session: Session, *, team_id: uuid.UUID | None, cursor: str | None, limit: int
) -> tuple[list[WorkerRead], str | None]:
    """Practitioners (all, or today's members of one team) by name, with their current teams
    and caseloads: three statements per page."""
    today = clock.today()
    stmt = select(UserAccount).where(
        UserAccount.is_active.is_(True), UserAccount.role.in_(sorted(PRACTITIONERS))
    )
    if team_id is not None:
        team_get(session, team_id=team_id)
        stmt = stmt.where(
            select(TeamMembership.id)
            .where(
                TeamMembership.user_id == UserAccount.id,
                TeamMembership.team_id == team_id,
                membership_is_current(today),
            )
            .exists()
        )
    if cursor is not None:
        name, last_id = _cursor(cursor, str, uuid.UUID)
        stmt = stmt.where(
            or_(
                UserAccount.display_name > name,
                and_(UserAccount.display_name == name, UserAccount.id > last_id),
            )
        )
    rows = list(
        session.scalars(stmt.order_by(UserAccount.display_name, UserAccount.id).limit(limit + 1))
    )
    users = rows[:limit]
    ids = [u.id for u in users]
    teams: dict[uuid.UUID, list[WorkerTeam]] = {}
    if ids:
        memberships = session.execute(
            select(TeamMembership.user_id, Team.id, Team.name, TeamMembership.is_manager)
            .join(Team, Team.id == TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(ids), membership_is_current(today))
            .order_by(Team.name)
        ).all()
        for user_id, tid, tname, is_manager in memberships:
            teams.setdefault(user_id, []).append(
                WorkerTeam(id=tid, name=tname, is_manager=is_manager)
            )
    loads = _caseloads(session, ids)
    workers = [
        WorkerRead(
            id=u.id,
            display_name=u.display_name,
            role=u.role,
            swe_registration_number=u.swe_registration_number,
            teams=teams.get(u.id, []),
            caseload=loads.get(u.id, (0, 0))[0],
            version=u.version,
        )
        for u in users
    ]
    next_cursor = (
        encode_cursor((users[-1].display_name, users[-1].id))
        if len(rows) > limit and users
        else None
    )
    return workers, next_cursor


def worker_update(
    session: Session,
    *,
    actor: Principal | None,
    user_id: uuid.UUID,
    expected_version: int | None,
    data: WorkerUpdate,
) -> UserAccount:
    """Record a worker's Social Work England registration number (SSDA903 SW_ID); each number
    belongs to one worker."""
    user = session.get(UserAccount, user_id)
    if user is None or user.role is Role.integration_client:
        raise NotFound(NO_WORKER)
    _check_version(user.version, expected_version)
    number = data.swe_registration_number
    if number is not None and number != user.swe_registration_number:
        holder = session.scalar(
            select(UserAccount.id).where(
                UserAccount.swe_registration_number == number, UserAccount.id != user.id
            )
        )
        if holder is not None:
            raise Conflict(
                "Another worker already has this Social Work England registration number.",
                code="duplicate_swe_number",
                field="swe_registration_number",
            )
    before = {"swe_registration_number": user.swe_registration_number}
    user.swe_registration_number = number
    changes = diff(before, {"swe_registration_number": number})
    if changes:
        session.flush()
        change_log_append(
            session,
            actor=actor,
            entity_type="user_account",
            entity_id=user.id,
            action="update",
            changes=changes,
        )
    return user


def worker_read(session: Session, *, user: UserAccount) -> WorkerRead:
    today = clock.today()
    rows = session.execute(
        select(Team.id, Team.name, TeamMembership.is_manager)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user.id, membership_is_current(today))
        .order_by(Team.name)
    ).all()
    return WorkerRead(
        id=user.id,
        display_name=user.display_name,
        role=user.role,
        swe_registration_number=user.swe_registration_number,
        teams=[WorkerTeam(id=r[0], name=r[1], is_manager=r[2]) for r in rows],
        caseload=_caseloads(session, [user.id]).get(user.id, (0, 0))[0],
        version=user.version,
    )


def team_caseloads(session: Session, *, team_id: uuid.UUID) -> TeamCaseloads:
    """Each current member's caseload, the team's average (over members who are not its
    managers, who rarely hold cases), and how many of the team's open cases wait for a worker."""
    team = team_get(session, team_id=team_id)
    members = team_members(session, team_id=team.id)
    # One row per worker even if they hold two current memberships (e.g. a manager re-added).
    by_worker: dict[uuid.UUID, MemberRead] = {}
    for member in members:
        known = by_worker.get(member.user_id)
        if known is None or (member.is_manager and not known.is_manager):
            by_worker[member.user_id] = member
    loads = _caseloads(session, list(by_worker), team_id=team.id)
    workers = [
        WorkerCaseload(
            worker_id=m.user_id,
            display_name=m.display_name,
            role=m.role,
            is_manager=m.is_manager,
            caseload=loads.get(m.user_id, (0, 0))[0],
            team_caseload=loads.get(m.user_id, (0, 0))[1],
        )
        for m in by_worker.values()
    ]
    counted = [w.caseload for w in workers if not w.is_manager]
    totals = session.execute(
        select(
            func.count(),
            func.sum(case((Case.allocated_worker_id.is_(None), 1), else_=0)),
        ).where(Case.team_id == team.id, case_is_open())
    ).one()
    return TeamCaseloads(
        team_id=team.id,
        team_name=team.name,
        workers=workers,
        average_caseload=round(sum(counted) / len(counted), 1) if counted else 0.0,
        open_cases=int(totals[0]),
        unallocated_cases=int(totals[1] or 0),
    )


def team_unallocated(
    session: Session,
    *,
    principal: Principal,
    team_id: uuid.UUID,
    cursor: str | None,
    limit: int,
    resource: str,
) -> tuple[list[UnallocatedCase], str | None]:
    """The team's open cases with no allocated worker, the longest waiting first. Restricted
    children appear only to those named on them; each child shown is access-logged."""
    team = team_get(session, team_id=team_id)
    stmt = (
        select(Case, Person)
        .join(Person, Person.id == Case.child_id)
        .where(
            Case.team_id == team.id,
            case_is_open(),
            Case.allocated_worker_id.is_(None),
            person_visible(principal),
        )
    )
    if cursor is not None:
        opened, last_id = _cursor(cursor, date, uuid.UUID)
        stmt = stmt.where(
            or_(
                Case.opened_date > opened,
                and_(Case.opened_date == opened, Case.id > last_id),
            )
        )
    rows = session.execute(stmt.order_by(Case.opened_date, Case.id).limit(limit + 1)).all()
    page = rows[:limit]
    today = clock.today()
    items = []
    for case_row, child in page:
        access_log_append(
            session,
            principal=principal,
            action="list",
            resource=resource,
            person_id=child.id,
            case_id=case_row.id,
        )
        items.append(
            UnallocatedCase(
                case_id=case_row.id,
                state=case_row.state,
                opened_date=case_row.opened_date,
                working_days_waiting=max(
                    0, calendar.working_days_between(case_row.opened_date, today)
                ),
                child=UnallocatedChild(
                    id=child.id,
                    first_name=child.first_name,
                    last_name=child.last_name,
                    date_of_birth=child.date_of_birth,
                    expected_date_of_birth=child.expected_date_of_birth,
                ),
            )
        )
    next_cursor = None
    if len(rows) > limit and page:
        last_case = page[-1][0]
        next_cursor = encode_cursor((last_case.opened_date, last_case.id))
    return items, next_cursor
