"""JSON API for referrals: made directly, read (with the re-referral flag and the rule-2
deadline), listed per child, and decided."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app import clock
from app.api.deps import IfMatch, SessionDep, SettingsDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.deadlines import service as deadline_service
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate, ReferralDecisionIn, ReferralRead
from app.referrals.service import ReferralView
from app.security.principal import Principal

router = APIRouter(tags=["referrals"])

# A referral is the start of a case's CIN episode: the case permissions govern it.
ReferralReader = Annotated[Principal, Depends(permission("case:read"))]
ReferralWriter = Annotated[Principal, Depends(permission("case:write"))]
Limit = Annotated[int, Query(ge=1, le=200)]


def _shape(view: ReferralView) -> ReferralRead:
    read = ReferralRead.model_validate(view.referral)
    deadline = view.decision_deadline
    if deadline is not None:
        read.decision_due_date = deadline.due_date
        read.decision_deadline_status = deadline_service.deadline_status(
            deadline, clock.today(), now=clock.now()
        )
    return read


def _read(view: ReferralView, response: Response) -> ReferralRead:
    response.headers["ETag"] = etag(view.referral.version)
    return _shape(view)


@router.post(
    "/referrals",
    operation_id="referral_create",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses=problem_responses(404, 409),
)
def referral_create(
    body: ReferralCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReferralWriter,
    response: Response,
) -> ReferralRead:
    """A referral made directly (not through a MASH contact): the child's case opens and is
    accepted as a referral at once; the decision is due within 1 working day."""
    referral = referral_service.referral_create(
        session, actor=principal, data=body, settings=settings
    )
    response.headers["Location"] = f"/api/v1/referrals/{referral.id}"
    return _read(
        referral_service.referral_get(session, actor=principal, referral_id=referral.id), response
    )


@router.get(
    "/referrals",
    operation_id="referral_list",
    response_model=Page[ReferralRead],
    responses=problem_responses(),
)
def referral_list(
    session: SessionDep,
    principal: ReferralReader,
    child_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[ReferralRead]:
    """Referrals of the children you can see, newest first, each with its re-referral flag."""
    views, next_cursor = referral_service.referral_list(
        session,
        actor=principal,
        child_id=child_id,
        team_id=team_id,
        state=state,
        cursor=cursor,
        limit=limit,
    )
    return Page[ReferralRead](items=[_shape(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/referrals/{referral_id}",
    operation_id="referral_get",
    response_model=ReferralRead,
    responses=problem_responses(404),
)
def referral_get(
    referral_id: uuid.UUID, session: SessionDep, principal: ReferralReader, response: Response
) -> ReferralRead:
    """The referral, its decision and its rule-2 deadline (with its ETag)."""
    view = referral_service.referral_get(session, actor=principal, referral_id=referral_id)
    return _read(view, response)


@router.post(
    "/referrals/{referral_id}/decision",
    operation_id="referral_decide",
    response_model=ReferralRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def referral_decide(
    referral_id: uuid.UUID,
    body: ReferralDecisionIn,
    session: SessionDep,
    principal: ReferralWriter,
    version: IfMatch,
    response: Response,
) -> ReferralRead:
    """Decide the type of response: an assessment, a strategy discussion, or no further action
    (which closes the case: CIN census ReferralNFA)."""
    referral_service.referral_decide(
        session,
        actor=principal,
        referral_id=referral_id,
        expected_version=version,
        decision=body.decision,
        reason=body.reason,
    )
    view = referral_service.referral_get(session, actor=principal, referral_id=referral_id)
    return _read(view, response)
