"""What the people API accepts and answers.

Inputs refuse unknown fields (``extra="forbid"``): a client cannot set ``id``, ``version``,
``kind`` on an update, or ``is_restricted`` by adding them to a body (mass assignment). Identifier
fields use the shared constrained types, so a bad UPN, NHS number or postcode is a 422 naming the
field and the DfE/NHS rule it breaks. Rules that compare fields (death before birth, an unborn
child's sex) are checked by the service on the record as it will be saved, create or update alike.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app import clock
from app.core_types import (
    UPN,
    Disability,
    Ethnicity,
    LAChildID,
    NHSNumber,
    Postcode,
    Sex,
    blank_to_none,
)
from app.models.people import PersonKind, RelationshipKind


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > clock.today():
        raise PydanticCustomError("date_in_future", "This date cannot be in the future")
    return value


def _disability_codes(value: list[Disability]) -> list[Disability]:
    # CIN census: "NONE" means the child has no disability, so it cannot sit beside a disability.
    if Disability.NONE in value and len(value) > 1:
        raise PydanticCustomError(
            "disability_none_not_alone",
            "NONE (no disability) cannot be recorded together with a disability",
        )
    return list(dict.fromkeys(value))  # a code given twice is kept once


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# The constraints sit on the text, not on the optional: applied to None they would raise a
# TypeError (a 500) instead of letting None through (found by schemathesis).
OptionalText60 = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None,
    BeforeValidator(blank_to_none),
]
OptionalText200 = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
    BeforeValidator(blank_to_none),
]
PastDate = Annotated[date, AfterValidator(_not_in_future)]
Disabilities = Annotated[list[Disability], AfterValidator(_disability_codes)]
OptionalUPN = Annotated[UPN | None, BeforeValidator(blank_to_none)]
OptionalNHSNumber = Annotated[NHSNumber | None, BeforeValidator(blank_to_none)]
OptionalLAChildID = Annotated[LAChildID | None, BeforeValidator(blank_to_none)]

_INPUT = ConfigDict(extra="forbid")


class AliasIn(BaseModel):
    model_config = _INPUT

    first_name: Name
    last_name: Name


class AliasRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    first_name: str
    last_name: str


class PersonCreate(BaseModel):
    """A child or adult. A child needs a date of birth, or an expected date of birth if unborn."""

    model_config = _INPUT

    kind: PersonKind
    first_name: Name
    middle_names: OptionalText200 = None
    last_name: Name
    aliases: list[AliasIn] = Field(default_factory=list, max_length=20)
    date_of_birth: PastDate | None = None
    expected_date_of_birth: date | None = None
    sex: Sex = Field(description="M, F or U (U for every unborn child, CIN rule 8750)")
    gender_identity: OptionalText60 = None
    ethnicity: Ethnicity | None = None
    first_language: OptionalText60 = None
    religion: OptionalText60 = None
    disabilities: Disabilities = Field(default_factory=list)
    upn: OptionalUPN = None
    former_upn: OptionalUPN = None
    nhs_number: OptionalNHSNumber = None
    la_child_id: OptionalLAChildID = None
    date_of_death: PastDate | None = None


# Fields that must not be cleared by an update (``null`` is refused, omitting keeps them).
_REQUIRED_ON_UPDATE = ("first_name", "last_name", "sex", "aliases", "disabilities")


class PersonUpdate(BaseModel):
    """A partial update: only the fields sent change. ``kind``, ``id``, ``version`` and
    ``is_restricted`` are not accepted (restriction has its own, audited route)."""

    model_config = _INPUT

    first_name: Name | None = None
    middle_names: OptionalText200 = None
    last_name: Name | None = None
    aliases: list[AliasIn] | None = Field(default=None, max_length=20)
    date_of_birth: PastDate | None = None
    expected_date_of_birth: date | None = None
    sex: Sex | None = None
    gender_identity: OptionalText60 = None
    ethnicity: Ethnicity | None = None
    first_language: OptionalText60 = None
    religion: OptionalText60 = None
    disabilities: Disabilities | None = None
    upn: OptionalUPN = None
    former_upn: OptionalUPN = None
    nhs_number: OptionalNHSNumber = None
    la_child_id: OptionalLAChildID = None
    date_of_death: PastDate | None = None

    @field_validator(*_REQUIRED_ON_UPDATE, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("required", "This field cannot be cleared; leave it out")
        return value


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: PersonKind
    first_name: str
    middle_names: str | None
    last_name: str
    aliases: list[AliasRead]
    date_of_birth: date | None
    expected_date_of_birth: date | None
    date_of_death: date | None
    sex: Sex
    gender_identity: str | None
    ethnicity: Ethnicity | None
    first_language: str | None
    religion: str | None
    disabilities: list[Disability]
    upn: str | None
    former_upn: str | None
    nhs_number: str | None
    la_child_id: str | None
    is_restricted: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PersonSummary(BaseModel):
    """Enough to tell one person from another in a list."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: PersonKind
    first_name: str
    middle_names: str | None
    last_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None
    date_of_death: date | None
    sex: Sex
    upn: str | None
    nhs_number: str | None
    la_child_id: str | None


# --------------------------------------------------------------------------------------------------
# Duplicates
# --------------------------------------------------------------------------------------------------

MatchReason = Literal[
    "nhs_number",
    "upn",
    "la_child_id",
    "surname_and_date_of_birth",
    "alias_surname_and_date_of_birth",
]


class DuplicateCandidate(BaseModel):
    """The person a front-door officer is about to record; any of these may be known."""

    model_config = _INPUT

    first_name: Name | None = None
    last_name: Name | None = None
    aliases: list[AliasIn] = Field(default_factory=list, max_length=20)
    date_of_birth: date | None = None
    nhs_number: OptionalNHSNumber = None
    upn: OptionalUPN = None
    la_child_id: OptionalLAChildID = None


class DuplicateMatch(BaseModel):
    person: PersonSummary
    reasons: list[MatchReason]


class DuplicateReport(BaseModel):
    matches: list[DuplicateMatch]
    # True when a record the caller may not see has the same NHS number or LA child id: creating
    # the person would be refused, and only the team manager can resolve it.
    hidden_match: bool = False
    message: str | None = None


# --------------------------------------------------------------------------------------------------
# Relationships
# --------------------------------------------------------------------------------------------------


class RelationshipCreate(BaseModel):
    """``related_person_id`` is the ``kind`` of this person: "Jo is a parent of Ava" is recorded
    on Ava as ``{"related_person_id": <Jo>, "kind": "parent"}``. Sibling, household member and
    relative read the same from both sides, so recording one side is enough."""

    model_config = _INPUT

    related_person_id: uuid.UUID
    kind: RelationshipKind
    has_parental_responsibility: bool | None = Field(
        default=None,
        description="Whether the related person holds parental responsibility "
        "(Children Act 1989 s.3); always true for pr_holder",
    )
    description: OptionalText200 = None
    start_date: date | None = None
    end_date: date | None = None


class RelationshipEnd(BaseModel):
    model_config = _INPUT

    end_date: date | None = Field(default=None, description="Defaults to today")


class RelatedPerson(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: PersonKind
    first_name: str
    last_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None


class RelationshipRead(BaseModel):
    id: uuid.UUID
    kind: RelationshipKind
    # False: the related person is the ``kind`` of this person (e.g. their parent).
    # True: it was recorded the other way round, so this person is the ``kind`` of the related one.
    is_inverse: bool
    related_person: RelatedPerson
    has_parental_responsibility: bool
    description: str | None
    start_date: date | None
    end_date: date | None
    is_current: bool
    version: int


class RelationshipList(BaseModel):
    items: list[RelationshipRead]


# --------------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------------


class AddressCreate(BaseModel):
    """A new address. Without an end date it becomes the current address, and the previous
    current address ends the day before this one starts (the history is kept)."""

    model_config = _INPUT

    line_1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    line_2: OptionalText200 = None
    town: Annotated[
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None,
        BeforeValidator(blank_to_none),
    ] = None
    postcode: Postcode
    start_date: PastDate
    end_date: date | None = None
    notes: Annotated[str | None, BeforeValidator(blank_to_none)] = Field(
        default=None, max_length=2000
    )


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    line_1: str
    line_2: str | None
    town: str | None
    postcode: str
    start_date: date
    end_date: date | None
    notes: str | None
    is_current: bool
    version: int


class AddressList(BaseModel):
    items: list[AddressRead]


# --------------------------------------------------------------------------------------------------
# The child's record
# --------------------------------------------------------------------------------------------------


class CaseBrief(BaseModel):
    id: uuid.UUID
    state: str
    opened_date: date
    closed_date: date | None
    team_id: uuid.UUID
    team_name: str
    allocated_worker_id: uuid.UUID | None
    allocated_worker_name: str | None


class ChildRecord(BaseModel):
    """The summary a worker opens first: who the child is, where they live, who is around them,
    and their cases (most recent first)."""

    person: PersonRead
    current_address: AddressRead | None
    relationships: list[RelationshipRead]
    # Null when the caller may read people but not cases (an integration without case:read).
    cases: list[CaseBrief] | None
