"""JSON API for children in care: periods of care, legal statuses, placements, the SSDA903 episodes
and placement stability."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.care import service as care_service
from app.care.episodes import derive_episodes
from app.care.schemas import (
    EpisodeRead,
    LegalStatusChange,
    LegalStatusRead,
    PeriodOfCareCease,
    PeriodOfCareRead,
    PeriodOfCareStart,
    PlacementChange,
    PlacementCorrection,
    PlacementRead,
    PlacementStabilityRead,
)
from app.config import get_settings
from app.models.care import PeriodOfCare, Placement
from app.models.people import Person
from app.security.principal import Principal

router = APIRouter(tags=["care"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def placement_read(placement: Placement) -> PlacementRead:
    read = PlacementRead.model_validate(placement)
    if placement.placement_la_code is not None:
        read.is_out_of_area = placement.placement_la_code != get_settings().la_code
    return read


def _period_read(session: Session, period: PeriodOfCare) -> PeriodOfCareRead:
    statuses, placements = care_service.period_histories(session, period=period)
    child = session.get(Person, period.child_id)
    assert child is not None
    read = PeriodOfCareRead.model_validate(period)
    read.legal_statuses = [LegalStatusRead.model_validate(s) for s in statuses]
    read.placements = [placement_read(p) for p in placements]
    read.episodes = [
        EpisodeRead.model_validate(e)
        for e in derive_episodes(
            period=period, child=child, legal_statuses=statuses, placements=placements
        )
    ]
    return read


def _answer(session: Session, period: PeriodOfCare, response: Response) -> PeriodOfCareRead:
    response.headers["ETag"] = etag(period.version)
    return _period_read(session, period)


@router.post(
    "/cases/{case_id}/periods-of-care",
    operation_id="period_of_care_start",
    status_code=status.HTTP_201_CREATED,
    response_model=PeriodOfCareRead,
    responses=problem_responses(404, 409),
)
def period_of_care_start(
    case_id: uuid.UUID,
    body: PeriodOfCareStart,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> PeriodOfCareRead:
    """The child starts to be looked after: the period with its first legal status and placement
    (SSDA903 RNE S). The case moves to ``looked_after`` unless it is there already."""
    period = care_service.period_of_care_start(session, actor=principal, case_id=case_id, body=body)
    response.headers["Location"] = f"/api/v1/periods-of-care/{period.id}"
    return _answer(session, period, response)


@router.get(
    "/periods-of-care/{period_id}",
    operation_id="period_of_care_get",
    response_model=PeriodOfCareRead,
    responses=problem_responses(404),
)
def period_of_care_get(
    period_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> PeriodOfCareRead:
    """The period with its legal-status history, placement history and derived episodes."""
    period = care_service.period_get(session, actor=principal, period_id=period_id)
    return _answer(session, period, response)


@router.get(
    "/children/{child_id}/periods-of-care",
    operation_id="child_periods_of_care",
    response_model=list[PeriodOfCareRead],
    responses=problem_responses(404),
)
def child_periods_of_care(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[PeriodOfCareRead]:
    """Every period of care of the child, oldest first."""
    periods = care_service.periods_for_child(session, actor=principal, child_id=child_id)
    return [_period_read(session, p) for p in periods]


@router.post(
    "/periods-of-care/{period_id}/legal-statuses",
    operation_id="legal_status_change",
    status_code=status.HTTP_201_CREATED,
    response_model=PeriodOfCareRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def legal_status_change(
    period_id: uuid.UUID,
    body: LegalStatusChange,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PeriodOfCareRead:
    """A new legal status from a date; the previous one ends that day (a new SSDA903 episode)."""
    period = care_service.legal_status_change(
        session, actor=principal, period_id=period_id, expected_version=version, body=body
    )
    return _answer(session, period, response)


@router.post(
    "/periods-of-care/{period_id}/placements",
    operation_id="placement_change",
    status_code=status.HTTP_201_CREATED,
    response_model=PeriodOfCareRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def placement_change(
    period_id: uuid.UUID,
    body: PlacementChange,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PeriodOfCareRead:
    """The child moves: the current placement ends and the new one starts the same day."""
    placement = care_service.placement_change(
        session, actor=principal, period_id=period_id, expected_version=version, body=body
    )
    period = session.get(PeriodOfCare, placement.period_id)
    assert period is not None
    response.headers["Location"] = f"/api/v1/periods-of-care/{period.id}"
    return _answer(session, period, response)


@router.patch(
    "/placements/{placement_id}",
    operation_id="placement_correct",
    response_model=PlacementRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def placement_correct(
    placement_id: uuid.UUID,
    body: PlacementCorrection,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PlacementRead:
    """Correct a placement's details without a move (send the placement's ETag); audited."""
    placement = care_service.placement_correct(
        session, actor=principal, placement_id=placement_id, expected_version=version, body=body
    )
    session.flush()
    response.headers["ETag"] = etag(placement.version)
    return placement_read(placement)


@router.post(
    "/periods-of-care/{period_id}/cease",
    operation_id="period_of_care_cease",
    response_model=PeriodOfCareRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def period_of_care_cease(
    period_id: uuid.UUID,
    body: PeriodOfCareCease,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> PeriodOfCareRead:
    """Care ceases with its SSDA903 reason; the placement, legal status and clocks end."""
    period = care_service.period_of_care_cease(
        session, actor=principal, period_id=period_id, expected_version=version, body=body
    )
    return _answer(session, period, response)


@router.get(
    "/children/{child_id}/episodes",
    operation_id="child_episodes",
    response_model=list[EpisodeRead],
    responses=problem_responses(404),
)
def child_episodes(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[EpisodeRead]:
    """The child's SSDA903 episodes over every period of care, oldest first (derived)."""
    episodes = care_service.child_episodes(session, actor=principal, child_id=child_id)
    return [EpisodeRead.model_validate(e) for e in episodes]


@router.get(
    "/children/{child_id}/placement-stability",
    operation_id="child_placement_stability",
    response_model=PlacementStabilityRead,
    responses=problem_responses(404),
)
def child_placement_stability(
    child_id: uuid.UUID,
    session: SessionDep,
    principal: CaseReader,
    on: Annotated[date | None, Query(description="The date measured on; default today")] = None,
) -> PlacementStabilityRead:
    """Placements in the last 12 months (3+ flagged) and, for children looked after 2.5+ years,
    whether they have been in the same placement 2+ years. Temporary placements do not count."""
    stability = care_service.child_placement_stability(
        session, actor=principal, child_id=child_id, on=on or clock.today()
    )
    return PlacementStabilityRead.model_validate(stability, from_attributes=True)
