"""The cast of the people stories: a front-door team with a MASH officer and a social worker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.models import Role, Team, TeamKind, UserAccount
from tests.factories import auth_headers, make_team, make_user


@dataclass
class Cast:
    team: Team
    officer: UserAccount
    worker: UserAccount
    other_worker: UserAccount
    officer_headers: dict[str, str]
    worker_headers: dict[str, str]
    other_headers: dict[str, str]


@pytest.fixture
def cast(db: Session) -> Cast:
    team = make_team(db, kind=TeamKind.front_door)
    officer = make_user(db, Role.mash_officer, team=team)
    worker = make_user(db, Role.social_worker, team=team)
    other = make_user(db, Role.social_worker, team=team)
    return Cast(
        team=team,
        officer=officer,
        worker=worker,
        other_worker=other,
        officer_headers=auth_headers(db, officer),
        worker_headers=auth_headers(db, worker),
        other_headers=auth_headers(db, other),
    )
