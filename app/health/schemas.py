"""Schemas of a looked-after child's health and wellbeing records for the JSON API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.health import HealthAssessmentKind, SDQReason


class HealthAssessmentCreate(BaseModel):
    """A statutory health assessment (reg 7): the first of the period is the initial one."""

    model_config = ConfigDict(extra="forbid")

    assessment_date: date | None = Field(default=None, description="Default today")
    assessed_by: str | None = Field(default=None, max_length=200)
    is_immunisations_up_to_date: bool = Field(description="OC2 IMMUNISATIONS")
    is_development_checks_up_to_date: bool | None = Field(
        default=None, description="Under 5s: developmental checks up to date (OC2 HEALTH_CHECK)"
    )
    notes: str | None = Field(default=None, max_length=20000)


class DentalCheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_date: date | None = Field(default=None, description="Default today")
    notes: str | None = Field(default=None, max_length=20000)


class SDQCreate(BaseModel):
    """The year's SDQ: a score 0-40 or the reason there is none (SSDA903 rules 180, 196, 197a).
    The year is the SSDA903 year (1 April to 31 March) that ``completed_date`` falls in."""

    model_config = ConfigDict(extra="forbid")

    completed_date: date | None = Field(default=None, description="Default today")
    score: int | None = Field(default=None, description="0-40 (SSDA903 rule 180)")
    reason: SDQReason | None = Field(default=None, description="SDQ1-SDQ5 (SSDA903 rule 196)")


class SubstanceMisuseCreate(BaseModel):
    """A substance misuse problem identified, and the intervention (SSDA903 rules 158, 159)."""

    model_config = ConfigDict(extra="forbid")

    identified_date: date | None = Field(default=None, description="Default today")
    is_intervention_received: bool
    is_intervention_offered: bool | None = Field(
        default=None, description="Only when no intervention was received: was one offered?"
    )
    notes: str | None = Field(default=None, max_length=20000)


class ConvictionCreate(BaseModel):
    """A conviction, final warning or reprimand (OC2 CONVICTED; aged 10 or over)."""

    model_config = ConfigDict(extra="forbid")

    conviction_date: date | None = Field(default=None, description="Default today")
    offence: str | None = Field(default=None, max_length=20000)


class _Recorded(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period_id: uuid.UUID
    child_id: uuid.UUID
    recorded_by_id: uuid.UUID
    created_at: datetime


class HealthAssessmentRead(_Recorded):
    kind: HealthAssessmentKind
    assessment_date: date
    assessed_by: str | None
    is_immunisations_up_to_date: bool
    is_development_checks_up_to_date: bool | None
    notes: str | None


class DentalCheckRead(_Recorded):
    check_date: date
    notes: str | None


class SDQRead(_Recorded):
    year_end: date
    completed_date: date
    score: int | None
    reason: SDQReason | None
    version: int


class SubstanceMisuseRead(_Recorded):
    identified_date: date
    is_intervention_received: bool
    is_intervention_offered: bool | None
    notes: str | None


class ConvictionRead(_Recorded):
    conviction_date: date
    offence: str | None


class HealthRecordRead(BaseModel):
    """The period's health and wellbeing records, newest first, and what is due next."""

    period_id: uuid.UUID
    child_id: uuid.UUID
    next_assessment_due: date | None = Field(
        description="The open initial or review health assessment deadline (rules 23, 24)"
    )
    assessments: list[HealthAssessmentRead]
    dental_checks: list[DentalCheckRead]
    sdqs: list[SDQRead]
    substance_misuse: list[SubstanceMisuseRead]
    convictions: list[ConvictionRead]


class OC2Read(BaseModel):
    """The SSDA903 OC2 fields of a child looked after continuously for 12 months at 31 March."""

    CHILD: uuid.UUID
    DOB: date
    SDQ_SCORE: int | None
    SDQ_REASON: SDQReason | None
    CONVICTED: int | None
    HEALTH_CHECK: int | None
    IMMUNISATIONS: int | None
    TEETH_CHECK: int | None
    HEALTH_ASSESSMENT: int | None
    SUBSTANCE_MISUSE: int | None
    INTERVENTION_RECEIVED: int | None
    INTERVENTION_OFFERED: int | None
