"""JSON API for deadlines: what is due, overdue, met or missed, for the children you can see."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app import clock
from app.api.deps import SessionDep, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.deadlines import service as deadline_service
from app.deadlines.schemas import DeadlineRead
from app.models.deadlines import DeadlineKind, DeadlineStatus
from app.security.principal import Principal

router = APIRouter(tags=["deadlines"])


@router.get(
    "/deadlines",
    operation_id="deadline_list",
    response_model=Page[DeadlineRead],
    responses=problem_responses(),
)
def deadline_list(
    session: SessionDep,
    principal: Annotated[Principal, Depends(permission("deadline:read"))],
    child_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    worker_id: Annotated[
        uuid.UUID | None, Query(description="The worker the deadline's case is allocated to")
    ] = None,
    team_id: Annotated[
        uuid.UUID | None, Query(description="The team that holds the deadline's case")
    ] = None,
    kind: Annotated[list[DeadlineKind] | None, Query()] = None,
    status: DeadlineStatus | None = None,
    due_before: Annotated[date | None, Query(description="Due on or before this date")] = None,
    due_after: Annotated[date | None, Query(description="Due on or after this date")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[DeadlineRead]:
    """Deadlines for the children you can see, soonest due first (cursor-paginated)."""
    deadlines, next_cursor = deadline_service.deadlines_list(
        session,
        actor=principal,
        child_id=child_id,
        case_id=case_id,
        worker_id=worker_id,
        team_id=team_id,
        kinds=kind or (),
        status=status,
        due_before=due_before,
        due_after=due_after,
        cursor=cursor,
        limit=limit,
    )
    today, now = clock.today(), clock.now()
    items = [
        DeadlineRead.model_validate(
            {
                **{f: getattr(d, f) for f in DeadlineRead.model_fields if f != "status"},
                "status": deadline_service.deadline_status(d, today, now=now),
            }
        )
        for d in deadlines
    ]
    return Page[DeadlineRead](items=items, next_cursor=next_cursor)
