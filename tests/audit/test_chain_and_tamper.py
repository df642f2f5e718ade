"""Stories of the audit trail as evidence: the chain verifies, a tamper is caught, and the
database itself refuses to rewrite history."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import TextClause, Uuid, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit.service import (
    access_log_append,
    change_log_append,
    verify_chains,
    verify_chains_report,
)
from app.models import Case
from tests.cases.factories import Cast, move_to, open_case, principal, take
from tests.conftest import BACKEND
from tests.factories import auth_headers, make_child


def _busy_cases(db: Session, cast: Cast, n: int = 4) -> list[Case]:
    cases = []
    for i in range(n):
        case = open_case(
            db, by=cast.manager, child=make_child(db, first_name=f"Kid{i}"), team=cast.team
        )
        move_to(db, case, "cin_plan", by=cast.manager)
        take(db, case, "close", by=cast.manager, data={"closure_reason": "RC8"})
        cases.append(case)
    return cases


def _by_case(sql: str) -> TextClause:
    """Raw SQL with the case id bound as the model binds it (SQLite stores UUIDs as hex)."""
    return text(sql).bindparams(bindparam("c", type_=Uuid()))


def _disable_append_only_guard(db: Session) -> None:
    """Inside the test's transaction only: DDL is transactional on both databases and is rolled
    back with the test."""
    if BACKEND == "postgresql":
        db.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_append_only"))
    else:
        db.execute(text("DROP TRIGGER case_event_no_update"))


def test_every_chain_verifies_after_many_events(db: Session, cast: Cast) -> None:
    cases = _busy_cases(db, cast)
    report = verify_chains_report(db)
    assert report.ok
    assert report.first_broken is None
    assert report.checked_events == 5 * len(cases)  # opened, 3 moves, closed
    assert verify_chains(db) is None
    assert verify_chains(db, case_id=cases[0].id) is None


def test_a_reason_rewritten_behind_the_applications_back_is_caught(db: Session, cast: Cast) -> None:
    cases = _busy_cases(db, cast, n=3)
    victim = cases[1]
    _disable_append_only_guard(db)
    db.execute(
        _by_case(
            "UPDATE case_event SET reason = 'Nothing to see here.' WHERE case_id = :c AND seq = 5"
        ),
        {"c": victim.id},
    )
    broken = verify_chains(db)
    assert broken is not None
    assert (broken.case_id, broken.seq) == (victim.id, 5)
    assert "hash" in broken.problem
    assert verify_chains(db, case_id=cases[0].id) is None


def test_the_verify_endpoint_reports_the_first_broken_link(
    client: TestClient, db: Session, cast: Cast
) -> None:
    cases = _busy_cases(db, cast, n=2)
    headers = auth_headers(db, cast.service_manager)
    ok = client.get("/api/v1/audit/verify", headers=headers)
    assert ok.status_code == 200
    assert ok.json() == {"ok": True, "first_broken": None, "checked_events": 10}

    _disable_append_only_guard(db)
    db.execute(
        _by_case("UPDATE case_event SET seq = 9 WHERE case_id = :c AND seq = 3"),
        {"c": cases[0].id},
    )
    db.commit()
    report = client.get("/api/v1/audit/verify", headers=headers).json()
    assert report["ok"] is False
    assert report["first_broken"]["case_id"] == str(cases[0].id)
    assert report["first_broken"]["seq"] in (4, 9)
    assert report["first_broken"]["problem"]


def test_only_administrators_and_service_managers_verify(
    client: TestClient, db: Session, cast: Cast
) -> None:
    for user in (cast.social_worker, cast.manager, cast.iro):
        assert client.get("/api/v1/audit/verify", headers=auth_headers(db, user)).status_code == 403


@pytest.mark.parametrize("table", ["case_event", "change_log", "access_log"])
@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
def test_the_database_refuses_to_rewrite_or_erase_the_audit_tables(
    db: Session, cast: Cast, table: str, verb: str
) -> None:
    open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    actor = principal(db, cast.manager)
    change_log_append(
        db, actor=actor, entity_type="team", entity_id=cast.team.id, action="update", changes={}
    )
    access_log_append(db, principal=actor, action="view", resource="test", person_id=cast.child.id)
    db.flush()
    column = "action" if table != "case_event" else "reason"
    statement = f"UPDATE {table} SET {column} = 'x'" if verb == "UPDATE" else f"DELETE FROM {table}"
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement))
    assert db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() >= 1


def test_an_unknown_case_has_an_empty_chain(db: Session) -> None:
    assert verify_chains(db, case_id=uuid.uuid4()) is None
