"""JSON API of early help: the step-down at a case's closure, the episode's work (allocation,
assessment, plan, team around the family, closure), the step-up, and the step-up figures."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app import clock
from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.pagination import Page
from app.api.responses import problem_responses
from app.earlyhelp import service
from app.earlyhelp.schemas import (
    EarlyHelpAllocate,
    EarlyHelpAssessment,
    EarlyHelpClose,
    EarlyHelpEpisodeRead,
    EarlyHelpEpisodeSummary,
    EarlyHelpMemberCreate,
    EarlyHelpMemberEnd,
    EarlyHelpMemberRead,
    EarlyHelpPlan,
    EarlyHelpStepDown,
    EarlyHelpStepUp,
    StepUpFiguresRead,
    StepUpRead,
    StepUpReferralRead,
)
from app.models.earlyhelp import EarlyHelpEpisode
from app.security.principal import Principal

router = APIRouter(tags=["earlyhelp"])

Reader = Annotated[Principal, Depends(permission("early_help:read"))]
Writer = Annotated[Principal, Depends(permission("early_help:write"))]
WRITE_PROBLEMS = problem_responses(400, 403, 404, 409, 412, 428)


def _referral(found: service.StepUpReferral | None) -> StepUpReferralRead | None:
    if found is None:
        return None
    return StepUpReferralRead(
        id=found.id, referral_date=found.referral_date, is_re_referral=found.is_re_referral
    )


def _read(view: service.EpisodeView, response: Response) -> EarlyHelpEpisodeRead:
    response.headers["ETag"] = etag(view.episode.version)
    read = EarlyHelpEpisodeRead.model_validate(view.episode)
    read.members = [EarlyHelpMemberRead.model_validate(m) for m in view.members]
    read.step_up_referral = _referral(view.step_up_referral)
    return read


def _answer(
    session: Session, episode: EarlyHelpEpisode, response: Response
) -> EarlyHelpEpisodeRead:
    return _read(service.episode_view(session, episode), response)


@router.post(
    "/cases/{case_id}/early-help",
    operation_id="early_help_step_down",
    status_code=status.HTTP_201_CREATED,
    response_model=EarlyHelpEpisodeRead,
    responses=problem_responses(403, 404, 409),
)
def early_help_step_down(
    case_id: uuid.UUID,
    body: EarlyHelpStepDown,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Step a closed child in need or child protection case down to early help (409 while the
    case is open, or when the child is already in an open episode)."""
    episode = service.early_help_step_down_at_closure(
        session,
        actor=principal,
        case_id=case_id,
        start_date=body.start_date or clock.today(),
        reason=body.reason,
    )
    response.headers["Location"] = f"/api/v1/early-help/{episode.id}"
    return _answer(session, episode, response)


@router.get(
    "/early-help",
    operation_id="early_help_list",
    response_model=Page[EarlyHelpEpisodeSummary],
    responses=problem_responses(),
)
def early_help_list(
    session: SessionDep,
    principal: Reader,
    team_id: uuid.UUID | None = None,
    state: str | None = None,
    child_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[EarlyHelpEpisodeSummary]:
    """Early help episodes, latest start first, filtered by team, state and child."""
    rows, next_cursor = service.early_help_list(
        session,
        actor=principal,
        team_id=team_id,
        state=state,
        child_id=child_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[EarlyHelpEpisodeSummary](
        items=[EarlyHelpEpisodeSummary.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/early-help/step-ups",
    operation_id="early_help_step_ups",
    response_model=StepUpFiguresRead,
    responses=problem_responses(),
)
def early_help_step_ups(
    session: SessionDep,
    principal: Reader,
    period_from: Annotated[date, Query(alias="from")],
    period_to: Annotated[date, Query(alias="to")],
) -> StepUpFiguresRead:
    """Step-ups made in [from, to] (by the day the episode ended stepped up): how many, how many
    became referrals, how many of those were re-referrals (another referral of the child in the 12
    months before), the median days from step-down to step-up, and the episodes behind them."""
    figures = service.step_up_figures(
        session, actor=principal, period_from=period_from, period_to=period_to
    )
    return StepUpFiguresRead(
        period_from=figures.period_from,
        period_to=figures.period_to,
        step_ups=figures.step_ups,
        became_referrals=figures.became_referrals,
        re_referrals=figures.re_referrals,
        median_days_to_step_up=figures.median_days_to_step_up,
        episodes=[
            StepUpRead(
                episode_id=s.episode_id,
                child_id=s.child_id,
                step_down_date=s.step_down_date,
                step_up_date=s.step_up_date,
                days_in_early_help=s.days_in_early_help,
                step_up_case_id=s.step_up_case_id,
                referral=_referral(s.referral),
            )
            for s in figures.episodes
        ],
    )


@router.get(
    "/early-help/{episode_id}",
    operation_id="early_help_get",
    response_model=EarlyHelpEpisodeRead,
    responses=problem_responses(404),
)
def early_help_get(
    episode_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> EarlyHelpEpisodeRead:
    """The episode, its team around the family, its step-up referral (once the MASH has
    accepted the step-up's contact) and its ETag."""
    return _read(service.early_help_get(session, actor=principal, episode_id=episode_id), response)


@router.post(
    "/early-help/{episode_id}/allocation",
    operation_id="early_help_allocate",
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_allocate(
    episode_id: uuid.UUID,
    body: EarlyHelpAllocate,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Allocate the episode to an early help team and a lead professional (a council worker, or
    a named professional in a partner agency)."""
    episode = service.early_help_allocate(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        team_id=body.team_id,
        lead_professional_user_id=body.lead_professional_user_id,
        lead_professional_name=body.lead_professional_name,
        lead_professional_agency=body.lead_professional_agency,
    )
    return _answer(session, episode, response)


@router.post(
    "/early-help/{episode_id}/assessment",
    operation_id="early_help_record_assessment",
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_record_assessment(
    episode_id: uuid.UUID,
    body: EarlyHelpAssessment,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Record the early help assessment (open → assessed)."""
    episode = service.early_help_record_assessment(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        assessment_date=body.assessment_date or clock.today(),
        summary=body.summary,
    )
    return _answer(session, episode, response)


@router.post(
    "/early-help/{episode_id}/plan",
    operation_id="early_help_record_plan",
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_record_plan(
    episode_id: uuid.UUID,
    body: EarlyHelpPlan,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Record the family's early help plan (assessed → plan)."""
    episode = service.early_help_record_plan(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        plan_date=body.plan_date or clock.today(),
        summary=body.summary,
    )
    return _answer(session, episode, response)


@router.post(
    "/early-help/{episode_id}/members",
    operation_id="early_help_member_add",
    status_code=status.HTTP_201_CREATED,
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_member_add(
    episode_id: uuid.UUID,
    body: EarlyHelpMemberCreate,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Add someone to the team around the family (the episode's version moves)."""
    member = service.early_help_member_add(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        name=body.name,
        agency=body.agency,
        role=body.role,
        user_id=body.user_id,
        joined_date=body.joined_date or clock.today(),
    )
    episode = session.get(EarlyHelpEpisode, member.episode_id)
    assert episode is not None
    return _answer(session, episode, response)


@router.post(
    "/early-help/{episode_id}/members/{member_id}/end",
    operation_id="early_help_member_end",
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_member_end(
    episode_id: uuid.UUID,
    member_id: uuid.UUID,
    body: EarlyHelpMemberEnd,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Record that someone left the team around the family (send the episode's ETag)."""
    member = service.early_help_member_end(
        session,
        actor=principal,
        episode_id=episode_id,
        member_id=member_id,
        expected_version=version,
        left_date=body.left_date or clock.today(),
    )
    episode = session.get(EarlyHelpEpisode, member.episode_id)
    assert episode is not None
    return _answer(session, episode, response)


@router.post(
    "/early-help/{episode_id}/close",
    operation_id="early_help_close",
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_close(
    episode_id: uuid.UUID,
    body: EarlyHelpClose,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """End the episode with its outcome (not stepped_up: use the step-up)."""
    episode = service.early_help_close(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        end_date=body.end_date or clock.today(),
        outcome=body.outcome,
        outcome_notes=body.outcome_notes,
    )
    return _answer(session, episode, response)


@router.post(
    "/early-help/{episode_id}/step-up",
    operation_id="early_help_step_up",
    response_model=EarlyHelpEpisodeRead,
    responses=WRITE_PROBLEMS,
)
def early_help_step_up(
    episode_id: uuid.UUID,
    body: EarlyHelpStepUp,
    session: SessionDep,
    principal: Writer,
    version: IfMatch,
    response: Response,
) -> EarlyHelpEpisodeRead:
    """Step the child up to children's social care: a new contact (source 5D) goes to the front
    door, the episode ends stepped_up and names the case the contact sits on."""
    episode = service.early_help_step_up(
        session,
        actor=principal,
        episode_id=episode_id,
        expected_version=version,
        reason=body.reason,
        rag=body.rag,
        consent=body.consent,
        consent_reason=body.consent_reason,
        team_id=body.team_id,
    )
    return _answer(session, episode, response)
