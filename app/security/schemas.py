"""Request and response bodies for sign-in, users, tokens and record-level access.

No schema here has a field for a password hash, a token hash or a session cookie: what is not in
the model cannot leak through the API (OWASP API3, excessive data exposure).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from app.models.org import Role, UserAccount
from app.models.people import PersonKind
from app.security.principal import AuthMethod


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Sign-in


class LoginRequest(_Input):
    username: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1024)


class ChangePasswordRequest(_Input):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ResetPasswordRequest(_Input):
    new_password: str = Field(min_length=1, max_length=1024)


# Users


class UserCreate(_Input):
    username: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._@-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    email: EmailStr | None = None
    # Optional: an account that signs in through the council's identity provider, or an
    # integration client (which uses tokens), has no local password.
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    swe_registration_number: str | None = Field(default=None, min_length=1, max_length=20)
    must_change_password: bool = True


class UserRead(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    role: Role
    is_active: bool
    must_change_password: bool
    has_password: bool
    swe_registration_number: str | None
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: UserAccount) -> UserRead:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            role=user.role,
            is_active=user.is_active,
            must_change_password=user.must_change_password,
            has_password=user.password_hash is not None,
            swe_registration_number=user.swe_registration_number,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )


class TeamMembershipRead(BaseModel):
    team_id: uuid.UUID
    name: str
    is_manager: bool


class Me(BaseModel):
    """The caller: who they are, how they signed in, and what they must do first."""

    user: UserRead
    role: Role
    auth: AuthMethod
    teams: list[TeamMembershipRead]
    must_change_password: bool
    # The session's CSRF token, so that a client that reloads can send it again (null for bearer
    # credentials, which need none).
    csrf_token: str | None
    # An integration token's scopes (null: what the role allows).
    scopes: list[str] | None


class LoginResponse(BaseModel):
    user: UserRead
    csrf_token: str
    expires_at: datetime
    must_change_password: bool


# Integration tokens


class TokenCreate(_Input):
    user_id: uuid.UUID
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1)
    expires_at: AwareDatetime | None = None


class TokenRead(_Output):
    id: uuid.UUID
    name: str
    user_id: uuid.UUID
    scopes: list[str]
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    """The token with its secret: shown in this response only, never stored or shown again."""

    secret: str


# Record-level access


class AccessLogEntry(BaseModel):
    """One look at (or attempt to look at) a child's record."""

    id: uuid.UUID
    occurred_at: datetime
    user_id: uuid.UUID | None
    user_display_name: str | None
    user_role: str | None
    action: str
    resource: str
    reason: str | None
    case_id: uuid.UUID | None


class SecurityAlert(BaseModel):
    """A break-glass read of a child's record, or an attempt to see one that was refused."""

    id: uuid.UUID
    occurred_at: datetime
    kind: Literal["break_glass", "denied"]
    user_id: uuid.UUID | None
    user_display_name: str | None
    user_role: str | None
    person_id: uuid.UUID | None
    case_id: uuid.UUID | None
    resource: str
    # The reason given for breaking the glass (denied attempts have none).
    reason: str | None


class BreakGlassRequest(_Input):
    reason: str = Field(max_length=2000)


class PersonBasic(_Output):
    """What a break-glass read shows: enough to identify the child, no more."""

    id: uuid.UUID
    kind: PersonKind
    first_name: str
    last_name: str
    date_of_birth: date | None
    expected_date_of_birth: date | None
    is_restricted: bool


class RestrictedAccessChange(_Input):
    user_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="Users to name on the record (the manager making the change is always named).",
    )


class NamedUser(BaseModel):
    user_id: uuid.UUID
    display_name: str
    granted_by_id: uuid.UUID
    granted_at: datetime


class RestrictedAccessRead(BaseModel):
    person_id: uuid.UUID
    is_restricted: bool
    named_users: list[NamedUser]
