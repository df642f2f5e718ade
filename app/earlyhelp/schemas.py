"""Schemas of early help episodes for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.models.earlyhelp import EarlyHelpOrigin, EarlyHelpOutcome
from app.models.frontdoor import ConsentToShare, RagRating

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EarlyHelpStepDown(BaseModel):
    """A closed social care case stepping down to early help (a CIN or CP case that closes with
    the family's agreement to early help)."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(
        default=None,
        description="The day early help starts (default today; not before the case closed)",
    )
    reason: Reason | None = Field(default=None, description="Why early help, for the chronology")


class EarlyHelpAllocate(BaseModel):
    """The early help team holding the episode and its lead professional: a council worker
    (``lead_professional_user_id``) or someone in a partner agency (name and agency)."""

    model_config = ConfigDict(extra="forbid")

    team_id: uuid.UUID = Field(description="An active early help team")
    lead_professional_user_id: uuid.UUID | None = None
    lead_professional_name: Name | None = None
    lead_professional_agency: Name | None = Field(
        default=None, description="Required with lead_professional_name (e.g. the school)"
    )


class EarlyHelpAssessment(BaseModel):
    """The early help assessment (Annex A list 2)."""

    model_config = ConfigDict(extra="forbid")

    assessment_date: date | None = Field(
        default=None, description="Default today; not before the episode started"
    )
    summary: Text


class EarlyHelpPlan(BaseModel):
    """The family's early help plan."""

    model_config = ConfigDict(extra="forbid")

    plan_date: date | None = Field(
        default=None, description="Default today; not before the assessment"
    )
    summary: Text


class EarlyHelpClose(BaseModel):
    """How the episode ended (for a step-up use ``/step-up``)."""

    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="Default today")
    outcome: EarlyHelpOutcome = Field(description="Not stepped_up: that is the step-up")
    outcome_notes: Text | None = None


class EarlyHelpStepUp(BaseModel):
    """A step-up back to children's social care: a new contact to the front door (source 5D)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="What has changed: the contact's concern")
    rag: RagRating = Field(description="Sets the MASH decision deadline (timescales rule 1)")
    consent: ConsentToShare = Field(
        default=ConsentToShare.given,
        description="given; not_needed or refused need consent_reason (as for any contact)",
    )
    consent_reason: Reason | None = None
    team_id: uuid.UUID | None = Field(
        default=None,
        description="The front door (MASH) team; default the one active front door team",
    )


class EarlyHelpMemberCreate(BaseModel):
    """Someone joining the team around the family."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    agency: Name
    role: Name | None = None
    user_id: uuid.UUID | None = Field(default=None, description="When they are council staff")
    joined_date: date | None = Field(default=None, description="Default today")


class EarlyHelpMemberEnd(BaseModel):
    """Someone leaving the team around the family."""

    model_config = ConfigDict(extra="forbid")

    left_date: date | None = Field(default=None, description="Default today")


class EarlyHelpMemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    agency: str
    role: str | None
    user_id: uuid.UUID | None
    joined_date: date
    left_date: date | None


class StepUpReferralRead(BaseModel):
    """The referral the step-up's contact became, once the MASH accepted it."""

    id: uuid.UUID
    referral_date: date
    is_re_referral: bool


class EarlyHelpEpisodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    origin: EarlyHelpOrigin
    origin_case_id: uuid.UUID
    team_id: uuid.UUID | None
    state: str
    start_date: date
    lead_professional_user_id: uuid.UUID | None
    lead_professional_name: str | None
    lead_professional_agency: str | None
    assessment_date: date | None
    assessment_summary: str | None
    plan_date: date | None
    plan_summary: str | None
    end_date: date | None
    outcome: EarlyHelpOutcome | None
    outcome_notes: str | None
    step_up_case_id: uuid.UUID | None
    step_up_reason: str | None
    step_up_referral: StepUpReferralRead | None = None
    members: list[EarlyHelpMemberRead] = []
    version: int
    created_at: datetime


class EarlyHelpEpisodeSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    origin: EarlyHelpOrigin
    team_id: uuid.UUID | None
    state: str
    start_date: date
    assessment_date: date | None
    end_date: date | None
    outcome: EarlyHelpOutcome | None
    step_up_case_id: uuid.UUID | None
    version: int


class StepUpRead(BaseModel):
    """One step-up in the period: the episode, the child, when early help started and ended, and
    the referral its contact became (null while undecided, or when not accepted)."""

    episode_id: uuid.UUID
    child_id: uuid.UUID
    step_down_date: date
    step_up_date: date
    days_in_early_help: int
    step_up_case_id: uuid.UUID
    referral: StepUpReferralRead | None


class StepUpFiguresRead(BaseModel):
    """Step-ups made in [from, to] (by step-up date): how many became referrals, how many of
    those were re-referrals (the DfE 12-month rule), and the median days from step-down to
    step-up."""

    period_from: date
    period_to: date
    step_ups: int
    became_referrals: int
    re_referrals: int
    median_days_to_step_up: float | None
    episodes: list[StepUpRead]
