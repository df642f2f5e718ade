"""JSON API for a looked-after child's plans: care plan, placement plan, permanence plan, PEP.

Each plan is recorded once per period of care (a placement plan once per placement) and then
superseded by new versions (``POST /plans/{id}/versions`` with the plan's ETag in If-Match).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.orm import Session

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.careplans import service as plan_service
from app.careplans.schemas import PlacementPlanCreate, PlanRead, PlanVersionCreate, PlanVersionRead
from app.models.careplans import CLAPlan, CLAPlanVersion, PlanKind
from app.security.principal import Principal

router = APIRouter(tags=["care plans"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _read(plan: CLAPlan, versions: list[CLAPlanVersion]) -> PlanRead:
    read = PlanRead.model_validate(plan)
    history = []
    for version in versions:  # newest first
        item = PlanVersionRead.model_validate(version)
        item.superseded_by = version.number + 1 if version.number < plan.current_number else None
        history.append(item)
    read.history = history
    read.current = next((v for v in history if v.number == plan.current_number), None)
    return read


def _one(session: Session, plan: CLAPlan, response: Response) -> PlanRead:
    response.headers["ETag"] = etag(plan.version)
    versions = plan_service.plan_versions(session, plan_ids=[plan.id])[plan.id]
    return _read(plan, versions)


def _record(
    session: Session,
    principal: Principal,
    response: Response,
    period_id: uuid.UUID,
    kind: PlanKind,
    body: PlanVersionCreate,
) -> PlanRead:
    plan = plan_service.plan_record(
        session, actor=principal, period_id=period_id, kind=kind, body=body
    )
    response.headers["Location"] = f"/api/v1/plans/{plan.id}"
    return _one(session, plan, response)


@router.post(
    "/periods-of-care/{period_id}/care-plans",
    operation_id="care_plan_record",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(404, 409),
)
def care_plan_record(
    period_id: uuid.UUID,
    body: PlanVersionCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PlanRead:
    """Record the care plan (reg 4; due 10 working days after the first placement, rule 13)."""
    return _record(session, principal, response, period_id, PlanKind.care_plan, body)


@router.post(
    "/periods-of-care/{period_id}/placement-plans",
    operation_id="placement_plan_record",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(404, 409),
)
def placement_plan_record(
    period_id: uuid.UUID,
    body: PlacementPlanCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PlanRead:
    """Record the placement plan of a placement (reg 9; due within 5 working days, rule 14)."""
    return _record(session, principal, response, period_id, PlanKind.placement_plan, body)


@router.post(
    "/periods-of-care/{period_id}/permanence-plans",
    operation_id="permanence_plan_record",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(404, 409),
)
def permanence_plan_record(
    period_id: uuid.UUID,
    body: PlanVersionCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PlanRead:
    """Record the permanence plan and its option (due by the second review, rule 16P)."""
    return _record(session, principal, response, period_id, PlanKind.permanence_plan, body)


@router.post(
    "/periods-of-care/{period_id}/peps",
    operation_id="pep_record",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(404, 409),
)
def pep_record(
    period_id: uuid.UUID,
    body: PlanVersionCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PlanRead:
    """Record the personal education plan (due by the first review, then each term, rule 25)."""
    return _record(session, principal, response, period_id, PlanKind.pep, body)


@router.post(
    "/plans/{plan_id}/versions",
    operation_id="plan_version_add",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def plan_version_add(
    plan_id: uuid.UUID,
    body: PlanVersionCreate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PlanRead:
    """A new version of the plan that supersedes the current one (a PEP review meets the PEP
    review due and opens the next, rule 25)."""
    plan = plan_service.plan_revise(
        session, actor=principal, plan_id=plan_id, expected_version=version, body=body
    )
    return _one(session, plan, response)


@router.get(
    "/plans/{plan_id}",
    operation_id="plan_get",
    response_model=PlanRead,
    responses=problem_responses(404),
)
def plan_get(
    plan_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> PlanRead:
    """The plan, its current version and its history, with its ETag."""
    plan = plan_service.plan_get(session, actor=principal, plan_id=plan_id)
    return _one(session, plan, response)


@router.get(
    "/periods-of-care/{period_id}/plans",
    operation_id="plans_of_period",
    response_model=list[PlanRead],
    responses=problem_responses(404),
)
def plans_of_period(
    period_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[PlanRead]:
    """Every plan of the period of care (all kinds), the latest first, each with its history."""
    plans = plan_service.plans_of_period(session, actor=principal, period_id=period_id)
    history = plan_service.plan_versions(session, plan_ids=[p.id for p in plans])
    return [_read(plan, history[plan.id]) for plan in plans]
