"""Stories of recording a child or adult: valid identifiers are kept in their canonical form, and
every kind of bad input is refused naming the field, with nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import ChangeLog, Person, Role
from tests.factories import auth_headers, make_user

from .conftest import Cast
from .creators import (
    adult_payload,
    change_logs,
    child_payload,
    nhs_number,
    people_count,
    post_person,
    restrict,
    upn,
    with_wrong_check_letter,
)


def test_a_front_door_officer_records_a_child_with_valid_identifiers(
    client: TestClient, db: Session, cast: Cast
) -> None:
    number, pupil = nhs_number(), upn()
    payload = child_payload(
        first_name="Maisie",
        middle_names="Rose",
        last_name="Okafor",
        aliases=[{"first_name": "Maisy", "last_name": "Smith"}],
        nhs_number=f"{number[:3]} {number[3:6]} {number[6:]}",
        upn=pupil.lower(),
        la_child_id="MAISIE-001",
        disabilities=["COMM", "LD"],
    )
    response = client.post("/api/v1/people", json=payload, headers=cast.officer_headers)

    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert body["nhs_number"] == number  # stored without the spaces people type
    assert body["upn"] == pupil  # upper case
    assert body["disabilities"] == ["COMM", "LD"]
    assert [a["last_name"] for a in body["aliases"]] == ["Smith"]
    assert body["is_restricted"] is False
    person = db.get(Person, uuid.UUID(body["id"]))
    assert person is not None
    assert (person.search_first_name, person.search_last_name) == ("maisie", "okafor")
    [log] = change_logs(db, person.id)
    assert log.action == "create"
    assert log.actor_id == cast.officer.id
    assert log.changes["last_name"] == "Okafor"


def test_an_unborn_child_is_recorded_with_an_expected_date_and_sex_u(
    client: TestClient, cast: Cast
) -> None:
    expected = clock.today() + timedelta(weeks=12)
    body = post_person(
        client,
        cast.officer_headers,
        child_payload(
            date_of_birth=None, expected_date_of_birth=expected.isoformat(), sex="U", upn=None
        ),
    )
    assert body["date_of_birth"] is None
    assert body["expected_date_of_birth"] == expected.isoformat()


def test_an_adult_needs_no_date_of_birth(client: TestClient, cast: Cast) -> None:
    body = post_person(client, cast.officer_headers, adult_payload(date_of_birth=None))
    assert body["kind"] == "adult"


def _bad_inputs() -> list[Any]:
    """Dates relative to today are functions of the day the test runs, not the day it was collected
    (a run that crosses midnight must not turn "tomorrow" into today)."""
    valid_upn = upn()
    return [
        pytest.param(
            lambda today: {"date_of_birth": (today + timedelta(days=1)).isoformat()},
            "date_of_birth",
            id="birth in the future",
        ),
        pytest.param(
            {"date_of_birth": "2015-05-01", "date_of_death": "2015-04-30"},
            "date_of_death",
            id="death before birth",
        ),
        pytest.param(
            lambda today: {"date_of_death": (today + timedelta(days=3)).isoformat()},
            "date_of_death",
            id="death in the future",
        ),
        pytest.param({"upn": with_wrong_check_letter(valid_upn)}, "upn", id="bad UPN check letter"),
        pytest.param({"former_upn": "A12345"}, "former_upn", id="malformed former UPN"),
        pytest.param({"nhs_number": "9434765918"}, "nhs_number", id="bad NHS check digit"),
        pytest.param({"la_child_id": "X" * 21}, "la_child_id", id="LA child id too long"),
        pytest.param(
            lambda today: {
                "date_of_birth": None,
                "expected_date_of_birth": (today + timedelta(weeks=10)).isoformat(),
                "sex": "F",
            },
            "sex",
            id="unborn child with sex F (CIN 8750)",
        ),
        pytest.param(
            lambda today: {
                "date_of_birth": None,
                "expected_date_of_birth": (today + timedelta(weeks=41)).isoformat(),
                "sex": "U",
            },
            "expected_date_of_birth",
            id="expected more than 40 weeks ahead (CIN 8606)",
        ),
        pytest.param({"date_of_birth": None}, "date_of_birth", id="a child with no birth date"),
        pytest.param(
            lambda today: {"date_of_birth": today.replace(year=today.year - 30).isoformat()},
            "kind",
            id="a thirty-year-old recorded as a child",
        ),
        pytest.param(
            {"disabilities": ["NONE", "HEAR"]}, "disabilities", id="NONE with a disability"
        ),
        pytest.param({"disabilities": ["WINGS"]}, "disabilities.0", id="unknown disability"),
        pytest.param({"ethnicity": "ZZZZ"}, "ethnicity", id="unknown ethnicity"),
        pytest.param({"sex": "X"}, "sex", id="unknown sex code"),
        pytest.param({"date_of_birth": "yesterday"}, "date_of_birth", id="not a date"),
        pytest.param({"first_name": 42}, "first_name", id="a number for a name"),
        pytest.param({"first_name": "   "}, "first_name", id="a blank name"),
        pytest.param({"is_restricted": True}, "is_restricted", id="unknown field"),
        pytest.param({"version": 7}, "version", id="unknown field version"),
    ]


@pytest.mark.parametrize(("change", "field"), _bad_inputs())
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient,
    db: Session,
    cast: Cast,
    change: dict[str, Any] | Callable[[date], dict[str, Any]],
    field: str,
) -> None:
    before = people_count(db)
    payload = child_payload()
    payload.update(change(clock.today()) if callable(change) else change)
    payload = {k: v for k, v in payload.items() if v is not None}

    response = client.post("/api/v1/people", json=payload, headers=cast.officer_headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert people_count(db) == before


def test_an_unborn_child_with_sex_f_cites_cin_rule_8750(client: TestClient, cast: Cast) -> None:
    expected = clock.today() + timedelta(weeks=10)
    response = client.post(
        "/api/v1/people",
        json=child_payload(date_of_birth=None, expected_date_of_birth=expected.isoformat()),
        headers=cast.officer_headers,
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error == {
        "field": "sex",
        "message": "An unborn child's sex must be U (not known)",
        "rule": "8750",
    }


def test_a_thirty_year_old_child_is_told_to_record_an_adult(client: TestClient, cast: Cast) -> None:
    today = clock.today()
    response = client.post(
        "/api/v1/people",
        json=child_payload(date_of_birth=today.replace(year=today.year - 30).isoformat()),
        headers=cast.officer_headers,
    )
    [error] = response.json()["errors"]
    assert "record them as an adult" in error["message"]


def test_every_broken_rule_is_named_at_once(client: TestClient, cast: Cast) -> None:
    tomorrow = clock.today() + timedelta(days=1)
    response = client.post(
        "/api/v1/people",
        json=child_payload(date_of_birth=tomorrow.isoformat(), date_of_death=tomorrow.isoformat()),
        headers=cast.officer_headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"date_of_birth", "date_of_death"} <= fields


def test_malformed_json_is_a_422_saying_so(client: TestClient, db: Session, cast: Cast) -> None:
    before = people_count(db)
    response = client.post(
        "/api/v1/people",
        content=b'{"kind": "child", "first_name": ',
        headers={**cast.officer_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["errors"][0]["message"]
    assert people_count(db) == before


def test_a_second_child_with_the_same_nhs_number_points_to_the_first(
    client: TestClient, db: Session, cast: Cast
) -> None:
    number = nhs_number()
    first = post_person(client, cast.officer_headers, child_payload(nhs_number=number))
    before, logs_before = people_count(db), db.scalars(select(ChangeLog)).all()

    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    response = client.post(
        "/api/v1/people",
        json=child_payload(first_name="Other", nhs_number=spaced),
        headers=cast.worker_headers,
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate_person"
    assert body["field"] == "nhs_number"
    assert body["existing_id"] == first["id"]
    assert people_count(db) == before
    assert len(db.scalars(select(ChangeLog)).all()) == len(logs_before)


def test_a_second_child_with_the_same_la_child_id_is_refused(
    client: TestClient, db: Session, cast: Cast
) -> None:
    first = post_person(client, cast.officer_headers, child_payload(la_child_id="BHAM-42"))
    before = people_count(db)
    response = client.post(
        "/api/v1/people",
        json=child_payload(la_child_id="BHAM-42"),
        headers=cast.officer_headers,
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    assert response.json()["field"] == "la_child_id"
    assert people_count(db) == before


def test_a_duplicate_of_a_restricted_record_does_not_disclose_its_id(
    client: TestClient, db: Session, cast: Cast
) -> None:
    number = nhs_number()
    hidden = post_person(client, cast.officer_headers, child_payload(nhs_number=number))
    manager = make_user(db, Role.team_manager, team=cast.team, manager=True)
    restrict(db, hidden["id"], named=[cast.worker], by=manager)

    unnamed = client.post(
        "/api/v1/people", json=child_payload(nhs_number=number), headers=cast.other_headers
    )
    named = client.post(
        "/api/v1/people", json=child_payload(nhs_number=number), headers=cast.worker_headers
    )

    assert unnamed.status_code == 409
    assert "existing_id" not in unnamed.json()
    assert "contact the team manager" in unnamed.json()["detail"]
    assert named.status_code == 409
    assert named.json()["existing_id"] == hidden["id"]


def test_an_administrator_cannot_record_a_child(client: TestClient, db: Session) -> None:
    admin = make_user(db, Role.administrator)
    response = client.post("/api/v1/people", json=child_payload(), headers=auth_headers(db, admin))
    assert response.status_code == 403


def test_an_iro_may_read_but_not_record_people(client: TestClient, db: Session) -> None:
    iro = make_user(db, Role.iro)
    response = client.post("/api/v1/people", json=child_payload(), headers=auth_headers(db, iro))
    assert response.status_code == 403


def test_without_credentials_nothing_is_recorded(client: TestClient, db: Session) -> None:
    before = people_count(db)
    response = client.post("/api/v1/people", json=child_payload())
    assert response.status_code == 401
    assert people_count(db) == before
