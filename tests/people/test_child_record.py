"""Stories of opening a child's record: what it shows, who may open it, that the read is logged,
and that it costs the same few queries however many people surround the child."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app import clock
from app.core_types import ReasonForClosure
from app.models import Allocation, Case, Role, Team, UserAccount
from app.security.tokens import token_issue
from tests.factories import auth_headers, make_team, make_user

from .conftest import Cast
from .creators import access_logs, adult_payload, child_payload, post_person, restrict


def make_case(
    db: Session,
    *,
    child_id: str,
    team: Team,
    worker: UserAccount | None = None,
    opened: date = date(2024, 1, 8),
    closed: date | None = None,
) -> Case:
    """A case written straight to the table (the case service has its own stories)."""
    case = Case(
        child_id=uuid.UUID(child_id),
        state="closed" if closed else "contact",
        opened_date=opened,
        closed_date=closed,
        closure_reason=ReasonForClosure.SERVICES_CEASED if closed else None,
        team_id=team.id,
        allocated_worker_id=worker.id if worker else None,
    )
    db.add(case)
    db.flush()
    db.add(Allocation(case_id=case.id, team_id=team.id, worker_id=case.allocated_worker_id))
    db.flush()
    db.commit()
    return case


def _relate(
    client: TestClient, headers: dict[str, str], person_id: str, **body: Any
) -> dict[str, Any]:
    response = client.post(f"/api/v1/people/{person_id}/relationships", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_childs_record_shows_who_they_are_where_they_live_who_is_around_them_and_their_cases(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(
        client,
        h,
        child_payload(first_name="Ruby", aliases=[{"first_name": "Rubie", "last_name": "Stone"}]),
    )
    mum = post_person(client, h, adult_payload(first_name="Jade"))
    brother = post_person(client, h, child_payload(first_name="Alfie", date_of_birth="2012-01-01"))
    _relate(
        client,
        h,
        child["id"],
        related_person_id=mum["id"],
        kind="parent",
        has_parental_responsibility=True,
    )
    _relate(client, h, brother["id"], related_person_id=child["id"], kind="sibling")
    for postcode, start in (("B1 1AA", "2020-01-01"), ("B15 2TT", "2023-05-01")):
        client.post(
            f"/api/v1/people/{child['id']}/addresses",
            json={"line_1": "2 Elm Road", "postcode": postcode, "start_date": start},
            headers=h,
        )
    older = make_case(
        db, child_id=child["id"], team=cast.team, closed=date(2022, 3, 1), opened=date(2021, 9, 1)
    )
    current = make_case(db, child_id=child["id"], team=cast.team, worker=cast.worker)

    response = client.get(f"/api/v1/children/{child['id']}", headers=cast.worker_headers)

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"1"'
    record = response.json()
    assert record["person"]["first_name"] == "Ruby"
    assert [a["last_name"] for a in record["person"]["aliases"]] == ["Stone"]
    assert record["current_address"]["postcode"] == "B15 2TT"
    relations = {r["related_person"]["first_name"]: r for r in record["relationships"]}
    assert relations["Jade"]["kind"] == "parent"
    assert relations["Jade"]["has_parental_responsibility"] is True
    assert relations["Jade"]["related_person"]["kind"] == "adult"
    assert relations["Alfie"]["kind"] == "sibling"  # recorded on Alfie, shown on Ruby too
    assert [c["id"] for c in record["cases"]] == [str(current.id), str(older.id)]
    assert record["cases"][0]["allocated_worker_name"] == cast.worker.display_name
    assert record["cases"][0]["team_name"] == cast.team.name
    assert record["cases"][1]["state"] == "closed"
    [log] = access_logs(db, user=cast.worker)
    assert (str(log.person_id), log.action) == (child["id"], "view")
    assert log.resource == f"/api/v1/children/{child['id']}"


def test_reading_a_persons_details_is_access_logged(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    response = client.get(f"/api/v1/people/{child['id']}", headers=cast.worker_headers)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    [log] = access_logs(db, user=cast.worker)
    assert str(log.person_id) == child["id"]


def _comparable(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("instance", "request_id")}


def test_a_restricted_child_is_not_found_by_an_unnamed_worker_exactly_as_if_unknown(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    manager = make_user(db, Role.team_manager, team=cast.team, manager=True)
    restrict(db, child["id"], named=[cast.worker], by=manager)

    hidden = client.get(f"/api/v1/children/{child['id']}", headers=cast.other_headers)
    unknown = client.get(f"/api/v1/children/{uuid.uuid4()}", headers=cast.other_headers)
    named = client.get(f"/api/v1/children/{child['id']}", headers=cast.worker_headers)

    assert hidden.status_code == unknown.status_code == 404
    assert _comparable(hidden.json()) == _comparable(unknown.json())
    assert named.status_code == 200
    # The attempt on a real restricted record is kept as a security event.
    assert [log.action for log in access_logs(db, user=cast.other_worker)] == ["denied"]
    assert [log.action for log in access_logs(db, user=cast.worker)] == ["view"]


def test_an_adult_has_no_childs_record(client: TestClient, cast: Cast) -> None:
    adult = post_person(client, cast.officer_headers, adult_payload())
    response = client.get(f"/api/v1/children/{adult['id']}", headers=cast.worker_headers)
    assert response.status_code == 404


def test_an_administrator_may_not_read_a_childs_record(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    admin = make_user(db, Role.administrator)
    headers = auth_headers(db, admin)
    for path in (f"/api/v1/children/{child['id']}", f"/api/v1/people/{child['id']}"):
        assert client.get(path, headers=headers).status_code == 403
    assert (
        client.get("/api/v1/people/search", params={"name": "ava"}, headers=headers).status_code
        == 403
    )
    assert access_logs(db, user=admin) == []


def test_an_integration_needs_the_person_read_scope(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    robot = make_user(db, Role.integration_client)
    _, case_only = token_issue(db, user_id=robot.id, name="cases", scopes=["case:read"])
    _, people = token_issue(db, user_id=robot.id, name="people", scopes=["person:read"])
    db.commit()

    refused = client.get(
        f"/api/v1/children/{child['id']}", headers={"Authorization": f"Bearer {case_only}"}
    )
    allowed = client.get(
        f"/api/v1/children/{child['id']}", headers={"Authorization": f"Bearer {people}"}
    )

    assert refused.status_code == 403
    assert "person:read" in refused.json()["detail"]
    assert allowed.status_code == 200
    assert allowed.json()["cases"] is None  # person:read alone does not show the cases


@contextmanager
def counting_statements(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", _count)


def test_the_childs_record_costs_the_same_queries_however_many_relatives_and_cases(
    client: TestClient, db: Session, connection: Connection, cast: Cast
) -> None:
    h = cast.officer_headers
    other_team = make_team(db)

    def child_with(relatives: int) -> str:
        child = post_person(client, h, child_payload())
        for n in range(relatives):
            relative = post_person(client, h, adult_payload(first_name=f"Relative{n}"))
            _relate(client, h, child["id"], related_person_id=relative["id"], kind="relative")
            make_case(
                db,
                child_id=child["id"],
                team=other_team if n % 2 else cast.team,
                worker=cast.worker if n % 2 else None,
                # One open case per child at a time: the earlier ones are closed.
                opened=clock.today() - timedelta(days=2 * relatives - 2 * n),
                closed=(clock.today() - timedelta(days=2 * relatives - 2 * n - 1))
                if n < relatives - 1
                else None,
            )
        client.post(
            f"/api/v1/people/{child['id']}/addresses",
            json={"line_1": "3 Oak Lane", "postcode": "B1 1AA", "start_date": "2020-01-01"},
            headers=h,
        )
        return str(child["id"])

    few, many = child_with(1), child_with(6)
    counts = []
    for child_id in (few, many):
        with counting_statements(connection) as statements:
            response = client.get(f"/api/v1/children/{child_id}", headers=cast.worker_headers)
        assert response.status_code == 200
        counts.append(len(statements))
    assert (
        len(
            client.get(f"/api/v1/children/{many}", headers=cast.worker_headers).json()[
                "relationships"
            ]
        )
        == 6
    )
    assert counts[0] == counts[1]
