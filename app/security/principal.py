"""Who is calling: the authenticated principal every route and service receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from app.models.org import Role


class AuthMethod(StrEnum):
    session = "session"  # a staff member signed in (cookie)
    token = "token"  # an integration's opaque bearer token  # noqa: S105
    oidc = "oidc"  # a JWT from the council's identity provider


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    role: Role
    display_name: str
    auth: AuthMethod
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    managed_team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # An integration token is limited to its scopes (permission names); None means "what the role
    # allows".
    scopes: frozenset[str] | None = None
    session_id: uuid.UUID | None = None
    csrf_token: str | None = None
    # A signed-in user holding a temporary password may only change it, see who they are, or sign
    # out: ``permission()`` refuses everything else until they do.
    must_change_password: bool = False

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.team_manager, Role.service_manager)
