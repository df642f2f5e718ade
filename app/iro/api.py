"""JSON API of the IRO service: allocations, reviews, monitoring contacts, disputes, caseloads,
the IRO's view of every child and review timeliness."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.iro import reviews as review_service
from app.iro import service as iro_service
from app.iro.reviews import ActionIn, Tally
from app.iro.schemas import (
    CaseloadRead,
    ChildOverviewRead,
    CLAReviewActionComplete,
    CLAReviewActionRead,
    CLAReviewCreate,
    CLAReviewList,
    CLAReviewRead,
    CLAReviewStep,
    IROAllocationCreate,
    IROAllocationRead,
    IROContactCreate,
    IROContactRead,
    IRODisputeCreate,
    IRODisputeRead,
    IRODisputeTransition,
    IROTallyRead,
    ReviewDueRead,
    TallyRead,
    TeamTallyRead,
    TimelinessRead,
)
from app.models.iro import CLAReview, IRODispute
from app.security.principal import Principal

router = APIRouter(tags=["iro"])

IroReader = Annotated[Principal, Depends(permission("iro:read"))]
IroWriter = Annotated[Principal, Depends(permission("iro:write"))]
IroAllocator = Annotated[Principal, Depends(permission("iro:allocate"))]
ReviewWriter = Annotated[Principal, Depends(permission("cla_review:write"))]
ActionCompleter = Annotated[Principal, Depends(permission("cla_review_action:complete"))]


def _review(session: Session, review: CLAReview, response: Response | None = None) -> CLAReviewRead:
    if response is not None:
        response.headers["ETag"] = etag(review.version)
    read = CLAReviewRead.model_validate(review)
    read.on_time = None if review.due_date is None else review.review_date <= review.due_date
    read.actions = [
        CLAReviewActionRead.model_validate(a)
        for a in review_service.cla_review_actions(session, review_ids=[review.id])
    ]
    return read


def _dispute(session: Session, dispute: IRODispute, response: Response) -> IRODisputeRead:
    response.headers["ETag"] = etag(dispute.version)
    read = IRODisputeRead.model_validate(dispute)
    read.stage_response_due = iro_service.iro_dispute_stage_due(session, dispute=dispute)
    return read


def _tally(tally: Tally) -> dict[str, object]:
    return {
        "due": tally.due,
        "on_time": tally.on_time,
        "late": tally.late,
        "overdue": tally.overdue,
        "not_yet_due": tally.not_yet_due,
        "percent_on_time": tally.percent_on_time,
    }


# --- allocation, caseloads, the IRO's children -------------------------------------------------


@router.post(
    "/children/{child_id}/iro-allocations",
    operation_id="iro_allocate",
    status_code=status.HTTP_201_CREATED,
    response_model=IROAllocationRead,
    responses=problem_responses(404, 409),
)
def iro_allocate(
    child_id: uuid.UUID, body: IROAllocationCreate, session: SessionDep, principal: IroAllocator
) -> IROAllocationRead:
    """Allocate (or change) the looked-after child's IRO (s.25A; rule 28). Siblings share an IRO
    by default: without iro_id, a looked-after sibling's IRO is taken."""
    allocation = iro_service.iro_allocate(
        session,
        actor=principal,
        child_id=child_id,
        iro_id=body.iro_id,
        start_date=body.start_date,
        reason=body.reason,
    )
    return IROAllocationRead.model_validate(allocation)


@router.get(
    "/children/{child_id}/iro-allocations",
    operation_id="iro_allocations_list",
    response_model=list[IROAllocationRead],
    responses=problem_responses(404),
)
def iro_allocations_list(
    child_id: uuid.UUID, session: SessionDep, principal: IroReader
) -> list[IROAllocationRead]:
    """The child's IRO history, newest first: who, from and to, why."""
    rows = iro_service.iro_allocations(session, actor=principal, child_id=child_id)
    return [IROAllocationRead.model_validate(r) for r in rows]


@router.get(
    "/iro/caseloads",
    operation_id="iro_caseloads",
    response_model=list[CaseloadRead],
    responses=problem_responses(),
)
def iro_caseloads(session: SessionDep, principal: IroReader) -> list[CaseloadRead]:
    """Each active IRO and the number of looked-after children allocated to them now."""
    return [CaseloadRead.model_validate(c) for c in iro_service.iro_caseloads(session)]


@router.get(
    "/iro/children",
    operation_id="iro_children",
    response_model=list[ChildOverviewRead],
    responses=problem_responses(),
)
def iro_children(
    session: SessionDep,
    principal: IroReader,
    iro: Annotated[uuid.UUID | None, Query(description="Default: the caller, for an IRO")] = None,
) -> list[ChildOverviewRead]:
    """The IRO's view of every child allocated to them: next review due, whether the last was on
    time, outstanding recommendations, open disputes."""
    rows = iro_service.iro_children(session, actor=principal, iro_id=iro)
    return [ChildOverviewRead.model_validate(r) for r in rows]


@router.get(
    "/iro/timeliness",
    operation_id="iro_review_timeliness",
    response_model=TimelinessRead,
    responses=problem_responses(),
)
def iro_review_timeliness(
    session: SessionDep,
    principal: IroReader,
    from_date: Annotated[date, Query(alias="from")],
    to_date: Annotated[date, Query(alias="to")],
    iro: uuid.UUID | None = None,
    team: uuid.UUID | None = None,
) -> TimelinessRead:
    """Reviews of looked-after children whose due date falls in [from, to], each on time, late
    (with the reason), overdue or not yet due, and the percentage held within timescale overall,
    per IRO and per team."""
    result = review_service.review_timeliness(
        session, actor=principal, from_date=from_date, to_date=to_date, iro_id=iro, team_id=team
    )
    return TimelinessRead(
        from_date=result.from_date,
        to_date=result.to_date,
        overall=TallyRead.model_validate(_tally(result.overall)),
        by_iro=[
            IROTallyRead.model_validate({"iro_id": k, **_tally(v)})
            for k, v in result.by_iro.items()
        ],
        by_team=[
            TeamTallyRead.model_validate({"team_id": k, **_tally(v)})
            for k, v in result.by_team.items()
        ],
        reviews=[ReviewDueRead.model_validate(r) for r in result.reviews],
    )


# --- reviews -----------------------------------------------------------------------------------


@router.post(
    "/periods-of-care/{period_id}/reviews",
    operation_id="cla_review_record",
    status_code=status.HTTP_201_CREATED,
    response_model=CLAReviewRead,
    responses=problem_responses(404, 409),
)
def cla_review_record(
    period_id: uuid.UUID,
    body: CLAReviewCreate,
    session: SessionDep,
    principal: ReviewWriter,
    response: Response,
) -> CLAReviewRead:
    """Record a looked-after child's review held (reg 33), chaired by the child's IRO; the next
    review is scheduled from its date (rules 16-17)."""
    review = review_service.cla_review_record(
        session,
        actor=principal,
        period_id=period_id,
        review_date=body.review_date,
        chair_id=body.chair_id,
        participation=body.participation,
        lateness_reason=body.lateness_reason,
        notes=body.notes,
        actions=[
            ActionIn(kind=a.kind, text=a.text, owner_id=a.owner_id, due_date=a.due_date)
            for a in body.actions
        ],
    )
    response.headers["Location"] = f"/api/v1/cla-reviews/{review.id}"
    return _review(session, review, response)


@router.get(
    "/periods-of-care/{period_id}/reviews",
    operation_id="cla_reviews_list",
    response_model=CLAReviewList,
    responses=problem_responses(404),
)
def cla_reviews_list(
    period_id: uuid.UUID, session: SessionDep, principal: IroReader
) -> CLAReviewList:
    """The period's reviews, oldest first, and when the next is due."""
    period, rows = review_service.cla_reviews_for_period(
        session, actor=principal, period_id=period_id
    )
    due = review_service.next_review_due(session, period_id=period.id)
    return CLAReviewList(
        period_id=period.id,
        next_review_due=due.due_date if due is not None else None,
        next_review_kind=due.kind.value if due is not None else None,
        reviews=[_review(session, r) for r in rows],
    )


@router.get(
    "/cla-reviews/{review_id}",
    operation_id="cla_review_get",
    response_model=CLAReviewRead,
    responses=problem_responses(404),
)
def cla_review_get(
    review_id: uuid.UUID, session: SessionDep, principal: IroReader, response: Response
) -> CLAReviewRead:
    """The review, its decisions and recommendations, and its ETag."""
    review = review_service.cla_review_get(session, actor=principal, review_id=review_id)
    return _review(session, review, response)


@router.post(
    "/cla-reviews/{review_id}/decisions-circulated",
    operation_id="cla_review_decisions_circulated",
    response_model=CLAReviewRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def cla_review_decisions_circulated(
    review_id: uuid.UUID,
    body: CLAReviewStep,
    session: SessionDep,
    principal: ReviewWriter,
    version: IfMatch,
    response: Response,
) -> CLAReviewRead:
    """The review's decisions were circulated (rule 29: within 5 working days)."""
    review = review_service.cla_review_decisions_circulated(
        session,
        actor=principal,
        review_id=review_id,
        expected_version=version,
        on_date=body.on_date,
    )
    return _review(session, review, response)


@router.post(
    "/cla-reviews/{review_id}/record-completed",
    operation_id="cla_review_record_completed",
    response_model=CLAReviewRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def cla_review_record_completed(
    review_id: uuid.UUID,
    body: CLAReviewStep,
    session: SessionDep,
    principal: ReviewWriter,
    version: IfMatch,
    response: Response,
) -> CLAReviewRead:
    """The review's full record was completed (rule 29: within 20 working days)."""
    review = review_service.cla_review_record_completed(
        session,
        actor=principal,
        review_id=review_id,
        expected_version=version,
        on_date=body.on_date,
    )
    return _review(session, review, response)


@router.post(
    "/cla-review-actions/{action_id}/complete",
    operation_id="cla_review_action_complete",
    response_model=CLAReviewActionRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def cla_review_action_complete(
    action_id: uuid.UUID,
    body: CLAReviewActionComplete,
    session: SessionDep,
    principal: ActionCompleter,
    version: IfMatch,
    response: Response,
) -> CLAReviewActionRead:
    """A review's decision or recommendation was done (by its owner, the case's team or a
    manager); its deadline is met."""
    action = review_service.cla_review_action_complete(
        session,
        actor=principal,
        action_id=action_id,
        expected_version=version,
        completed_date=body.completed_date,
        note=body.note,
    )
    response.headers["ETag"] = etag(action.version)
    return CLAReviewActionRead.model_validate(action)


# --- monitoring contacts -----------------------------------------------------------------------


@router.post(
    "/children/{child_id}/iro-contacts",
    operation_id="iro_contact_record",
    status_code=status.HTTP_201_CREATED,
    response_model=IROContactRead,
    responses=problem_responses(404, 409),
)
def iro_contact_record(
    child_id: uuid.UUID, body: IROContactCreate, session: SessionDep, principal: IroWriter
) -> IROContactRead:
    """Record the IRO's monitoring between reviews: a visit, a call, a file review."""
    contact = iro_service.iro_contact_record(
        session,
        actor=principal,
        child_id=child_id,
        contact_date=body.contact_date,
        kind=body.kind,
        notes=body.notes,
    )
    return IROContactRead.model_validate(contact)


@router.get(
    "/children/{child_id}/iro-contacts",
    operation_id="iro_contacts_list",
    response_model=list[IROContactRead],
    responses=problem_responses(404),
)
def iro_contacts_list(
    child_id: uuid.UUID, session: SessionDep, principal: IroReader
) -> list[IROContactRead]:
    """The IRO's contacts about the child, newest first."""
    rows = iro_service.iro_contacts(session, actor=principal, child_id=child_id)
    return [IROContactRead.model_validate(r) for r in rows]


# --- disputes ----------------------------------------------------------------------------------


@router.post(
    "/children/{child_id}/iro-disputes",
    operation_id="iro_dispute_raise",
    status_code=status.HTTP_201_CREATED,
    response_model=IRODisputeRead,
    responses=problem_responses(404, 409),
)
def iro_dispute_raise(
    child_id: uuid.UUID,
    body: IRODisputeCreate,
    session: SessionDep,
    principal: IroWriter,
    response: Response,
) -> IRODisputeRead:
    """The child's IRO raises a concern about the child's plan (informal resolution first)."""
    dispute = iro_service.iro_dispute_raise(
        session,
        actor=principal,
        child_id=child_id,
        concern=body.concern,
        raised_date=body.raised_date,
    )
    response.headers["Location"] = f"/api/v1/iro-disputes/{dispute.id}"
    return _dispute(session, dispute, response)


@router.get(
    "/iro-disputes/{dispute_id}",
    operation_id="iro_dispute_get",
    response_model=IRODisputeRead,
    responses=problem_responses(404),
)
def iro_dispute_get(
    dispute_id: uuid.UUID, session: SessionDep, principal: IroReader, response: Response
) -> IRODisputeRead:
    """The dispute, its stage and when the stage's answer is due, and its ETag."""
    dispute = iro_service.iro_dispute_get(session, actor=principal, dispute_id=dispute_id)
    return _dispute(session, dispute, response)


@router.post(
    "/iro-disputes/{dispute_id}/transitions",
    operation_id="iro_dispute_transition",
    response_model=IRODisputeRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def iro_dispute_transition(
    dispute_id: uuid.UUID,
    body: IRODisputeTransition,
    session: SessionDep,
    principal: IroWriter,
    version: IfMatch,
    response: Response,
) -> IRODisputeRead:
    """Escalate (IRO), respond (manager), resolve, or refer to Cafcass after the last stage
    (IRO)."""
    dispute = iro_service.iro_dispute_transition(
        session,
        actor=principal,
        dispute_id=dispute_id,
        expected_version=version,
        event=body.event,
        reason=body.reason,
        on_date=body.on_date,
        response=body.response,
    )
    return _dispute(session, dispute, response)
