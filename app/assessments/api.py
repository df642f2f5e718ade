"""JSON API for child and family assessments."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.assessments import service as assessment_service
from app.assessments.factors import AssessmentFactor
from app.assessments.schemas import (
    AssessmentAuthorise,
    AssessmentCreate,
    AssessmentRead,
    AssessmentReturn,
    AssessmentUpdate,
    ChildSeenCreate,
    ChildSeenRead,
    FactorRead,
)
from app.cases.schemas import AllowedEvent
from app.models.assessments import Assessment
from app.security.principal import Principal

router = APIRouter(tags=["assessments"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]
Authoriser = Annotated[Principal, Depends(permission("assessment:authorise"))]


def _read(
    session: Session, assessment: Assessment, principal: Principal, response: Response
) -> AssessmentRead:
    response.headers["ETag"] = etag(assessment.version)
    fields = set(AssessmentRead.model_fields) - {"factors", "seen", "allowed_events"}
    read = AssessmentRead.model_validate({name: getattr(assessment, name) for name in fields})
    read.factors = [
        FactorRead(code=code, label=AssessmentFactor(code).label) for code in assessment.factors
    ]
    read.seen = [
        ChildSeenRead.model_validate(s)
        for s in assessment_service.assessment_seen_dates(session, assessment=assessment)
    ]
    read.allowed_events = [
        AllowedEvent(
            event=t.event,
            target=t.target,
            description=t.description,
            requires_reason=t.requires_reason,
            required_fields=list(t.required_fields),
            optional_fields=list(t.optional_fields),
        )
        for t in assessment_service.assessment_allowed_events(
            session, actor=principal, assessment=assessment
        )
    ]
    return read


@router.post(
    "/cases/{case_id}/assessments",
    operation_id="assessment_start",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentRead,
    responses=problem_responses(404, 409),
)
def assessment_start(
    case_id: uuid.UUID,
    body: AssessmentCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> AssessmentRead:
    """Start a child and family assessment on the case; you are its author."""
    assessment = assessment_service.assessment_start(
        session,
        actor=principal,
        case_id=case_id,
        start_date=body.start_date or clock.today(),
        summary_of_needs=body.summary_of_needs,
        analysis=body.analysis,
        child_views=body.child_views,
        factors=body.factors,
    )
    response.headers["Location"] = f"/api/v1/assessments/{assessment.id}"
    return _read(session, assessment, principal, response)


@router.get(
    "/assessments/{assessment_id}",
    operation_id="assessment_get",
    response_model=AssessmentRead,
    responses=problem_responses(404),
)
def assessment_get(
    assessment_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> AssessmentRead:
    """The assessment, the dates the child was seen, its ETag and what you may do next."""
    assessment = assessment_service.assessment_get(
        session, actor=principal, assessment_id=assessment_id
    )
    return _read(session, assessment, principal, response)


@router.patch(
    "/assessments/{assessment_id}",
    operation_id="assessment_save",
    response_model=AssessmentRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def assessment_save(
    assessment_id: uuid.UUID,
    body: AssessmentUpdate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> AssessmentRead:
    """Save the draft (as often as you like). A stale If-Match gets 412 with the current draft
    (`current`, `current_version`) to merge with, and changes nothing."""
    assessment = assessment_service.assessment_save(
        session,
        actor=principal,
        assessment_id=assessment_id,
        expected_version=version,
        changes=body.model_dump(exclude_unset=True),
    )
    return _read(session, assessment, principal, response)


@router.post(
    "/assessments/{assessment_id}/seen",
    operation_id="assessment_child_seen_add",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentRead,
    responses=problem_responses(404, 409),
)
def assessment_child_seen_add(
    assessment_id: uuid.UUID,
    body: ChildSeenCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> AssessmentRead:
    """Record a date the child was seen (and whether alone)."""
    seen = assessment_service.assessment_child_seen_add(
        session,
        actor=principal,
        assessment_id=assessment_id,
        seen_date=body.seen_date,
        seen_alone=body.seen_alone,
        seen_by_id=body.seen_by_id,
    )
    assessment = assessment_service.assessment_get(
        session, actor=principal, assessment_id=seen.assessment_id
    )
    return _read(session, assessment, principal, response)


@router.post(
    "/assessments/{assessment_id}/submit",
    operation_id="assessment_submit",
    response_model=AssessmentRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def assessment_submit(
    assessment_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> AssessmentRead:
    """Submit the assessment for a manager's authorisation."""
    assessment = assessment_service.assessment_submit(
        session, actor=principal, assessment_id=assessment_id, expected_version=version
    )
    return _read(session, assessment, principal, response)


@router.post(
    "/assessments/{assessment_id}/authorise",
    operation_id="assessment_authorise",
    response_model=AssessmentRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def assessment_authorise(
    assessment_id: uuid.UUID,
    body: AssessmentAuthorise,
    session: SessionDep,
    principal: Authoriser,
    version: IfMatch,
    response: Response,
) -> AssessmentRead:
    """Authorise the assessment (not your own) with comments and its outcome; the case moves."""
    assessment = assessment_service.assessment_authorise(
        session,
        actor=principal,
        assessment_id=assessment_id,
        expected_version=version,
        outcome=body.outcome,
        comments=body.comments,
        authorised_date=body.authorised_date,
    )
    return _read(session, assessment, principal, response)


@router.post(
    "/assessments/{assessment_id}/return",
    operation_id="assessment_return",
    response_model=AssessmentRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def assessment_return(
    assessment_id: uuid.UUID,
    body: AssessmentReturn,
    session: SessionDep,
    principal: Authoriser,
    version: IfMatch,
    response: Response,
) -> AssessmentRead:
    """Return the submitted assessment to its author with comments."""
    assessment = assessment_service.assessment_return(
        session,
        actor=principal,
        assessment_id=assessment_id,
        expected_version=version,
        comments=body.comments,
    )
    return _read(session, assessment, principal, response)
