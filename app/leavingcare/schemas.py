"""Care-leaver schemas for the JSON API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.models.deadlines import DeadlineKind, DeadlineStatus
from app.models.leavingcare import CareLeaverCategory


def coded(code_set: type[StrEnum], name: str, rule: str) -> BeforeValidator:
    """A code-set field whose refusal names the SSDA903 field and the validator rule."""
    values = [member.value for member in code_set]

    def check(value: object) -> object:
        if isinstance(value, code_set) or (isinstance(value, str) and value in values):
            return value
        raise PydanticCustomError(
            "ssda903_code",
            "{name} must be one of {codes} (SSDA903 rule {rule})",
            {"name": name, "codes": ", ".join(values), "rule": rule},
        )

    checker: Callable[[object], object] = check
    return BeforeValidator(checker)


InTouchCode = Annotated[InTouch, coded(InTouch, "IN_TOUCH", "131")]
ActivityCode = Annotated[Activity, coded(Activity, "ACTIV", "132")]
AccommodationCode = Annotated[Accommodation, coded(Accommodation, "ACCOM", "133")]


class NeedsAssessmentCreate(BaseModel):
    """The needs assessment for the pathway plan (CPPCR reg 42; meets timescales rule 26)."""

    model_config = ConfigDict(extra="forbid")

    completed_date: date | None = Field(default=None, description="Default today")
    summary: str | None = Field(default=None, max_length=20000)


class PathwayPlanCreate(BaseModel):
    """The pathway plan, prepared from the needs assessment (CPPCR reg 43)."""

    model_config = ConfigDict(extra="forbid")

    plan_date: date | None = Field(default=None, description="Default today")
    summary: str = Field(min_length=1, max_length=20000)


class PathwayPlanUpdate(BaseModel):
    """Keep the plan up to date (send its ETag in If-Match)."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=20000)


class PathwayPlanReviewCreate(BaseModel):
    """A review of the pathway plan (meets the review due; the next falls due 6 months later)."""

    model_config = ConfigDict(extra="forbid")

    review_date: date | None = Field(default=None, description="Default today")
    notes: str | None = Field(default=None, max_length=20000)


class PersonalAdviserAllocate(BaseModel):
    """Allocate a personal adviser (the current one's allocation ends that day)."""

    model_config = ConfigDict(extra="forbid")

    adviser_id: uuid.UUID
    start_date: date | None = Field(default=None, description="Default today")
    reason: str | None = Field(default=None, max_length=400)


class ContactCreate(BaseModel):
    """A dated contact with a care leaver: the three SSDA903 OC3 items, recorded together."""

    model_config = ConfigDict(extra="forbid")

    contact_date: date | None = Field(default=None, description="Default today")
    in_touch: InTouchCode
    activity: ActivityCode = Field(description="SSDA903 ACTIV; 0 when not known")
    accommodation: AccommodationCode = Field(
        description="SSDA903 ACCOM: a kind letter and 1 (suitable) or 2 (unsuitable); 0 when not "
        "known"
    )
    notes: str | None = Field(default=None, max_length=20000)


class NeedsAssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    completed_date: date
    summary: str | None
    recorded_by_id: uuid.UUID


class PathwayPlanReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    review_date: date
    notes: str | None
    recorded_by_id: uuid.UUID
    created_at: datetime


class PathwayPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    case_id: uuid.UUID
    plan_date: date
    summary: str
    last_review_date: date | None
    version: int
    next_review_due: date | None = Field(
        default=None, description="When the next review is due (timescales rule 27)"
    )
    reviews: list[PathwayPlanReviewRead] = Field(default_factory=list)


class PersonalAdviserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    adviser_id: uuid.UUID
    start_date: date
    end_date: date | None
    reason: str | None
    allocated_by_id: uuid.UUID


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    contact_date: date
    in_touch: InTouch
    activity: Activity
    accommodation: Accommodation
    notes: str | None
    recorded_by_id: uuid.UUID


class LeavingCareDeadline(BaseModel):
    kind: DeadlineKind
    rule_id: str
    source: str
    start_date: date
    due_date: date
    met_date: date | None
    status: DeadlineStatus


class LeavingCareRead(BaseModel):
    """The young person's leaving-care category (derived now from the care history, with the
    reason and the statutory rule) and the records kept."""

    child_id: uuid.UUID
    category: CareLeaverCategory
    reason: str
    rule: str
    eligible_since: date | None
    days_looked_after_since_14: int = Field(
        description="Days looked after since the 14th birthday, short breaks not counted (13 "
        "weeks = 91 make an eligible child)"
    )
    looked_after_now: bool
    personal_adviser: PersonalAdviserRead | None
    personal_adviser_history: list[PersonalAdviserRead]
    needs_assessments: list[NeedsAssessmentRead]
    pathway_plan: PathwayPlanRead | None
    deadlines: list[LeavingCareDeadline]
    contacts: list[ContactRead]


class Oc3Read(BaseModel):
    """The SSDA903 OC3 row the return would carry for the year (null values: no contact in the
    window around the birthday)."""

    model_config = ConfigDict(from_attributes=True)

    child_id: uuid.UUID
    date_of_birth: date
    birthday: date
    age: int
    in_touch: InTouch | None
    activity: Activity | None
    accommodation: Accommodation | None
    contact_date: date | None
