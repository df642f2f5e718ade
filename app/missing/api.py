"""JSON API for missing and absent episodes and return home interviews (timescales rule 30)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.orm import Session

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.missing import service as missing_service
from app.missing.schemas import (
    MissingEpisodeCreate,
    MissingEpisodeList,
    MissingEpisodeRead,
    MissingEpisodeReturn,
    ReturnInterviewRecord,
)
from app.models.deadlines import Deadline
from app.models.missing import MissingEpisode
from app.security.principal import Principal

router = APIRouter(tags=["missing episodes"])

CaseReader = Annotated[Principal, Depends(permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(permission("case:write"))]


def _shape(episode: MissingEpisode, deadline: Deadline | None) -> MissingEpisodeRead:
    due_at = deadline.due_at if deadline is not None else None
    offered = episode.interview_offered_at
    return MissingEpisodeRead.model_validate(
        {
            **{
                c: getattr(episode, c)
                for c in MissingEpisodeRead.model_fields
                if hasattr(episode, c)
            },
            "start_date": missing_service.local_date(episode.started_at),
            "end_date": (
                missing_service.local_date(episode.ended_at) if episode.ended_at else None
            ),
            "interview_due_at": due_at,
            "interview_offered_in_time": (
                offered <= due_at if offered is not None and due_at is not None else None
            ),
        }
    )


def _read(session: Session, episode: MissingEpisode, response: Response) -> MissingEpisodeRead:
    response.headers["ETag"] = etag(episode.version)
    deadlines = missing_service.interview_deadlines(session, episode_ids=[episode.id])
    return _shape(episode, deadlines.get(episode.id))


@router.post(
    "/children/{child_id}/missing-episodes",
    operation_id="missing_episode_record",
    status_code=status.HTTP_201_CREATED,
    response_model=MissingEpisodeRead,
    responses=problem_responses(404, 409),
)
def missing_episode_record(
    child_id: uuid.UUID,
    body: MissingEpisodeCreate,
    session: SessionDep,
    principal: CaseWriter,
    response: Response,
) -> MissingEpisodeRead:
    """Record a child going missing or away (and their return, if known)."""
    episode = missing_service.missing_episode_record(
        session,
        actor=principal,
        child_id=child_id,
        kind=body.kind,
        started_at=body.started_at,
        ended_at=body.ended_at,
        notes=body.notes,
    )
    response.headers["Location"] = f"/api/v1/missing-episodes/{episode.id}"
    return _read(session, episode, response)


@router.get(
    "/children/{child_id}/missing-episodes",
    operation_id="missing_episode_list",
    response_model=MissingEpisodeList,
    responses=problem_responses(404),
)
def missing_episode_list(
    child_id: uuid.UUID, session: SessionDep, principal: CaseReader
) -> MissingEpisodeList:
    """The child's missing and absent episodes, oldest first, with their return interviews."""
    episodes = missing_service.missing_episode_list(session, actor=principal, child_id=child_id)
    deadlines = missing_service.interview_deadlines(session, episode_ids=[e.id for e in episodes])
    return MissingEpisodeList(items=[_shape(e, deadlines.get(e.id)) for e in episodes])


@router.get(
    "/missing-episodes/{episode_id}",
    operation_id="missing_episode_get",
    response_model=MissingEpisodeRead,
    responses=problem_responses(404),
)
def missing_episode_get(
    episode_id: uuid.UUID, session: SessionDep, principal: CaseReader, response: Response
) -> MissingEpisodeRead:
    """The episode, its return interview and its ETag."""
    episode = missing_service.missing_episode_get(session, actor=principal, episode_id=episode_id)
    return _read(session, episode, response)


@router.post(
    "/missing-episodes/{episode_id}/return",
    operation_id="missing_episode_return",
    response_model=MissingEpisodeRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def missing_episode_return(
    episode_id: uuid.UUID,
    body: MissingEpisodeReturn,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> MissingEpisodeRead:
    """The child returned: the episode ends and a return home interview is due in 72 hours."""
    episode = missing_service.missing_episode_return(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        ended_at=body.ended_at,
        notes=body.notes,
    )
    return _read(session, episode, response)


@router.put(
    "/missing-episodes/{episode_id}/return-interview",
    operation_id="return_interview_record",
    response_model=MissingEpisodeRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def return_interview_record(
    episode_id: uuid.UUID,
    body: ReturnInterviewRecord,
    session: SessionDep,
    principal: CaseWriter,
    version: IfMatch,
    response: Response,
) -> MissingEpisodeRead:
    """Record the return home interview's offer, the child's answer and when it was held."""
    episode = missing_service.return_interview_record(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        offered_at=body.offered_at,
        response=body.response,
        held_on=body.held_on,
        held_by=body.held_by,
        notes=body.notes,
    )
    return _read(session, episode, response)
