"""Permanence schemas for the JSON API: UASC, motherhood, adoption, orders, previous permanence."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.care.codes import ReasonEpisodeCeased
from app.leavingcare.schemas import coded
from app.models.permanence import OrderCarer, PermanenceOrderKind
from app.permanence.codes import (
    AdopterLegalStatus,
    AdopterSex,
    PreviousPermanence,
    ReasonPlacedCeased,
)

ReasonPlacedCeasedCode = Annotated[
    ReasonPlacedCeased, coded(ReasonPlacedCeased, "REASON_PLACED_CEASED", "120")
]
AdopterSexCode = Annotated[AdopterSex, coded(AdopterSex, "SEX_ADOPTR", "176")]
AdopterLegalStatusCode = Annotated[
    AdopterLegalStatus, coded(AdopterLegalStatus, "LS_ADOPTR", "177")
]
PreviousPermanenceCode = Annotated[
    PreviousPermanence, coded(PreviousPermanence, "PREV_PERM", "631")
]


class UascSet(BaseModel):
    """The child's UASC status; a ceased date (SSDA903 DUC) comes with its reason."""

    model_config = ConfigDict(extra="forbid")

    since_date: date
    ceased_date: date | None = Field(
        default=None, description="SSDA903 DUC: at the latest the 18th birthday (rule 304)"
    )
    ceased_reason: str | None = Field(default=None, min_length=1, max_length=400)


class UascRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    since_date: date
    ceased_date: date | None
    ceased_reason: str | None
    version: int


class MotherhoodSet(BaseModel):
    """SSDA903 MOTHER and MC_DOB (the date of birth of her first child)."""

    model_config = ConfigDict(extra="forbid")

    is_mother: bool
    first_child_birth_date: date | None = None
    is_correction: bool = Field(
        default=False,
        description="Correct a mistake: lets a recorded mother status or first child's date of "
        "birth change (SSDA903 rules 207, 624)",
    )
    notes: str | None = Field(default=None, max_length=4000)


class MotherhoodRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    is_mother: bool
    first_child_birth_date: date | None
    notes: str | None
    version: int


class AdoptionDecisionCreate(BaseModel):
    """The decision that the child should be placed for adoption (SSDA903 DATE_PLACED)."""

    model_config = ConfigDict(extra="forbid")

    decision_date: date


class AdoptionDecisionUpdate(BaseModel):
    """Milestones after the decision, the adopters, or its reversal: send only what changes (a
    null clears a field). Send the decision's ETag in If-Match."""

    model_config = ConfigDict(extra="forbid")

    placement_order_date: date | None = None
    matched_date: date | None = Field(default=None, description="SSDA903 DATE_MATCH")
    placed_date: date | None = Field(default=None, description="Placed for adoption")
    adoption_order_date: date | None = None
    reversed_date: date | None = Field(default=None, description="SSDA903 DATE_PLACED_CEASED")
    reversed_reason: ReasonPlacedCeasedCode | None = None
    adopted_by_foster_carers: bool | None = Field(default=None, description="SSDA903 FOSTER_CARE")
    number_of_adopters: Literal[1, 2] | None = Field(default=None, description="SSDA903 NB_ADOPTR")
    adopters_sex: AdopterSexCode | None = None
    adopters_legal_status: AdopterLegalStatusCode | None = None


class AdoptionDecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    child_id: uuid.UUID
    case_id: uuid.UUID
    period_id: uuid.UUID
    decision_date: date
    placement_order_date: date | None
    matched_date: date | None
    placed_date: date | None
    adoption_order_date: date | None
    reversed_date: date | None
    reversed_reason: ReasonPlacedCeased | None
    adopted_by_foster_carers: bool | None
    number_of_adopters: int | None
    adopters_sex: AdopterSex | None
    adopters_legal_status: AdopterLegalStatus | None
    version: int


class PermanenceOrderSet(BaseModel):
    """The special guardianship or child arrangements order that ends the period of care."""

    model_config = ConfigDict(extra="forbid")

    kind: PermanenceOrderKind
    order_date: date
    carer: OrderCarer = Field(description="To a relative or friend, or to someone else")
    carer_is_former_foster_carer: bool
    carer_name: str | None = Field(default=None, max_length=200)


class PermanenceOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period_id: uuid.UUID
    child_id: uuid.UUID
    kind: PermanenceOrderKind
    order_date: date
    carer: OrderCarer
    carer_is_former_foster_carer: bool
    carer_name: str | None
    reason_ceased: ReasonEpisodeCeased = Field(
        description="The SSDA903 REC care ceases with under this order (E41, E45-E48)"
    )
    version: int


class PreviousPermanenceSet(BaseModel):
    """SSDA903 PrevPerm for the child starting this period of care."""

    model_config = ConfigDict(extra="forbid")

    prev_perm: PreviousPermanenceCode
    la_perm: str | None = Field(
        default=None, description="DfE LA code, 999, WAL, SCO, NIR or NUK (rule 633)"
    )
    date_perm: str | None = Field(
        default=None, description="DD/MM/YYYY; ZZ for a day or month not known (rule 632)"
    )


class PreviousPermanenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period_id: uuid.UUID
    child_id: uuid.UUID
    prev_perm: PreviousPermanence
    la_perm: str | None
    date_perm: str | None
    version: int


class PermanenceRead(BaseModel):
    child_id: uuid.UUID
    uasc: UascRead | None
    motherhood: MotherhoodRead | None
    adoption_decisions: list[AdoptionDecisionRead]
    orders: list[PermanenceOrderRead]
    previous_permanence: list[PreviousPermanenceRead]
