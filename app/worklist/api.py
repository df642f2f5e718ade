"""JSON API for the worklist: your open deadlines (or your team's), overdue first."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, permission
from app.api.responses import problem_responses
from app.security.principal import Principal
from app.worklist import service as worklist_service
from app.worklist.schemas import UnallocatedCase, Worklist, WorklistItem

router = APIRouter(tags=["worklist"])

DeadlineReader = Annotated[Principal, Depends(permission("deadline:read"))]


@router.get(
    "/worklist",
    operation_id="worklist_get",
    response_model=Worklist,
    responses=problem_responses(404),
)
def worklist_get(
    session: SessionDep,
    principal: DeadlineReader,
    team: Annotated[uuid.UUID | None, Query(description="A team you manage")] = None,
) -> Worklist:
    """The open deadlines of your cases (or, `team`, your managed team's, with its unallocated
    cases): overdue first, then those due within 10 working days, each naming its rule."""
    result = worklist_service.worklist(session, actor=principal, team_id=team)
    return Worklist(
        today=result.today,
        due_by=result.due_by,
        team_id=result.team_id,
        items=[WorklistItem.model_validate(i, from_attributes=True) for i in result.items],
        unallocated=[
            UnallocatedCase.model_validate(u, from_attributes=True) for u in result.unallocated
        ],
    )
