"""No N+1: each page runs the same number of SELECTs for one child as for ten. The only
statements that grow with the rows are the access_log INSERTs, one per child shown, which the
record-level access rules require (every read of a child's data is logged)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.models import AccessLog, Person
from app.models.people import PersonKind, PersonRelationship, RelationshipKind
from tests.care.factories import noon, principal, referred_case
from tests.factories import make_child
from tests.web.helpers import TODAY, WebCast, web_sign_in

# Many page stories: one app for the module, each story on its own rolled-back connection.
pytestmark = pytest.mark.shared_app


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen_at(noon(TODAY)):
        yield


def _statements(connection: Connection, client: TestClient, path: str) -> Counter[str]:
    """What the page ran: 'select', 'insert <table>', 'update <table>', ..."""
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        verb = words[0].lower()
        if verb == "insert":
            seen[f"insert {words[2]}"] += 1
        elif verb == "update":
            seen[f"update {words[1]}"] += 1
        elif verb in ("select", "with"):
            seen["select"] += 1
        else:
            seen[verb] += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert page.status_code == 200, page.text
    return seen


def _more_children(db: Session, cast: WebCast, how_many: int) -> list[Person]:
    children = []
    for n in range(how_many):
        child = make_child(db, first_name=f"Child{n}", last_name="Example")
        referred_case(db, cast.care, opened=date(2026, 2, 2), child=child)
        children.append(child)
    db.commit()
    return children


def _others(counts: Counter[str]) -> Counter[str]:
    """The statements that are not INSERTs (the pages of other modules compare these)."""
    return Counter({k: n for k, n in counts.items() if not k.startswith("insert")})


def _access_log_rows(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(AccessLog)) or 0


@pytest.mark.parametrize("path", ["/", "/children?q=example"])
def test_a_page_with_ten_children_runs_the_same_statements_as_with_one(
    client: TestClient, db: Session, connection: Connection, cast: WebCast, path: str
) -> None:
    referred_case(db, cast.care, opened=date(2026, 2, 2))  # Ava Example, the first child
    db.commit()
    web_sign_in(client, cast.worker)
    rows_before = _access_log_rows(db)
    one = _statements(connection, client, path)
    rows_one = _access_log_rows(db) - rows_before
    _more_children(db, cast, 9)
    rows_before = _access_log_rows(db)
    ten = _statements(connection, client, path)
    rows_ten = _access_log_rows(db) - rows_before
    assert one["select"] > 0
    # The same statements with ten children as with one: the access-log rows for the children
    # shown are written in one batched INSERT, not one statement a child.
    assert ten == one, (one, ten)
    assert {k for k in ten if k.startswith("insert")} == {"insert access_log"}
    # Yet every child shown has its row: the same number of rows more per child.
    grown = rows_ten - rows_one
    assert grown > 0, (rows_one, rows_ten)
    assert grown % 9 == 0, (rows_one, rows_ten)


def test_a_record_with_ten_relatives_and_events_runs_the_same_statements_as_with_one(
    client: TestClient, db: Session, connection: Connection, cast: WebCast
) -> None:
    child = cast.care.child
    case = referred_case(db, cast.care, opened=date(2026, 2, 2))

    def relative(n: int) -> None:
        sibling = make_child(db, first_name=f"Sibling{n}", last_name="Example")
        assert sibling.kind is PersonKind.child
        db.add(
            PersonRelationship(
                person_id=child.id, related_person_id=sibling.id, kind=RelationshipKind.sibling
            )
        )

    relative(0)
    db.commit()
    web_sign_in(client, cast.worker)
    path = f"/children/{child.id}"
    one = _statements(connection, client, path)
    for n in range(1, 10):
        relative(n)
    with clock.frozen_at(noon(date(2026, 2, 20))):  # more chronology: the assessment starts
        case_service.case_transition(
            db,
            actor=principal(db, cast.worker),
            case_id=case.id,
            event="start_assessment",
            expected_version=case.version,
        )
    db.commit()
    ten = _statements(connection, client, path)
    assert ten == one, (one, ten)
    assert "Child and family assessment started" in client.get(path).text
    # The relatives are on the family tab (each tab reads only its own rows).
    assert "Sibling9 Example" in client.get(f"{path}?tab=family").text
