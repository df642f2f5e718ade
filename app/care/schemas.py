"""Children-in-care schemas for the JSON API: periods of care, legal statuses, placements and the
derived SSDA903 episodes."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.care.codes import (
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
    ReasonNewEpisode,
    ReasonPlaceChange,
)
from app.core_types import Postcode, PrimaryNeed
from app.models.care import CareEntryRoute

#: A 3-digit DfE LA code, or one of the SSDA903 codes for a placement outside England.
LA_CODE_PATTERN = r"^(\d{3}|CON|NIR|SCO|WAL|NUK)$"
URN_PATTERN = r"^(SC\d{6}|\d{7}|XXXXXXX)$"


class PlacementIn(BaseModel):
    """Where the child is placed: the SSDA903 placement fields and what the visit rules need."""

    model_config = ConfigDict(extra="forbid")

    placement_type: PlacementType
    provider: PlacementProvider | None = Field(
        default=None, description="PR0-PR5; blank for temporary (T0-T4) and Z11-Z14 (rule 213)"
    )
    ofsted_urn: str | None = Field(
        default=None,
        pattern=URN_PATTERN,
        description="Ofsted URN: required unless the type never has one (SSDA903 218, 222)",
    )
    carer_name: str | None = Field(default=None, max_length=200)
    carer_key: str | None = Field(
        default=None,
        max_length=80,
        description="Identifies the same carer(s) across placements (a move with the same carers "
        "is SSDA903 RNE T or B)",
    )
    home_postcode: Postcode | None = None
    placement_postcode: Postcode | None = None
    placement_la_code: str | None = Field(
        default=None,
        pattern=LA_CODE_PATTERN,
        description="DfE code of the LA the placement is in (CON/NIR/SCO/WAL/NUK outside England)",
    )
    intended_until_18: bool = Field(
        default=False, description="Placement intended to last until 18 (reg 28(2) visits)"
    )
    child_agrees_six_monthly_visits: bool = Field(
        default=False, description="Long-term foster child agrees to 6-monthly visits (reg 28(3A))"
    )
    placed_under_reg: str | None = Field(
        default=None,
        pattern=r"^reg (19|24)$",
        description="'reg 19' placed with parents before assessment; 'reg 24' temporary "
        "connected-person approval",
    )


class PeriodOfCareStart(BaseModel):
    """The child starts to be looked after: the first legal status and the first placement."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Default today")
    entry_route: CareEntryRoute
    legal_status: LegalStatus
    category_of_need: PrimaryNeed = Field(description="SSDA903 CIN: N1-N8")
    placement: PlacementIn


class LegalStatusChange(BaseModel):
    """A new legal status from ``start_date`` (send the period's ETag in If-Match). The previous
    status ends that same day: SSDA903 closes one episode and opens the next on one date."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Default today")
    legal_status: LegalStatus
    notes: str | None = Field(default=None, max_length=4000)


class PlacementChange(BaseModel):
    """The child moves (send the period's ETag in If-Match): the current placement ends on
    ``start_date`` for ``end_reason`` and the new one starts the same day."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Default today")
    placement: PlacementIn
    end_reason: ReasonPlaceChange | None = Field(
        default=None,
        description="Why the current placement ended (SSDA903 REASON_PLACE_CHANGE): required, "
        "except for a move into or out of a temporary placement, which has none (rules 225, 226)",
    )
    planned_ending: bool = Field(description="Whether the current placement's ending was planned")


class PlacementCorrection(BaseModel):
    """Correct a placement's details without a move (send the placement's ETag in If-Match). Only
    the fields sent change; a different placement type is a move, not a correction."""

    model_config = ConfigDict(extra="forbid")

    provider: PlacementProvider | None = None
    ofsted_urn: str | None = Field(default=None, pattern=URN_PATTERN)
    carer_name: str | None = Field(default=None, max_length=200)
    carer_key: str | None = Field(default=None, max_length=80)
    home_postcode: Postcode | None = None
    placement_postcode: Postcode | None = None
    placement_la_code: str | None = Field(default=None, pattern=LA_CODE_PATTERN)
    intended_until_18: bool | None = None
    child_agrees_six_monthly_visits: bool | None = None
    placed_under_reg: str | None = Field(default=None, pattern=r"^reg (19|24)$")
    reason: str = Field(min_length=1, max_length=4000, description="Why the record was wrong")


class PeriodOfCareCease(BaseModel):
    """Care ceases (send the period's ETag in If-Match): the SSDA903 reason is an E-code (X1 is
    never typed: only the episode derivation writes it)."""

    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="Default today")
    reason_ceased: ReasonEpisodeCeased
    notes: str | None = Field(default=None, max_length=4000)


class LegalStatusRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    legal_status: LegalStatus
    start_date: date
    end_date: date | None
    notes: str | None


class PlacementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period_id: uuid.UUID
    placement_type: PlacementType
    provider: PlacementProvider | None
    ofsted_urn: str | None
    carer_name: str | None
    carer_key: str | None
    home_postcode: str | None
    placement_postcode: str | None
    placement_la_code: str | None
    is_out_of_area: bool | None = Field(
        default=None,
        description="Placed outside the council's area (placement LA code is not ours); "
        "null when the placement LA is not recorded",
    )
    distance_km: float | None = Field(
        description="Straight-line distance between home and placement postcodes (OS Code-Point "
        "Open); null when either postcode is missing or unknown"
    )
    intended_until_18: bool
    child_agrees_six_monthly_visits: bool
    placed_under_reg: str | None
    start_date: date
    end_date: date | None
    end_reason: ReasonPlaceChange | None
    planned_ending: bool | None
    version: int


class EpisodeRead(BaseModel):
    """One SSDA903 episode, derived (never typed): the Episodes table's columns, lower-cased."""

    model_config = ConfigDict(from_attributes=True)

    period_id: uuid.UUID
    legal_status_id: uuid.UUID
    placement_id: uuid.UUID
    child: str | None = Field(description="LA child id (CHILD)")
    decom: date
    rne: ReasonNewEpisode
    ls: LegalStatus
    cin: PrimaryNeed
    place: PlacementType
    place_provider: PlacementProvider | None
    dec: date | None
    rec: ReasonEpisodeCeased | None
    reason_place_change: ReasonPlaceChange | None
    home_post: str | None
    pl_post: str | None
    urn: str | None


class PeriodOfCareRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    child_id: uuid.UUID
    state: str
    start_date: date
    end_date: date | None
    entry_route: CareEntryRoute
    category_of_need: PrimaryNeed
    reason_ceased: ReasonEpisodeCeased | None
    version: int
    created_at: datetime
    legal_statuses: list[LegalStatusRead] = Field(default_factory=list)
    placements: list[PlacementRead] = Field(default_factory=list)
    episodes: list[EpisodeRead] = Field(default_factory=list)


class PlacementStabilityRead(BaseModel):
    """The national placement-stability measures for one child on a date (timescales.md,
    "Measures"); temporary placements (T0-T4) are not counted as moves."""

    child_id: uuid.UUID
    on: date
    looked_after: bool
    placements_last_12_months: int
    three_or_more_placements: bool
    looked_after_since: date | None = Field(description="Start of the continuous period of care")
    long_term_cohort: bool = Field(
        description="Under 16 and looked after continuously for at least 2.5 years"
    )
    current_placement_since: date | None
    same_placement_2_years: bool | None = Field(
        description="For the long-term cohort: in the same placement (or placed for adoption "
        "from it) for at least 2 years; null outside the cohort"
    )
