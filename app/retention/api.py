"""JSON API of retention: legal holds, the records due for disposal, and the disposal job."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app import clock
from app.api.deps import IfMatch, SessionDep, SettingsDep, etag, permission
from app.api.responses import problem_responses
from app.models.retention import LegalHold
from app.retention import service
from app.retention.disposal import dispose_due
from app.retention.schemas import (
    DisposalRunCreate,
    DisposalRunRead,
    DueRecordRead,
    DueRecordsRead,
    LegalHoldCreate,
    LegalHoldLift,
    LegalHoldRead,
)
from app.security.principal import Principal

router = APIRouter(tags=["retention"])

RecordsManager = Annotated[Principal, Depends(permission("retention:manage"))]


def _read(hold: LegalHold, response: Response) -> LegalHoldRead:
    response.headers["ETag"] = etag(hold.version)
    return LegalHoldRead.model_validate(hold)


@router.post(
    "/people/{person_id}/legal-holds",
    operation_id="legal_hold_place",
    status_code=status.HTTP_201_CREATED,
    response_model=LegalHoldRead,
    responses=problem_responses(403, 404),
)
def legal_hold_place(
    person_id: uuid.UUID,
    body: LegalHoldCreate,
    session: SessionDep,
    principal: RecordsManager,
    response: Response,
) -> LegalHoldRead:
    """Place a legal hold on the person's record (litigation, an inquiry, a police
    investigation): the disposal job leaves it whole until the hold is lifted."""
    hold = service.hold_place(
        session, actor=principal, person_id=person_id, reason=body.reason, reference=body.reference
    )
    response.headers["Location"] = f"/api/v1/legal-holds/{hold.id}"
    return _read(hold, response)


@router.get(
    "/people/{person_id}/legal-holds",
    operation_id="legal_holds_for_person",
    response_model=list[LegalHoldRead],
    responses=problem_responses(403, 404),
)
def legal_holds_for_person(
    person_id: uuid.UUID, session: SessionDep, principal: RecordsManager
) -> list[LegalHoldRead]:
    """The person's legal holds, in place and lifted, oldest first."""
    holds = service.holds_for_person(session, actor=principal, person_id=person_id)
    return [LegalHoldRead.model_validate(h) for h in holds]


@router.post(
    "/legal-holds/{hold_id}/lift",
    operation_id="legal_hold_lift",
    response_model=LegalHoldRead,
    responses=problem_responses(403, 404, 409, 412, 428),
)
def legal_hold_lift(
    hold_id: uuid.UUID,
    body: LegalHoldLift,
    session: SessionDep,
    principal: RecordsManager,
    expected_version: IfMatch,
    response: Response,
) -> LegalHoldRead:
    """Lift a legal hold, with the reason (send its ETag in If-Match): the record's disposal date
    applies again."""
    hold = service.hold_lift(
        session,
        actor=principal,
        hold_id=hold_id,
        expected_version=expected_version,
        reason=body.reason,
    )
    return _read(hold, response)


@router.get(
    "/retention/due",
    operation_id="retention_due",
    response_model=DueRecordsRead,
    responses=problem_responses(403),
)
def retention_due(
    session: SessionDep,
    settings: SettingsDep,
    principal: RecordsManager,
    as_of: date | None = None,
) -> DueRecordsRead:
    """The records whose disposal date is on or before ``as_of`` (default today): ids, the rule
    that set the date and whether a legal hold stops it. No names."""
    day = as_of or clock.today()
    rows = service.records_due(session, settings=settings, as_of=day)
    return DueRecordsRead(
        as_of=day,
        count=len(rows),
        items=[
            DueRecordRead(
                person_id=r.person_id, rule=r.rule, disposal_due=r.disposal_due, held=r.held
            )
            for r in rows
        ],
    )


@router.post(
    "/retention/disposals",
    operation_id="retention_dispose",
    response_model=DisposalRunRead,
    responses=problem_responses(403),
)
def retention_dispose(
    body: DisposalRunCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: RecordsManager,
) -> DisposalRunRead:
    """Run the disposal job now (the same job as ``casework retention dispose``): every record due
    and not held is destroyed, one person per transaction, and the summary returned. Running it
    again disposes of nothing."""
    # The request's own transaction ends here: the job's transactions are its own, one per person.
    session.commit()
    summary = dispose_due(
        request.app.state.session_factory,
        settings=settings,
        as_of=body.as_of,
        dry_run=body.dry_run,
        actor=principal,
    )
    return DisposalRunRead(
        run_id=summary.run_id,
        as_of=summary.as_of,
        dry_run=summary.dry_run,
        disposed=summary.disposed,
        held=summary.held,
        failed=summary.failed,
        would_dispose=summary.would_dispose,
    )
