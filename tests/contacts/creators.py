"""Creator functions for front-door stories: the MASH and its people, children, and the app with
the contacts and referrals routers (until they are registered in ``app/api/router.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import LONDON
from app.models import Case, CaseEvent, Deadline, Person, Role, Team, TeamKind, UserAccount
from app.models.frontdoor import Contact, Referral
from app.models.security import RestrictedAccessGrant
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import auth_headers, make_child, make_team, make_user


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A London wall-clock instant (GMT or BST as the date has it)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


def grant(db: Session, child: Person, user: UserAccount) -> None:
    """Name ``user`` on a restricted child's record."""
    db.add(RestrictedAccessGrant(person_id=child.id, user_id=user.id, granted_by_id=user.id))
    db.flush()


@dataclass
class FrontDoor:
    """A MASH team and its people, a long-term team with its social worker, and two siblings."""

    mash: Team
    long_term: Team
    mash_officer: UserAccount
    mash_social_worker: UserAccount
    mash_manager: UserAccount
    other_social_worker: UserAccount
    iro: UserAccount
    ava: Person
    ben: Person


def make_front_door(db: Session) -> FrontDoor:
    mash = make_team(db, kind=TeamKind.front_door)
    long_term = make_team(db, kind=TeamKind.cin_cp)
    return FrontDoor(
        mash=mash,
        long_term=long_term,
        mash_officer=make_user(db, Role.mash_officer, team=mash),
        mash_social_worker=make_user(db, Role.social_worker, team=mash),
        mash_manager=make_user(db, Role.team_manager, team=mash, manager=True),
        other_social_worker=make_user(db, Role.social_worker, team=long_term),
        iro=make_user(db, Role.iro),
        ava=make_child(
            db, first_name="Ava", last_name="Hollowmere", date_of_birth=date(2016, 3, 1)
        ),
        ben=make_child(
            db, first_name="Ben", last_name="Hollowmere", date_of_birth=date(2019, 7, 9)
        ),
    )


def contact_body(fd: FrontDoor, *children: Person, **changes: Any) -> dict[str, Any]:
    """A school's amber contact about ``children`` (default: Ava), consent given."""
    body: dict[str, Any] = {
        "child_ids": [str(c.id) for c in (children or (fd.ava,))],
        "team_id": str(fd.mash.id),
        "source": "2A",
        "referrer_name": "Ms Teal",
        "referrer_role": "Designated safeguarding lead",
        "referrer_organisation": "Kestrel Park Primary",
        "referrer_phone": "0121 496 0000",
        "concern": "Ava arrived with a bruise on her arm and said she was hungry.",
        "consent": "given",
        "rag": "amber",
    }
    return body | changes


def post_contact(
    client: TestClient, headers: dict[str, str], body: dict[str, Any], status: int = 201
) -> dict[str, Any]:
    response = client.post("/api/v1/contacts", json=body, headers=headers)
    assert response.status_code == status, response.json()
    result: dict[str, Any] = response.json()
    return result


def decide(
    client: TestClient,
    headers: dict[str, str],
    contact: dict[str, Any],
    *decisions: dict[str, Any],
    version: int | None = None,
) -> Any:
    """POST the decisions with the contact's version in If-Match (the response, unchecked)."""
    return client.post(
        f"/api/v1/contacts/{contact['id']}/decisions",
        json={"decisions": list(decisions)},
        headers={**headers, "If-Match": f'"{contact["version"] if version is None else version}"'},
    )


def errors_of(response: Any) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


def case_of(db: Session, child: Person) -> Case:
    """The child's latest case."""
    db.expire_all()
    found = db.scalars(
        select(Case).where(Case.child_id == child.id).order_by(Case.created_at.desc())
    ).first()
    assert found is not None
    return found


def actions(db: Session, case_id: uuid.UUID | str) -> list[str]:
    """The case's chronology, action by action."""
    return list(
        db.scalars(
            select(CaseEvent.action)
            .where(CaseEvent.case_id == uuid.UUID(str(case_id)))
            .order_by(CaseEvent.seq)
        )
    )


def deadline(db: Session, case_id: uuid.UUID | str, kind: str) -> Deadline:
    db.expire_all()
    return db.scalars(
        select(Deadline).where(Deadline.case_id == uuid.UUID(str(case_id)), Deadline.kind == kind)
    ).one()


def contact_row(db: Session, contact_id: str) -> Contact:
    db.expire_all()
    row = db.get(Contact, uuid.UUID(contact_id))
    assert row is not None
    return row


def referrals_of(db: Session, child: Person) -> list[Referral]:
    db.expire_all()
    return list(
        db.scalars(
            select(Referral).where(Referral.child_id == child.id).order_by(Referral.referral_date)
        )
    )


__all__ = ["auth_headers", "make_child"]
