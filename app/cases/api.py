"""JSON API for cases: open, read, move through the workflow, allocate, and the chronology."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app import clock
from app.api.deps import IfMatch, SessionDep, SettingsDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.cases import service as case_service
from app.cases.schemas import (
    AllocationRead,
    AllocationRequest,
    AllowedEvent,
    CaseCreate,
    CaseRead,
    CaseSummary,
    ChronologyEntry,
    SocialWorkerEpisodeRead,
    TransitionRequest,
)
from app.models.cases import Case
from app.security.principal import Principal

router = APIRouter(tags=["cases"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]
CaseAllocator = Annotated[Principal, Depends(permission("case:allocate"))]
Limit = Annotated[int, Query(ge=1, le=200)]


def _read(case: Case, principal: Principal, response: Response) -> CaseRead:
    response.headers["ETag"] = etag(case.version)
    read = CaseRead.model_validate(case)
    read.allowed_events = [
        AllowedEvent(
            event=t.event,
            target=t.target,
            description=t.description,
            requires_reason=t.requires_reason,
            required_fields=list(t.required_fields),
            optional_fields=list(t.optional_fields),
        )
        for t in case_service.case_allowed_events(principal, case)
    ]
    return read


@router.post(
    "/cases",
    operation_id="case_open",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseRead,
    responses=problem_responses(404, 409),
)
def case_open(
    body: CaseCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: CaseWriter,
    response: Response,
) -> CaseRead:
    """A contact about a child: open a case in `contact` and start the decision clock."""
    case = case_service.case_open(
        session,
        actor=principal,
        child_id=body.child_id,
        team_id=body.team_id,
        opened_date=body.opened_date or clock.today(),
        rag=body.rag.value,
        worker_id=body.worker_id,
        summary=body.summary,
        settings=settings,
    )
    response.headers["Location"] = f"/api/v1/cases/{case.id}"
    return _read(case, principal, response)


@router.get(
    "/cases",
    operation_id="case_list",
    response_model=Page[CaseSummary],
    responses=problem_responses(),
)
def case_list(
    session: SessionDep,
    principal: CaseReader,
    child_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    worker_id: uuid.UUID | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[CaseSummary]:
    """Cases of the children you can see, newest first (cursor-paginated)."""
    cases, next_cursor = case_service.case_list(
        session,
        actor=principal,
        child_id=child_id,
        team_id=team_id,
        worker_id=worker_id,
        state=state,
        cursor=cursor,
        limit=limit,
    )
    return Page[CaseSummary](
        items=[CaseSummary.model_validate(c) for c in cases], next_cursor=next_cursor
    )


@router.get(
    "/cases/{case_id}",
    operation_id="case_get",
    response_model=CaseRead,
    responses=problem_responses(404),
)
def case_get(
    case_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> CaseRead:
    """The case, its ETag, and the events you may take next."""
    case = case_service.case_get(session, actor=principal, case_id=case_id)
    return _read(case, principal, response)


@router.post(
    "/cases/{case_id}/transitions",
    operation_id="case_transition",
    response_model=CaseRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_transition(
    case_id: uuid.UUID,
    body: TransitionRequest,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> CaseRead:
    """Take an event on the case (409 lists the events allowed from its state)."""
    case = case_service.case_transition(
        session,
        actor=principal,
        case_id=case_id,
        event=body.event,
        expected_version=version,
        reason=body.reason,
        data=body.data,
    )
    return _read(case, principal, response)


@router.post(
    "/cases/{case_id}/allocation",
    operation_id="case_allocate",
    response_model=CaseRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_allocate(
    case_id: uuid.UUID,
    body: AllocationRequest,
    session: SessionDep,
    principal: CaseAllocator,
    version: IfMatch,
    response: Response,
) -> CaseRead:
    """Allocate or transfer the case to a team and, optionally, one of its workers."""
    case = case_service.case_allocate(
        session,
        actor=principal,
        case_id=case_id,
        expected_version=version,
        team_id=body.team_id,
        worker_id=body.worker_id,
        reason=body.reason,
        sw_reason=body.sw_reason,
    )
    return _read(case, principal, response)


@router.get(
    "/cases/{case_id}/allocations",
    operation_id="case_allocations",
    response_model=list[AllocationRead],
    responses=problem_responses(404),
)
def case_allocations(
    case_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[AllocationRead]:
    """Who held the case when, oldest first."""
    allocations = case_service.case_allocations(session, actor=principal, case_id=case_id)
    return [AllocationRead.model_validate(a) for a in allocations]


@router.get(
    "/children/{child_id}/social-worker-episodes",
    operation_id="child_social_worker_episodes",
    response_model=list[SocialWorkerEpisodeRead],
    responses=problem_responses(404),
)
def child_social_worker_episodes(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> list[SocialWorkerEpisodeRead]:
    """The child's social workers over time with the reason each took over (SSDA903
    SWEpisodes)."""
    episodes = case_service.child_social_worker_episodes(
        session, actor=principal, child_id=child_id
    )
    return [SocialWorkerEpisodeRead.model_validate(e) for e in episodes]


@router.get(
    "/cases/{case_id}/chronology",
    operation_id="case_chronology",
    response_model=Page[ChronologyEntry],
    responses=problem_responses(404),
)
def case_chronology(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: CaseReader,
    action: str | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[ChronologyEntry]:
    """The case's events in order: what happened, who did it, when, and why."""
    events, next_cursor = case_service.case_chronology(
        session,
        actor=principal,
        case_id=case_id,
        action=action,
        date_from=date_from,
        date_to=date_to,
        cursor=cursor,
        limit=limit,
    )
    return Page[ChronologyEntry](
        items=[ChronologyEntry.model_validate(e) for e in events], next_cursor=next_cursor
    )
