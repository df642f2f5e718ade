"""Referral schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core_types import PrimaryNeed, ReferralSource
from app.models.deadlines import DeadlineStatus
from app.models.frontdoor import ReferralDecision

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ReferralCreate(BaseModel):
    """A referral made directly to children's social care (not through a MASH contact): a case
    opens and is accepted as a referral at once."""

    model_config = ConfigDict(extra="forbid")

    child_id: uuid.UUID
    team_id: uuid.UUID = Field(description="The team that takes the referral")
    referral_date: date = Field(
        description="The date the referral was received (CIN census CINreferralDate)"
    )
    source: ReferralSource = Field(description="CIN census ReferralSource")
    primary_need: PrimaryNeed = Field(description="CIN census PrimaryNeedCode (N0-N9)")
    summary: str | None = Field(default=None, max_length=4000)
    worker_id: uuid.UUID | None = Field(
        default=None, description="A current member of the team to allocate the case to"
    )


class ReferralDecisionIn(BaseModel):
    """The decision on the type of response (send the referral's ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    decision: ReferralDecision
    reason: Reason


class ReferralRead(BaseModel):
    """A referral: the start of the child's CIN episode and the decision on it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    contact_id: uuid.UUID | None
    referral_date: date
    source: ReferralSource
    primary_need: PrimaryNeed
    is_re_referral: bool = Field(
        description="Another referral of the child was dated within the 12 months before this one"
    )
    previous_referral_id: uuid.UUID | None
    state: str
    decision: ReferralDecision | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by_id: uuid.UUID | None
    version: int
    decision_due_date: date | None = Field(
        default=None, description="Rule 2: the decision is due within 1 working day"
    )
    decision_deadline_status: DeadlineStatus | None = None
