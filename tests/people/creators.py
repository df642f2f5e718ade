"""Creator functions for people stories: valid identifiers, a person posted through the API, a
restricted record and the counts that show nothing was written."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core_types import nhs_check_digit, upn_check_letter
from app.models import AccessLog, ChangeLog, Person, UserAccount
from app.models.security import RestrictedAccessGrant

_serial = itertools.count(1)


def nhs_number() -> str:
    """A fresh NHS number with a valid modulus 11 check digit."""
    while True:
        nine = f"9{next(_serial) * 7919 % 10**8:08d}"
        check = nhs_check_digit(nine)
        if check is not None:
            return f"{nine}{check}"


def upn(la_code: str = "330") -> str:
    """A fresh permanent UPN from ``la_code`` with its check letter."""
    twelve = f"{la_code}{next(_serial):09d}"
    return upn_check_letter(twelve) + twelve


def with_wrong_check_letter(valid_upn: str) -> str:
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    wrong = letters[(letters.index(valid_upn[0]) + 1) % len(letters)]
    return wrong + valid_upn[1:]


def child_payload(**overrides: Any) -> dict[str, Any]:
    """A child a front-door officer might record, every identifier valid."""
    payload: dict[str, Any] = {
        "kind": "child",
        "first_name": "Ava",
        "last_name": "Example",
        "date_of_birth": "2015-05-01",
        "sex": "F",
        "ethnicity": "WBRI",
        "first_language": "English",
        "disabilities": ["NONE"],
        "upn": upn(),
        "nhs_number": nhs_number(),
        "la_child_id": f"LA{next(_serial):06d}",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def adult_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "kind": "adult",
        "first_name": "Jo",
        "last_name": "Example",
        "date_of_birth": "1988-02-11",
        "sex": "F",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def post_person(client: TestClient, headers: dict[str, str], payload: dict[str, Any]) -> Any:
    response = client.post("/api/v1/people", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def restrict(db: Session, person_id: Any, *, named: list[UserAccount], by: UserAccount) -> None:
    """Make a record restricted, naming the users who may still see it."""
    person = db.get(Person, uuid.UUID(str(person_id)))
    assert person is not None
    person.is_restricted = True
    for user in named:
        db.add(RestrictedAccessGrant(person_id=person.id, user_id=user.id, granted_by_id=by.id))
    db.flush()
    db.commit()


def people_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Person)) or 0


def change_logs(db: Session, entity_id: Any) -> list[ChangeLog]:
    return list(
        db.scalars(
            select(ChangeLog)
            .where(ChangeLog.entity_id == uuid.UUID(str(entity_id)))
            .order_by(ChangeLog.occurred_at, ChangeLog.id)
        )
    )


def access_logs(db: Session, *, user: UserAccount, action: str | None = None) -> list[AccessLog]:
    stmt = select(AccessLog).where(AccessLog.user_id == user.id)
    if action is not None:
        stmt = stmt.where(AccessLog.action == action)
    return list(db.scalars(stmt.order_by(AccessLog.occurred_at, AccessLog.id)))


def iso(d: date) -> str:
    return d.isoformat()
