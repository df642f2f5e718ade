"""JSON API for child in need plans: start, read, review, end."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.cin import service as cin_service
from app.cin.schemas import (
    CINPlanCreate,
    CINPlanEnd,
    CINPlanRead,
    CINPlanReviewCreate,
    CINPlanReviewRead,
)
from app.models.cin import CINPlan
from app.security.principal import Principal

router = APIRouter(tags=["cin plans"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _read(session: Session, plan: CINPlan, response: Response) -> CINPlanRead:
    response.headers["ETag"] = etag(plan.version)
    read = CINPlanRead.model_validate(plan)
    read.next_review_due = cin_service.cin_plan_next_review_due(session, plan=plan)
    read.reviews = [
        CINPlanReviewRead.model_validate(r)
        for r in cin_service.cin_plan_reviews(session, plan=plan)
    ]
    return read


@router.post(
    "/cases/{case_id}/cin-plans",
    operation_id="cin_plan_start",
    status_code=status.HTTP_201_CREATED,
    response_model=CINPlanRead,
    responses=problem_responses(404, 409),
)
def cin_plan_start(
    case_id: uuid.UUID,
    body: CINPlanCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CINPlanRead:
    """Start a CIN plan on the case (one open CIN plan per child, CIN census rule 4004)."""
    plan = cin_service.cin_plan_start(
        session, actor=principal, case_id=case_id, start_date=body.start_date or clock.today()
    )
    response.headers["Location"] = f"/api/v1/cin-plans/{plan.id}"
    return _read(session, plan, response)


@router.get(
    "/cin-plans/{plan_id}",
    operation_id="cin_plan_get",
    response_model=CINPlanRead,
    responses=problem_responses(404),
)
def cin_plan_get(
    plan_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> CINPlanRead:
    """The plan, its reviews, when the next review is due, and its ETag."""
    plan = cin_service.cin_plan_get(session, actor=principal, plan_id=plan_id)
    return _read(session, plan, response)


@router.post(
    "/cin-plans/{plan_id}/reviews",
    operation_id="cin_plan_review_add",
    status_code=status.HTTP_201_CREATED,
    response_model=CINPlanRead,
    responses=problem_responses(404, 409, 412),
)
def cin_plan_review_add(
    plan_id: uuid.UUID,
    body: CINPlanReviewCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> CINPlanRead:
    """Record a review: it meets the review due and the next falls due 3 months later."""
    review = cin_service.cin_plan_review_add(
        session,
        actor=principal,
        plan_id=plan_id,
        review_date=body.review_date or clock.today(),
        outcome=body.outcome,
        notes=body.notes,
    )
    plan = session.get(CINPlan, review.plan_id)
    assert plan is not None
    return _read(session, plan, response)


@router.post(
    "/cin-plans/{plan_id}/end",
    operation_id="cin_plan_end",
    response_model=CINPlanRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def cin_plan_end(
    plan_id: uuid.UUID,
    body: CINPlanEnd,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> CINPlanRead:
    """End the plan with a reason; its review clock stops."""
    plan = cin_service.cin_plan_end(
        session,
        actor=principal,
        plan_id=plan_id,
        expected_version=version,
        end_date=body.end_date or clock.today(),
        reason=body.reason,
    )
    return _read(session, plan, response)
