"""What the organisation API accepts and answers: teams, memberships, workers and caseloads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.core_types import SWENumber, blank_to_none
from app.models.org import Role, TeamKind

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# The constraints sit on the text, not on the optional: applied to None they would raise a
# TypeError (a 500) instead of letting None through.
Area = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None,
    BeforeValidator(blank_to_none),
]

_INPUT = ConfigDict(extra="forbid")


class TeamCreate(BaseModel):
    model_config = _INPUT

    name: TeamName
    kind: TeamKind
    area: Area = None


class TeamUpdate(BaseModel):
    """Only the fields sent change; ``id`` and ``version`` are not accepted (If-Match carries the
    version)."""

    model_config = _INPUT

    name: TeamName | None = None
    kind: TeamKind | None = None
    area: Area = None
    is_active: bool | None = None

    @field_validator("name", "kind", "is_active", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("required", "This field cannot be cleared; leave it out")
        return value


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: TeamKind
    area: str | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class MemberRead(BaseModel):
    """A membership of a team: the worker, whether they manage it, and when."""

    id: uuid.UUID
    team_id: uuid.UUID
    user_id: uuid.UUID
    display_name: str
    role: Role
    is_manager: bool
    start_date: date
    end_date: date | None


class TeamDetail(TeamRead):
    members: list[MemberRead]


class MembershipCreate(BaseModel):
    model_config = _INPUT

    user_id: uuid.UUID
    is_manager: bool = False
    start_date: date | None = Field(default=None, description="Defaults to today")


class MembershipEnd(BaseModel):
    model_config = _INPUT

    end_date: date | None = Field(
        default=None, description="The last day of membership; defaults to today"
    )


class WorkerTeam(BaseModel):
    id: uuid.UUID
    name: str
    is_manager: bool


class WorkerRead(BaseModel):
    id: uuid.UUID
    display_name: str
    role: Role
    swe_registration_number: str | None
    teams: list[WorkerTeam]
    caseload: int = Field(description="Open cases allocated to this worker (any team)")
    version: int


class WorkerUpdate(BaseModel):
    model_config = _INPUT

    swe_registration_number: Annotated[SWENumber | None, BeforeValidator(blank_to_none)] = Field(
        description="Social Work England registration number; null clears it"
    )


class WorkerCaseload(BaseModel):
    worker_id: uuid.UUID
    display_name: str
    role: Role
    is_manager: bool
    caseload: int = Field(description="Open cases allocated to the worker, in any team")
    team_caseload: int = Field(description="Open cases of this team allocated to the worker")


class TeamCaseloads(BaseModel):
    team_id: uuid.UUID
    team_name: str
    workers: list[WorkerCaseload]
    average_caseload: float = Field(
        description="Mean caseload of the team's current members who are not its managers"
    )
    open_cases: int
    unallocated_cases: int


class UnallocatedChild(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None


class UnallocatedCase(BaseModel):
    case_id: uuid.UUID
    state: str
    opened_date: date
    working_days_waiting: int
    child: UnallocatedChild
