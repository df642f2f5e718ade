"""Legal planning schemas for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.legal import (
    ApplicationKind,
    FinalOrder,
    GatewayDecision,
    HearingType,
    InterimOrderKind,
    PreProceedingsOutcome,
)

Attendees = list[str]


class GatewayMeetingCreate(BaseModel):
    """The legal gateway / legal planning meeting's decision. ``enter_pre_proceedings`` opens
    pre-proceedings on the case, with their review clock (timescales rule 35)."""

    model_config = ConfigDict(extra="forbid")

    meeting_date: date | None = Field(default=None, description="Default today")
    decision: GatewayDecision
    reasons: str = Field(min_length=1, max_length=20000)
    attendees: Attendees = Field(default_factory=list, max_length=50)


class GatewayMeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    meeting_date: date
    decision: GatewayDecision
    reasons: str
    attendees: Attendees
    recorded_by_id: uuid.UUID
    created_at: datetime
    pre_proceedings_id: uuid.UUID | None = Field(
        default=None, description="The pre-proceedings this decision opened, if any"
    )


class PreProceedingsUpdate(BaseModel):
    """Letter before proceedings and family group conference dates (send the ETag in If-Match).
    Fields left out are unchanged."""

    model_config = ConfigDict(extra="forbid")

    letter_sent_date: date | None = None
    fgc_offered_date: date | None = None
    fgc_held_date: date | None = None


class PreProceedingsMeetingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_date: date | None = Field(default=None, description="Default today")
    attendees: Attendees = Field(min_length=1, max_length=50)
    notes: str | None = Field(default=None, max_length=20000)


class PreProceedingsMeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    meeting_date: date
    attendees: Attendees
    notes: str | None
    recorded_by_id: uuid.UUID


class PreProceedingsOutcomeCreate(BaseModel):
    """The review's outcome (send the ETag in If-Match): ``continued`` keeps them open for another
    review period; ``stepped_down`` and ``proceedings_issued`` conclude them."""

    model_config = ConfigDict(extra="forbid")

    outcome: PreProceedingsOutcome
    outcome_date: date | None = Field(default=None, description="Default today")
    reason: str = Field(min_length=1, max_length=4000)


class PreProceedingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    gateway_meeting_id: uuid.UUID
    state: str
    decision_date: date
    letter_sent_date: date | None
    fgc_offered_date: date | None
    fgc_held_date: date | None
    last_review_date: date | None
    outcome: PreProceedingsOutcome | None
    outcome_date: date | None
    version: int
    review_due: date | None = Field(
        default=None, description="When the next review is due (timescales rule 35)"
    )
    meetings: list[PreProceedingsMeetingRead] = Field(default_factory=list)


class CareProceedingsCreate(BaseModel):
    """An application issued by the court (Children Act 1989 s.31)."""

    model_config = ConfigDict(extra="forbid")

    application_kind: ApplicationKind
    application_date: date = Field(description="The day the court issued the application")
    court: str = Field(min_length=1, max_length=200)
    court_case_number: str | None = Field(default=None, max_length=40)
    pre_proceedings_id: uuid.UUID | None = Field(
        default=None, description="The pre-proceedings that led to it, if any"
    )


class HearingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hearing_date: date
    hearing_type: HearingType
    outcome: str | None = Field(default=None, max_length=20000)


class HearingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    hearing_date: date
    hearing_type: HearingType
    outcome: str | None
    recorded_by_id: uuid.UUID


class InterimOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_kind: InterimOrderKind
    made_date: date
    notes: str | None = Field(default=None, max_length=4000)


class InterimOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_kind: InterimOrderKind
    made_date: date
    notes: str | None


class ExtensionCreate(BaseModel):
    """An extension granted by the court (send the ETag in If-Match). The weeks are checked by
    the service, so that more than 8 is refused naming s.32(7)."""

    model_config = ConfigDict(extra="forbid")

    granted_date: date
    weeks: int = Field(ge=1, le=52)
    reason: str = Field(min_length=1, max_length=4000)


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    granted_date: date
    weeks: int
    reason: str
    previous_time_limit_date: date
    new_time_limit_date: date


class FinalOrderCreate(BaseModel):
    """The final order (send the ETag in If-Match); ``withdrawn`` needs a reason."""

    model_config = ConfigDict(extra="forbid")

    final_order: FinalOrder
    order_date: date
    reason: str | None = Field(default=None, max_length=4000)


class CareProceedingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    team_id: uuid.UUID
    pre_proceedings_id: uuid.UUID | None
    state: str
    application_kind: ApplicationKind
    application_date: date
    court: str
    court_case_number: str | None
    time_limit_date: date | None = Field(
        description="Last day of the 26 weeks as extended (s.32); none for kinds without a limit"
    )
    final_order: FinalOrder | None
    final_order_date: date | None
    version: int
    week: int | None = Field(default=None, description="Week of the proceedings today, if open")
    hearings: list[HearingRead] = Field(default_factory=list)
    interim_orders: list[InterimOrderRead] = Field(default_factory=list)
    extensions: list[ExtensionRead] = Field(default_factory=list)


class ChildLegalRead(BaseModel):
    """Everything legal about a child: gateway decisions, pre-proceedings and proceedings."""

    child_id: uuid.UUID
    gateway_meetings: list[GatewayMeetingRead]
    pre_proceedings: list[PreProceedingsRead]
    care_proceedings: list[CareProceedingsRead]


class ProceedingsDuration(BaseModel):
    proceedings_id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    team_id: uuid.UUID
    application_kind: ApplicationKind
    application_date: date
    final_order: FinalOrder | None
    final_order_date: date | None
    duration_weeks: float | None = Field(description="Concluded: issue to order, both counted")
    within_26_weeks: bool | None = Field(description="Concluded: order by the unextended limit")
    week: int | None = Field(description="Open: the week the proceedings are in today")
    extensions: int


class DurationFigures(BaseModel):
    concluded: int
    within_26_weeks: int
    percent_within_26_weeks: float | None
    average_weeks: float | None
    open: int


class TeamDurationFigures(DurationFigures):
    team_id: uuid.UUID


class ProceedingsDurationsRead(BaseModel):
    """Concluded = care or supervision proceedings whose final order (or withdrawal) is dated in
    [from, to]; open = still issued today, issued on or before ``to``."""

    date_from: date
    date_to: date
    overall: DurationFigures
    teams: list[TeamDurationFigures]
    concluded: list[ProceedingsDuration]
    open: list[ProceedingsDuration]
