"""JSON API for permanence: UASC status, motherhood, adoption milestones, special guardianship and
child arrangements orders, previous permanence."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.deps import CurrentPrincipal, IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.errors import BadRequest
from app.permanence import service as permanence_service
from app.permanence.schemas import (
    AdoptionDecisionCreate,
    AdoptionDecisionRead,
    AdoptionDecisionUpdate,
    MotherhoodRead,
    MotherhoodSet,
    PermanenceOrderRead,
    PermanenceOrderSet,
    PermanenceRead,
    PreviousPermanenceRead,
    PreviousPermanenceSet,
    UascRead,
    UascSet,
)
from app.security.principal import Principal

router = APIRouter(tags=["permanence"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def optional_if_match(request: Request, _caller: CurrentPrincipal) -> int | None:
    """The version from ``If-Match`` when sent: a PUT that creates the record needs none, one that
    changes it does (the service answers 428 without it)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise BadRequest('If-Match must be the ETag of the record, e.g. "3".')
    return int(value)


OptionalIfMatch = Annotated[int | None, Depends(optional_if_match)]
WRITE_RESPONSES = problem_responses(400, 403, 404, 409, 412, 428)


@router.get(
    "/children/{child_id}/permanence",
    operation_id="permanence_get",
    response_model=PermanenceRead,
    responses=problem_responses(404),
)
def permanence_get(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> PermanenceRead:
    """The child's UASC status, motherhood, adoption decisions, orders and previous permanence."""
    view = permanence_service.permanence_get(session, actor=principal, child_id=child_id)
    return PermanenceRead(
        child_id=view.child.id,
        uasc=None if view.uasc is None else UascRead.model_validate(view.uasc),
        motherhood=None
        if view.motherhood is None
        else MotherhoodRead.model_validate(view.motherhood),
        adoption_decisions=[
            AdoptionDecisionRead.model_validate(d) for d in view.adoption_decisions
        ],
        orders=[PermanenceOrderRead.model_validate(o) for o in view.orders],
        previous_permanence=[
            PreviousPermanenceRead.model_validate(p) for p in view.previous_permanence
        ],
    )


@router.put(
    "/children/{child_id}/uasc",
    operation_id="uasc_set",
    response_model=UascRead,
    responses=WRITE_RESPONSES,
)
def uasc_set(
    child_id: uuid.UUID,
    body: UascSet,
    session: SessionDep,
    principal: CaseWriter,
    version: OptionalIfMatch,
    response: Response,
) -> UascRead:
    """Record the child's UASC status and when it ceased (If-Match once it exists)."""
    row = permanence_service.uasc_set(
        session,
        actor=principal,
        child_id=child_id,
        expected_version=version,
        since_date=body.since_date,
        ceased_date=body.ceased_date,
        ceased_reason=body.ceased_reason,
    )
    response.headers["ETag"] = etag(row.version)
    return UascRead.model_validate(row)


@router.put(
    "/children/{child_id}/motherhood",
    operation_id="motherhood_set",
    response_model=MotherhoodRead,
    responses=WRITE_RESPONSES,
)
def motherhood_set(
    child_id: uuid.UUID,
    body: MotherhoodSet,
    session: SessionDep,
    principal: CaseWriter,
    version: OptionalIfMatch,
    response: Response,
) -> MotherhoodRead:
    """Record whether the young woman is a mother and her first child's date of birth."""
    row = permanence_service.motherhood_set(
        session,
        actor=principal,
        child_id=child_id,
        expected_version=version,
        is_mother=body.is_mother,
        first_child_birth_date=body.first_child_birth_date,
        is_correction=body.is_correction,
        notes=body.notes,
    )
    response.headers["ETag"] = etag(row.version)
    return MotherhoodRead.model_validate(row)


@router.post(
    "/children/{child_id}/adoption-decisions",
    operation_id="adoption_decision_record",
    status_code=status.HTTP_201_CREATED,
    response_model=AdoptionDecisionRead,
    responses=problem_responses(403, 404, 409),
)
def adoption_decision_record(
    child_id: uuid.UUID,
    body: AdoptionDecisionCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> AdoptionDecisionRead:
    """Record the decision that the child should be placed for adoption."""
    decision = permanence_service.adoption_decision_record(
        session, actor=principal, child_id=child_id, decision_date=body.decision_date
    )
    response.headers["ETag"] = etag(decision.version)
    return AdoptionDecisionRead.model_validate(decision)


@router.patch(
    "/adoption-decisions/{decision_id}",
    operation_id="adoption_decision_update",
    response_model=AdoptionDecisionRead,
    responses=WRITE_RESPONSES,
)
def adoption_decision_update(
    decision_id: uuid.UUID,
    body: AdoptionDecisionUpdate,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> AdoptionDecisionRead:
    """Record adoption milestones, the adopters, or the decision's reversal."""
    decision = permanence_service.adoption_decision_update(
        session,
        actor=principal,
        decision_id=decision_id,
        expected_version=version,
        changes=body.model_dump(exclude_unset=True),
    )
    response.headers["ETag"] = etag(decision.version)
    return AdoptionDecisionRead.model_validate(decision)


@router.put(
    "/periods-of-care/{period_id}/permanence-order",
    operation_id="permanence_order_set",
    response_model=PermanenceOrderRead,
    responses=WRITE_RESPONSES,
)
def permanence_order_set(
    period_id: uuid.UUID,
    body: PermanenceOrderSet,
    session: SessionDep,
    principal: CaseWriter,
    version: OptionalIfMatch,
    response: Response,
) -> PermanenceOrderRead:
    """Record the special guardianship or child arrangements order ending this period of care."""
    row = permanence_service.permanence_order_set(
        session,
        actor=principal,
        period_id=period_id,
        expected_version=version,
        kind=body.kind,
        order_date=body.order_date,
        carer=body.carer,
        carer_is_former_foster_carer=body.carer_is_former_foster_carer,
        carer_name=body.carer_name,
    )
    response.headers["ETag"] = etag(row.version)
    return PermanenceOrderRead.model_validate(row)


@router.put(
    "/periods-of-care/{period_id}/previous-permanence",
    operation_id="previous_permanence_set",
    response_model=PreviousPermanenceRead,
    responses=WRITE_RESPONSES,
)
def previous_permanence_set(
    period_id: uuid.UUID,
    body: PreviousPermanenceSet,
    session: SessionDep,
    principal: CaseWriter,
    version: OptionalIfMatch,
    response: Response,
) -> PreviousPermanenceRead:
    """Record whether the child starting this period of care had a previous permanence option."""
    row = permanence_service.prev_perm_set(
        session,
        actor=principal,
        period_id=period_id,
        expected_version=version,
        prev_perm=body.prev_perm,
        la_perm=body.la_perm,
        date_perm=body.date_perm,
    )
    response.headers["ETag"] = etag(row.version)
    return PreviousPermanenceRead.model_validate(row)
