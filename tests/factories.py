"""Typed creator functions for tests: a story's cast in a line each."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session

from app.core_types import Sex
from app.models import Person, PersonKind, Role, Team, TeamKind, TeamMembership, UserAccount
from app.security.policy import PERMISSIONS
from app.security.tokens import token_issue

_counter = itertools.count(1)


def make_team(
    db: Session, *, name: str | None = None, kind: TeamKind = TeamKind.assessment
) -> Team:
    team = Team(name=name or f"Team {next(_counter)}", kind=kind, area="North")
    db.add(team)
    db.flush()
    return team


def make_user(
    db: Session,
    role: Role = Role.social_worker,
    *,
    team: Team | None = None,
    manager: bool = False,
    username: str | None = None,
) -> UserAccount:
    n = next(_counter)
    user = UserAccount(
        username=username or f"{role.value}-{n}",
        display_name=f"{role.value.replace('_', ' ').title()} {n}",
        role=role,
    )
    db.add(user)
    db.flush()
    if team is not None:
        db.add(
            TeamMembership(
                team_id=team.id, user_id=user.id, is_manager=manager, start_date=date(2020, 1, 1)
            )
        )
        db.flush()
    return user


def auth_headers(db: Session, user: UserAccount) -> dict[str, str]:
    """Bearer headers for ``user`` carrying every permission their role has."""
    scopes = [name for name, roles in PERMISSIONS.items() if user.role in roles]
    _token, secret = token_issue(db, user_id=user.id, name="test", scopes=scopes)
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def make_child(
    db: Session,
    *,
    first_name: str = "Ava",
    last_name: str = "Example",
    date_of_birth: date | None = date(2015, 5, 1),
    restricted: bool = False,
) -> Person:
    child = Person(
        kind=PersonKind.child,
        first_name=first_name,
        last_name=last_name,
        search_first_name=first_name.lower(),
        search_last_name=last_name.lower(),
        date_of_birth=date_of_birth,
        sex=Sex.FEMALE,
        is_restricted=restricted,
    )
    db.add(child)
    db.flush()
    return child
