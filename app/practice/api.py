"""JSON API of practice: the practice measures of the scorecard (issue 6, part 5)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, permission
from app.api.responses import problem_responses
from app.practice import measures
from app.practice.schemas import PracticeMeasuresRead, practice_measures_read
from app.security.principal import Principal

router = APIRouter(tags=["practice"])


@router.get(
    "/practice/measures",
    operation_id="practice_measures",
    response_model=PracticeMeasuresRead,
    responses=problem_responses(404),
)
def practice_measures(
    session: SessionDep,
    _principal: Annotated[Principal, Depends(permission("practice:read"))],
    month: Annotated[
        str | None, Query(description="YYYY-MM (default this month)", max_length=7)
    ] = None,
    team_id: Annotated[uuid.UUID | None, Query(description="Only this team")] = None,
) -> PracticeMeasuresRead:
    """Management oversight and supervision in time, audit grades and audit actions overdue, for
    each team and the council, with the twelve months' trend to the month. Names no child."""
    first = measures.month_parse(month)
    found = measures.practice_measures(session, month=first, team_id=team_id)
    return practice_measures_read(found)
