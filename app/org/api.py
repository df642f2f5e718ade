"""JSON API for the organisation: teams, memberships, workers, caseloads and the unallocated
queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.org import service as org_service
from app.org.schemas import (
    MemberRead,
    MembershipCreate,
    MembershipEnd,
    TeamCaseloads,
    TeamCreate,
    TeamDetail,
    TeamRead,
    TeamUpdate,
    UnallocatedCase,
    WorkerRead,
    WorkerUpdate,
)
from app.security.principal import Principal

router = APIRouter(tags=["organisation"])

TeamReader = Annotated[Principal, Depends(permission("team:read"))]
TeamWriter = Annotated[Principal, Depends(permission("team:write"))]
CaseReader = Annotated[Principal, Depends(permission("case:read"))]
Cursor = Annotated[str | None, Query(max_length=500)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _detail(session: SessionDep, team_id: uuid.UUID) -> TeamDetail:
    team = org_service.team_get(session, team_id=team_id)
    members = org_service.team_members(session, team_id=team.id)
    return TeamDetail(**TeamRead.model_validate(team).model_dump(), members=members)


@router.post(
    "/teams", status_code=201, operation_id="team_create", responses=problem_responses(409)
)
def team_create(
    data: TeamCreate, session: SessionDep, principal: TeamWriter, response: Response
) -> TeamRead:
    """Create a team."""
    team = org_service.team_create(session, actor=principal, data=data)
    response.headers["ETag"] = etag(team.version)
    return TeamRead.model_validate(team)


@router.get("/teams", operation_id="team_list", responses=problem_responses())
def team_list(
    session: SessionDep,
    principal: TeamReader,
    include_inactive: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[TeamRead]:
    """Teams by name (active ones unless ``include_inactive``)."""
    teams, next_cursor = org_service.team_list(
        session, include_inactive=include_inactive, cursor=cursor, limit=limit
    )
    return Page[TeamRead](
        items=[TeamRead.model_validate(t) for t in teams], next_cursor=next_cursor
    )


@router.get("/teams/{team_id}", operation_id="team_get", responses=problem_responses(404))
def team_get(
    team_id: uuid.UUID, session: SessionDep, principal: TeamReader, response: Response
) -> TeamDetail:
    """A team with its current members."""
    detail = _detail(session, team_id)
    response.headers["ETag"] = etag(detail.version)
    return detail


@router.patch(
    "/teams/{team_id}",
    operation_id="team_update",
    responses=problem_responses(404, 409, 412, 428),
)
def team_update(
    team_id: uuid.UUID,
    data: TeamUpdate,
    session: SessionDep,
    principal: TeamWriter,
    version: IfMatch,
    response: Response,
) -> TeamDetail:
    """Rename, re-class or (de)activate a team, with If-Match."""
    org_service.team_update(
        session, actor=principal, team_id=team_id, expected_version=version, data=data
    )
    detail = _detail(session, team_id)
    response.headers["ETag"] = etag(detail.version)
    return detail


@router.post(
    "/teams/{team_id}/members",
    status_code=201,
    operation_id="team_member_add",
    responses=problem_responses(404, 409),
)
def team_member_add(
    team_id: uuid.UUID, data: MembershipCreate, session: SessionDep, principal: TeamWriter
) -> MemberRead:
    """Add a worker to the team (as a manager with ``is_manager``)."""
    return org_service.membership_add(session, actor=principal, team_id=team_id, data=data)


@router.post(
    "/teams/{team_id}/members/{membership_id}/end",
    operation_id="team_member_end",
    responses=problem_responses(404, 409),
)
def team_member_end(
    team_id: uuid.UUID,
    membership_id: uuid.UUID,
    session: SessionDep,
    principal: TeamWriter,
    data: Annotated[MembershipEnd | None, Body()] = None,
) -> MemberRead:
    """End a membership (its last day is today unless ``end_date`` is given)."""
    return org_service.membership_end(
        session,
        actor=principal,
        team_id=team_id,
        membership_id=membership_id,
        data=data or MembershipEnd(),
    )


@router.get("/workers", operation_id="worker_list", responses=problem_responses(404))
def worker_list(
    session: SessionDep,
    principal: TeamReader,
    team_id: uuid.UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[WorkerRead]:
    """Workers (all practitioners, or the current members of ``team_id``) with their teams,
    Social Work England number and caseload (open cases allocated to them)."""
    workers, next_cursor = org_service.worker_list(
        session, team_id=team_id, cursor=cursor, limit=limit
    )
    return Page[WorkerRead](items=workers, next_cursor=next_cursor)


@router.patch(
    "/workers/{user_id}",
    operation_id="worker_update",
    responses=problem_responses(404, 409, 412, 428),
)
def worker_update(
    user_id: uuid.UUID,
    data: WorkerUpdate,
    session: SessionDep,
    principal: TeamWriter,
    version: IfMatch,
    response: Response,
) -> WorkerRead:
    """Record a worker's Social Work England registration number, with If-Match."""
    user = org_service.worker_update(
        session, actor=principal, user_id=user_id, expected_version=version, data=data
    )
    response.headers["ETag"] = etag(user.version)
    return org_service.worker_read(session, user=user)


@router.get(
    "/teams/{team_id}/caseloads",
    operation_id="team_caseloads",
    responses=problem_responses(404),
)
def team_caseloads(team_id: uuid.UUID, session: SessionDep, principal: CaseReader) -> TeamCaseloads:
    """Each current member's caseload, the team average and the number of unallocated cases."""
    return org_service.team_caseloads(session, team_id=team_id)


@router.get(
    "/teams/{team_id}/unallocated",
    operation_id="team_unallocated",
    responses=problem_responses(404),
)
def team_unallocated(
    team_id: uuid.UUID,
    session: SessionDep,
    principal: CaseReader,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[UnallocatedCase]:
    """The team's open cases waiting for a worker, the longest waiting first (access-logged)."""
    items, next_cursor = org_service.team_unallocated(
        session,
        principal=principal,
        team_id=team_id,
        cursor=cursor,
        limit=limit,
        resource=request.url.path,
    )
    return Page[UnallocatedCase](items=items, next_cursor=next_cursor)
