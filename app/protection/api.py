"""JSON API for child protection: strategy discussions, s47 enquiries, conferences and CP plans."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.models.protection import CPPlan
from app.protection import service as protection_service
from app.protection.schemas import (
    CaseProtectionRead,
    ConferenceRead,
    CoreGroupCreate,
    CoreGroupRead,
    CPPlanRead,
    CPVisitCreate,
    CPVisitRead,
    InitialConferenceCreate,
    ReviewConferenceCreate,
    ReviewConferenceResult,
    S47Conclude,
    S47EnquiryCreate,
    S47EnquiryRead,
    StrategyDiscussionCreate,
    StrategyDiscussionRead,
)
from app.protection.service import CPPlanDetail
from app.security.principal import Principal

router = APIRouter(tags=["protection"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _plan_read(detail: CPPlanDetail) -> CPPlanRead:
    read = CPPlanRead.model_validate(detail.plan)
    read.number_of_previous_cp_plans = detail.number_of_previous_cp_plans
    read.core_groups = [CoreGroupRead.model_validate(c) for c in detail.core_groups]
    read.visits = [CPVisitRead.model_validate(v) for v in detail.visits]
    read.review_conferences = [ConferenceRead.model_validate(c) for c in detail.review_conferences]
    return read


def _plan_etag(plan: CPPlan, response: Response) -> None:
    response.headers["ETag"] = etag(plan.version)


@router.post(
    "/cases/{case_id}/strategy-discussions",
    operation_id="strategy_discussion_record",
    status_code=status.HTTP_201_CREATED,
    response_model=StrategyDiscussionRead,
    responses=problem_responses(404, 409),
)
def strategy_discussion_record(
    case_id: uuid.UUID,
    body: StrategyDiscussionCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> StrategyDiscussionRead:
    """Record a strategy discussion and its decision on a section 47 enquiry."""
    discussion = protection_service.strategy_discussion_record(
        session, actor=principal, case_id=case_id, **dict(body)
    )
    response.headers["ETag"] = etag(discussion.version)
    response.headers["Location"] = f"/api/v1/strategy-discussions/{discussion.id}"
    return StrategyDiscussionRead.model_validate(discussion)


@router.get(
    "/strategy-discussions/{discussion_id}",
    operation_id="strategy_discussion_get",
    response_model=StrategyDiscussionRead,
    responses=problem_responses(404),
)
def strategy_discussion_get(
    discussion_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> StrategyDiscussionRead:
    """A strategy discussion, who took part and what it decided."""
    discussion = protection_service.strategy_discussion_get(
        session, actor=principal, discussion_id=discussion_id
    )
    response.headers["ETag"] = etag(discussion.version)
    return StrategyDiscussionRead.model_validate(discussion)


@router.post(
    "/cases/{case_id}/s47-enquiries",
    operation_id="s47_start",
    status_code=status.HTTP_201_CREATED,
    response_model=S47EnquiryRead,
    responses=problem_responses(404, 409),
)
def s47_start(
    case_id: uuid.UUID,
    body: S47EnquiryCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> S47EnquiryRead:
    """Start the section 47 enquiry a strategy discussion decided on (ICPC due in 15 working
    days)."""
    enquiry = protection_service.s47_start(
        session,
        actor=principal,
        case_id=case_id,
        strategy_discussion_id=body.strategy_discussion_id,
        start_date=body.start_date,
    )
    response.headers["ETag"] = etag(enquiry.version)
    response.headers["Location"] = f"/api/v1/s47-enquiries/{enquiry.id}"
    return S47EnquiryRead.model_validate(enquiry)


@router.get(
    "/s47-enquiries/{s47_id}",
    operation_id="s47_get",
    response_model=S47EnquiryRead,
    responses=problem_responses(404),
)
def s47_get(
    s47_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> S47EnquiryRead:
    """A section 47 enquiry and its ETag."""
    enquiry = protection_service.s47_get(session, actor=principal, s47_id=s47_id)
    response.headers["ETag"] = etag(enquiry.version)
    return S47EnquiryRead.model_validate(enquiry)


@router.post(
    "/s47-enquiries/{s47_id}/conclude",
    operation_id="s47_conclude",
    response_model=S47EnquiryRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def s47_conclude(
    s47_id: uuid.UUID,
    body: S47Conclude,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> S47EnquiryRead:
    """Conclude the enquiry: an initial conference is needed, or not (with the reason)."""
    enquiry = protection_service.s47_conclude(
        session, actor=principal, s47_id=s47_id, expected_version=version, **dict(body)
    )
    response.headers["ETag"] = etag(enquiry.version)
    return S47EnquiryRead.model_validate(enquiry)


@router.post(
    "/s47-enquiries/{s47_id}/conferences",
    operation_id="icpc_record",
    status_code=status.HTTP_201_CREATED,
    response_model=ConferenceRead,
    responses=problem_responses(404, 409),
)
def icpc_record(
    s47_id: uuid.UUID,
    body: InitialConferenceCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> ConferenceRead:
    """Record the initial child protection conference and its decision (a CP plan starts on the
    conference date)."""
    conference, plan = protection_service.icpc_record(
        session, actor=principal, s47_id=s47_id, **dict(body)
    )
    response.headers["ETag"] = etag(conference.version)
    if plan is not None:
        response.headers["Location"] = f"/api/v1/cp-plans/{plan.id}"
    return ConferenceRead.model_validate(conference)


@router.get(
    "/cp-plans/{plan_id}",
    operation_id="cp_plan_get",
    response_model=CPPlanRead,
    responses=problem_responses(404),
)
def cp_plan_get(
    plan_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> CPPlanRead:
    """A CP plan, its core groups, visits and reviews, and the child's number of previous plans."""
    detail = protection_service.cp_plan_get(session, actor=principal, plan_id=plan_id)
    _plan_etag(detail.plan, response)
    return _plan_read(detail)


@router.post(
    "/cp-plans/{plan_id}/core-groups",
    operation_id="core_group_record",
    status_code=status.HTTP_201_CREATED,
    response_model=CoreGroupRead,
    responses=problem_responses(404, 409),
)
def core_group_record(
    plan_id: uuid.UUID, body: CoreGroupCreate, session: SessionDep, principal: CaseWriter
) -> CoreGroupRead:
    """Record a core group meeting (the next is due 6 weeks later)."""
    meeting = protection_service.core_group_record(
        session, actor=principal, plan_id=plan_id, **dict(body)
    )
    return CoreGroupRead.model_validate(meeting)


@router.post(
    "/cp-plans/{plan_id}/visits",
    operation_id="cp_visit_record",
    status_code=status.HTTP_201_CREATED,
    response_model=CPVisitRead,
    responses=problem_responses(404, 409),
)
def cp_visit_record(
    plan_id: uuid.UUID, body: CPVisitCreate, session: SessionDep, principal: CaseWriter
) -> CPVisitRead:
    """Record a visit to the child (seen, seen alone); the next is due 10 working days later."""
    visit = protection_service.cp_visit_record(
        session, actor=principal, plan_id=plan_id, **dict(body)
    )
    return CPVisitRead.model_validate(visit)


@router.post(
    "/cp-plans/{plan_id}/review-conferences",
    operation_id="review_conference_record",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewConferenceResult,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def review_conference_record(
    plan_id: uuid.UUID,
    body: ReviewConferenceCreate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> ReviewConferenceResult:
    """Record a review conference: the plan continues (perhaps with a new category) or ends. The
    ETag is the plan's."""
    conference, plan = protection_service.review_conference_record(
        session, actor=principal, plan_id=plan_id, expected_version=version, **dict(body)
    )
    _plan_etag(plan, response)
    detail = protection_service.cp_plan_detail(session, plan=plan)
    return ReviewConferenceResult(
        conference=ConferenceRead.model_validate(conference), cp_plan=_plan_read(detail)
    )


@router.get(
    "/cases/{case_id}/protection",
    operation_id="case_protection",
    response_model=CaseProtectionRead,
    responses=problem_responses(404),
)
def case_protection(
    case_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> CaseProtectionRead:
    """The case's strategy discussions, section 47 enquiries, conferences and CP plans."""
    found = protection_service.case_protection(session, actor=principal, case_id=case_id)
    return CaseProtectionRead(
        strategy_discussions=[
            StrategyDiscussionRead.model_validate(d) for d in found.strategy_discussions
        ],
        s47_enquiries=[S47EnquiryRead.model_validate(e) for e in found.s47_enquiries],
        conferences=[ConferenceRead.model_validate(c) for c in found.conferences],
        cp_plans=[_plan_read(p) for p in found.cp_plans],
    )
