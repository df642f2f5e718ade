"""Contact schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.contacts.timescales import WorkingUnit
from app.core_types import PrimaryNeed, ReferralSource
from app.models.frontdoor import (
    ConsentToShare,
    ContactOutcome,
    FeedbackMethod,
    InformationAgency,
    RagRating,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()-]{5,38}$", max_length=40),
]


class ContactCreate(BaseModel):
    """A contact received at the front door about one or more children (siblings together)."""

    model_config = ConfigDict(extra="forbid")

    child_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=20, description="The children the contact is about"
    )
    team_id: uuid.UUID = Field(description="The MASH team that takes the contact")
    received_at: AwareDatetime | None = Field(
        default=None, description="When the contact came in (with its time zone); default now"
    )
    source: ReferralSource = Field(description="Who made the contact (CIN census ReferralSource)")
    referrer_name: Name | None = None
    referrer_role: Name | None = None
    referrer_organisation: Name | None = None
    referrer_phone: Phone | None = None
    referrer_email: EmailStr | None = None
    concern: Text = Field(description="What the referrer is worried about")
    consent: ConsentToShare = Field(
        description="given; not_needed (say why: e.g. seeking it would put the child at risk of "
        "significant harm); refused (say why it is overridden: the child is at risk of "
        "significant harm; not possible on a green contact)"
    )
    consent_reason: Reason | None = Field(
        default=None, description="Required unless consent was given"
    )
    rag: RagRating = Field(description="Sets the decision deadline (timescales rule 1)")
    worker_id: uuid.UUID | None = Field(
        default=None, description="A member of the team to allocate the new cases to"
    )


class ContactDecisionIn(BaseModel):
    """The MASH decision for one child on the contact."""

    model_config = ConfigDict(extra="forbid")

    child_id: uuid.UUID
    decision: ContactOutcome
    reason: Reason
    primary_need: PrimaryNeed | None = Field(
        default=None, description="Required for a referral (CIN census PrimaryNeedCode)"
    )
    referral_date: date | None = Field(
        default=None,
        description="For a referral: the date it was accepted (default today; not before the "
        "contact, not in the future, not after the child's death)",
    )


class ContactDecisions(BaseModel):
    """Decisions for some or all of the contact's children, taken together (all or nothing)."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[ContactDecisionIn] = Field(min_length=1, max_length=20)


class ContactWithdrawal(BaseModel):
    """Withdraw a contact recorded in error."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ContactFeedback(BaseModel):
    """The referrer was told what happened to their contact."""

    model_config = ConfigDict(extra="forbid")

    given_at: AwareDatetime | None = Field(default=None, description="Default now")
    method: FeedbackMethod
    note: Reason | None = None


class InformationRequestCreate(BaseModel):
    """A check with another agency about the contact."""

    model_config = ConfigDict(extra="forbid")

    agency: InformationAgency
    agency_name: Name | None = Field(default=None, description="e.g. the police force or GP")
    question: Text = Field(description="What was asked")
    requested_at: AwareDatetime | None = Field(default=None, description="Default now")


class InformationReply(BaseModel):
    """The agency's reply to an information request."""

    model_config = ConfigDict(extra="forbid")

    summary: Text
    received_at: AwareDatetime | None = Field(default=None, description="Default now")


class TimeLeftRead(BaseModel):
    """Working time left before the decision is due: working hours for a red contact, working
    days for amber and green (0: due today); negative once overdue."""

    unit: WorkingUnit
    amount: float
    is_overdue: bool


class ContactChildRead(BaseModel):
    child_id: uuid.UUID
    first_name: str
    last_name: str
    case_id: uuid.UUID
    has_opened_case: bool = Field(
        description="True when the contact opened this case; false when it joined the child's "
        "open case (the contact goes to its worker)"
    )
    decision: ContactOutcome | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by_id: uuid.UUID | None
    referral_id: uuid.UUID | None


class InformationRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    contact_id: uuid.UUID
    agency: InformationAgency
    agency_name: str | None
    question: str
    requested_at: datetime
    requested_by_id: uuid.UUID | None
    reply_received_at: datetime | None
    reply_summary: str | None
    reply_recorded_by_id: uuid.UUID | None
    version: int


class ContactSummary(BaseModel):
    """A contact in the MASH queue."""

    id: uuid.UUID
    received_at: datetime
    source: ReferralSource
    referrer_organisation: str | None
    rag: RagRating
    consent: ConsentToShare
    team_id: uuid.UUID
    state: str
    due_date: date = Field(description="The decision is due on this date (timescales rule 1)")
    due_at: datetime | None = Field(
        description="For a red contact (working hours), the exact instant (UTC)"
    )
    time_left: TimeLeftRead | None = Field(description="While the contact is open")
    children: list[ContactChildRead]
    version: int


class ContactRead(ContactSummary):
    referrer_name: str | None
    referrer_role: str | None
    referrer_phone: str | None
    referrer_email: str | None
    concern: str
    consent_reason: str | None
    decided_at: datetime | None
    withdrawn_reason: str | None
    recorded_by_id: uuid.UUID | None
    feedback_at: datetime | None
    feedback_method: FeedbackMethod | None
    feedback_by_id: uuid.UUID | None
    feedback_note: str | None
    information_requests: list[InformationRequestRead]
