"""JSON API for care leavers: the leaving-care picture, needs assessment, pathway plan and its
reviews, personal adviser, contacts (SSDA903 OC3)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.deadlines.service import deadline_status
from app.leavingcare import service as leaving_care_service
from app.leavingcare.schemas import (
    ContactCreate,
    ContactRead,
    LeavingCareDeadline,
    LeavingCareRead,
    NeedsAssessmentCreate,
    NeedsAssessmentRead,
    Oc3Read,
    PathwayPlanCreate,
    PathwayPlanRead,
    PathwayPlanReviewCreate,
    PathwayPlanReviewRead,
    PathwayPlanUpdate,
    PersonalAdviserAllocate,
    PersonalAdviserRead,
)
from app.models.leavingcare import PathwayPlan
from app.security.principal import Principal

router = APIRouter(tags=["leavingcare"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _view(session: Session, *, actor: Principal, child_id: uuid.UUID) -> LeavingCareRead:
    view = leaving_care_service.leaving_care_get(session, actor=actor, child_id=child_id)
    today = clock.today()
    advisers = [PersonalAdviserRead.model_validate(a) for a in view.advisers]
    plan = None
    if view.plan is not None:
        plan = PathwayPlanRead.model_validate(view.plan)
        plan.next_review_due = leaving_care_service.next_review_due(session, plan=view.plan)
        plan.reviews = [PathwayPlanReviewRead.model_validate(r) for r in view.reviews]
    return LeavingCareRead(
        child_id=view.child.id,
        category=view.found.category,
        reason=view.found.reason,
        rule=view.found.rule,
        eligible_since=view.found.eligible_since,
        days_looked_after_since_14=view.found.days_since_14,
        looked_after_now=view.found.looked_after_now,
        personal_adviser=next((a for a in advisers if a.end_date is None), None),
        personal_adviser_history=advisers,
        needs_assessments=[NeedsAssessmentRead.model_validate(a) for a in view.assessments],
        pathway_plan=plan,
        deadlines=[
            LeavingCareDeadline(
                kind=d.kind,
                rule_id=d.rule_id,
                source=d.source,
                start_date=d.start_date,
                due_date=d.due_date,
                met_date=d.met_date,
                status=deadline_status(d, today),
            )
            for d in view.deadlines
        ],
        contacts=[ContactRead.model_validate(c) for c in view.contacts],
    )


def _plan_read(session: Session, plan: PathwayPlan, response: Response) -> PathwayPlanRead:
    response.headers["ETag"] = etag(plan.version)
    read = PathwayPlanRead.model_validate(plan)
    read.next_review_due = leaving_care_service.next_review_due(session, plan=plan)
    return read


@router.get(
    "/children/{child_id}/leaving-care",
    operation_id="leaving_care_get",
    response_model=LeavingCareRead,
    responses=problem_responses(404),
)
def leaving_care_get(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> LeavingCareRead:
    """The young person's leaving-care category (eligible, relevant, former relevant, qualifying)
    with its reason, derived from the care history, and the leaving-care records."""
    return _view(session, actor=principal, child_id=child_id)


@router.post(
    "/children/{child_id}/leaving-care/needs-assessment",
    operation_id="pathway_needs_assessment_record",
    status_code=status.HTTP_201_CREATED,
    response_model=NeedsAssessmentRead,
    responses=problem_responses(403, 404, 409),
)
def pathway_needs_assessment_record(
    child_id: uuid.UUID, body: NeedsAssessmentCreate, session: SessionDep, principal: CaseWriter
) -> NeedsAssessmentRead:
    """Record the needs assessment for the pathway plan (timescales rule 26)."""
    assessment = leaving_care_service.needs_assessment_record(
        session,
        actor=principal,
        child_id=child_id,
        completed_date=body.completed_date or clock.today(),
        summary=body.summary,
    )
    return NeedsAssessmentRead.model_validate(assessment)


@router.post(
    "/children/{child_id}/leaving-care/pathway-plan",
    operation_id="pathway_plan_create",
    status_code=status.HTTP_201_CREATED,
    response_model=PathwayPlanRead,
    responses=problem_responses(403, 404, 409),
)
def pathway_plan_create(
    child_id: uuid.UUID,
    body: PathwayPlanCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PathwayPlanRead:
    """Prepare the pathway plan; the first review falls due 6 months later (rule 27)."""
    plan = leaving_care_service.pathway_plan_create(
        session,
        actor=principal,
        child_id=child_id,
        plan_date=body.plan_date or clock.today(),
        summary=body.summary,
    )
    return _plan_read(session, plan, response)


@router.patch(
    "/pathway-plans/{plan_id}",
    operation_id="pathway_plan_update",
    response_model=PathwayPlanRead,
    responses=problem_responses(400, 403, 404, 409, 412, 428),
)
def pathway_plan_update(
    plan_id: uuid.UUID,
    body: PathwayPlanUpdate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PathwayPlanRead:
    """Update the pathway plan (send its ETag in If-Match)."""
    plan = leaving_care_service.pathway_plan_update(
        session, actor=principal, plan_id=plan_id, expected_version=version, summary=body.summary
    )
    return _plan_read(session, plan, response)


@router.post(
    "/pathway-plans/{plan_id}/reviews",
    operation_id="pathway_plan_review_add",
    status_code=status.HTTP_201_CREATED,
    response_model=PathwayPlanRead,
    responses=problem_responses(403, 404, 409),
)
def pathway_plan_review_add(
    plan_id: uuid.UUID,
    body: PathwayPlanReviewCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PathwayPlanRead:
    """Record a review of the pathway plan; the next falls due 6 months later (rule 27)."""
    review = leaving_care_service.pathway_plan_review_add(
        session,
        actor=principal,
        plan_id=plan_id,
        review_date=body.review_date or clock.today(),
        notes=body.notes,
    )
    plan = session.get(PathwayPlan, review.plan_id)
    assert plan is not None
    return _plan_read(session, plan, response)


@router.post(
    "/children/{child_id}/leaving-care/personal-adviser",
    operation_id="personal_adviser_allocate",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonalAdviserRead,
    responses=problem_responses(403, 404, 409),
)
def personal_adviser_allocate(
    child_id: uuid.UUID, body: PersonalAdviserAllocate, session: SessionDep, principal: CaseWriter
) -> PersonalAdviserRead:
    """Allocate a personal adviser; the previous allocation ends that day (history kept)."""
    allocation = leaving_care_service.personal_adviser_allocate(
        session,
        actor=principal,
        child_id=child_id,
        adviser_id=body.adviser_id,
        start_date=body.start_date or clock.today(),
        reason=body.reason,
    )
    return PersonalAdviserRead.model_validate(allocation)


@router.post(
    "/children/{child_id}/leaving-care/contacts",
    operation_id="care_leaver_contact_record",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    responses=problem_responses(403, 404, 409),
)
def care_leaver_contact_record(
    child_id: uuid.UUID, body: ContactCreate, session: SessionDep, principal: CaseWriter
) -> ContactRead:
    """Record a contact with a care leaver: in touch, activity, accommodation (SSDA903 OC3)."""
    contact = leaving_care_service.contact_record(
        session,
        actor=principal,
        child_id=child_id,
        contact_date=body.contact_date or clock.today(),
        in_touch=body.in_touch,
        activity=body.activity,
        accommodation=body.accommodation,
        notes=body.notes,
    )
    return ContactRead.model_validate(contact)


@router.get(
    "/children/{child_id}/leaving-care/oc3",
    operation_id="care_leaver_oc3_get",
    response_model=Oc3Read | None,
    responses=problem_responses(404),
)
def care_leaver_oc3_get(
    child_id: uuid.UUID,
    session: SessionDep,
    principal: CaseReader,
    year_end: Annotated[date, Query(description="The 31 March the SSDA903 year ends on")],
) -> Oc3Read | None:
    """The OC3 row the SSDA903 return would carry for this young person and year (null when they
    are not in the OC3 cohort)."""
    row = leaving_care_service.oc3_preview(
        session, actor=principal, child_id=child_id, year_end=year_end
    )
    return None if row is None else Oc3Read.model_validate(row)
