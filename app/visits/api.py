"""JSON API for statutory visits to looked-after children (timescales rules 18-22)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import SessionDep, permission
from app.api.responses import problem_responses
from app.security.principal import Principal
from app.visits import service as visit_service
from app.visits.schemas import (
    NextVisitDue,
    StatutoryVisitCreate,
    StatutoryVisitList,
    StatutoryVisitRead,
)

router = APIRouter(tags=["visits"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _list(session: Session, actor: Principal, child_id: uuid.UUID) -> StatutoryVisitList:
    visits, running = visit_service.visits_list(session, actor=actor, child_id=child_id)
    return StatutoryVisitList(
        items=[StatutoryVisitRead.model_validate(v) for v in visits],
        next_due=NextVisitDue.model_validate(running) if running is not None else None,
    )


@router.post(
    "/children/{child_id}/statutory-visits",
    operation_id="statutory_visit_record",
    status_code=status.HTTP_201_CREATED,
    response_model=StatutoryVisitRead,
    responses=problem_responses(404, 409),
)
def statutory_visit_record(
    child_id: uuid.UUID,
    body: StatutoryVisitCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> StatutoryVisitRead:
    """Record a visit: a visit at which the child was seen meets the visit due and opens the next
    by the rule that applies to the child now (reg 28)."""
    visit = visit_service.visit_record(
        session,
        actor=principal,
        child_id=child_id,
        visit_date=body.visit_date or clock.today(),
        child_seen=body.child_seen,
        seen_alone=body.seen_alone,
        bedroom_seen=body.bedroom_seen,
        is_unannounced=body.is_unannounced,
        visited_by_id=body.visited_by_id,
        visited_by_name=body.visited_by_name,
        notes=body.notes,
    )
    response.headers["Location"] = f"/api/v1/children/{child_id}/statutory-visits"
    return StatutoryVisitRead.model_validate(visit)


@router.get(
    "/children/{child_id}/statutory-visits",
    operation_id="statutory_visit_list",
    response_model=StatutoryVisitList,
    responses=problem_responses(404),
)
def statutory_visit_list(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> StatutoryVisitList:
    """The child's statutory visits, oldest first, and when the next visit is due (and why)."""
    return _list(session, principal, child_id)
