"""Creator functions for child protection stories: a cast, a case brought to a strategy
discussion, and each step of the protection journey through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases import service as case_service
from app.models import Case, Deadline, Person, Role, Team, TeamKind, UserAccount
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import auth_headers, make_child, make_team, make_user

EVERYONE = [
    {"agency": "social_care", "name": "Sam Social Worker", "role": "Allocated social worker"},
    {"agency": "police", "name": "DC Patel", "role": "Child abuse investigation unit"},
    {"agency": "health", "name": "Dr Okafor", "role": "Named doctor"},
]
QUORATE = ["social_care", "police", "health", "education"]


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


@dataclass
class Cast:
    """A child protection team (manager, social worker), another team's worker, a child."""

    team: Team
    other_team: Team
    manager: UserAccount
    social_worker: UserAccount
    other_social_worker: UserAccount
    child: Person

    def headers(self, db: Session, user: UserAccount | None = None) -> dict[str, str]:
        return auth_headers(db, user or self.social_worker)


def make_cast(db: Session) -> Cast:
    team = make_team(db, kind=TeamKind.cin_cp)
    other = make_team(db, kind=TeamKind.cin_cp)
    return Cast(
        team=team,
        other_team=other,
        manager=make_user(db, Role.team_manager, team=team, manager=True),
        social_worker=make_user(db, Role.social_worker, team=team),
        other_social_worker=make_user(db, Role.social_worker, team=other),
        child=make_child(db),
    )


def referred_case(db: Session, cast: Cast, *, opened: date, child: Person | None = None) -> Case:
    """A contact about the child, accepted as a referral the same day (the case in ``referral``)."""
    actor = principal(db, cast.manager)
    case = case_service.case_open(
        db,
        actor=actor,
        child_id=(child or cast.child).id,
        team_id=cast.team.id,
        opened_date=opened,
        worker_id=cast.social_worker.id,
    )
    return case_service.case_transition(
        db, actor=actor, case_id=case.id, event="accept_referral", expected_version=case.version
    )


def discuss(
    client: TestClient,
    headers: dict[str, str],
    case_id: uuid.UUID,
    *,
    held: date,
    concern: date | None = None,
    participants: list[dict[str, Any]] | None = None,
    start_s47: bool = True,
    **extra: Any,
) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/strategy-discussions",
        json={
            "concern_date": (concern or held).isoformat(),
            "held_date": held.isoformat(),
            "format": "meeting",
            "participants": EVERYONE if participants is None else participants,
            "concerns": "Bruising seen at school; explanation inconsistent.",
            "start_s47": start_s47,
            **extra,
        },
        headers=headers,
    )


def start_s47(
    client: TestClient, headers: dict[str, str], case_id: uuid.UUID, discussion_id: str, on: date
) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/s47-enquiries",
        json={"strategy_discussion_id": discussion_id, "start_date": on.isoformat()},
        headers=headers,
    )


def conclude(
    client: TestClient,
    headers: dict[str, str],
    s47: dict[str, Any],
    *,
    on: date,
    outcome: str = "icpc_required",
    version: int | None = None,
    **extra: Any,
) -> Any:
    return client.post(
        f"/api/v1/s47-enquiries/{s47['id']}/conclude",
        json={
            "outcome": outcome,
            "reason": "Concerns substantiated.",
            "concluded_date": on.isoformat(),
            **extra,
        },
        headers={**headers, "If-Match": f'"{version or s47["version"]}"'},
    )


def icpc(
    client: TestClient,
    headers: dict[str, str],
    s47_id: str,
    *,
    on: date,
    outcome: str = "cp_plan",
    category: str | None = "NEG",
    agencies: list[str] | None = None,
) -> Any:
    body: dict[str, Any] = {
        "conference_date": on.isoformat(),
        "chair": "Independent Chair",
        "agencies_present": QUORATE if agencies is None else agencies,
        "outcome": outcome,
    }
    if outcome == "cp_plan":
        body["initial_category"] = category
    return client.post(f"/api/v1/s47-enquiries/{s47_id}/conferences", json=body, headers=headers)


def review(
    client: TestClient,
    headers: dict[str, str],
    plan_id: str,
    *,
    on: date,
    version: int,
    outcome: str = "continue_plan",
    **extra: Any,
) -> Any:
    return client.post(
        f"/api/v1/cp-plans/{plan_id}/review-conferences",
        json={
            "conference_date": on.isoformat(),
            "chair": "Independent Chair",
            "agencies_present": QUORATE,
            "outcome": outcome,
            **extra,
        },
        headers={**headers, "If-Match": f'"{version}"'},
    )


def deadlines(db: Session, *, subject_id: uuid.UUID | str) -> dict[str, list[Deadline]]:
    """A subject's deadlines by kind, oldest first."""
    rows = db.scalars(
        select(Deadline)
        .where(Deadline.subject_id == uuid.UUID(str(subject_id)))
        .order_by(Deadline.start_date, Deadline.created_at)
    )
    out: dict[str, list[Deadline]] = {}
    for row in rows:
        out.setdefault(row.kind.value, []).append(row)
    return out
