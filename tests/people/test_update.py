"""Stories of correcting a person's details: only what was sent changes, each change is logged
field by field, a stale version changes nothing, and protected fields cannot be set."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Person

from .conftest import Cast
from .creators import change_logs, child_payload, nhs_number, post_person


def _person(db: Session, person_id: str) -> Person:
    db.expire_all()
    person = db.get(Person, uuid.UUID(person_id))
    assert person is not None
    return person


def test_a_worker_corrects_a_surname_and_the_change_log_keeps_before_and_after(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(last_name="Smyth"))

    response = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"last_name": "Smith", "religion": "None"},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["last_name"] == "Smith"
    person = _person(db, child["id"])
    assert person.search_last_name == "smith"
    update = change_logs(db, child["id"])[-1]
    assert update.action == "update"
    assert update.actor_id == cast.worker.id
    assert update.changes == {
        "last_name": {"before": "Smyth", "after": "Smith"},
        "religion": {"before": None, "after": "None"},
    }


def test_a_stale_if_match_is_refused_and_nothing_changes(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(first_name="Ava"))
    first = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"first_name": "Eva"},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )
    assert first.status_code == 200

    stale = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"first_name": "Ada"},
        headers={**cast.other_headers, "If-Match": '"1"'},
    )

    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    person = _person(db, child["id"])
    assert (person.first_name, person.version) == ("Eva", 2)
    assert len(change_logs(db, child["id"])) == 2  # create + the first update only


def test_an_update_without_if_match_is_refused(client: TestClient, cast: Cast) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    response = client.patch(
        f"/api/v1/people/{child['id']}", json={"first_name": "X"}, headers=cast.worker_headers
    )
    assert response.status_code == 428


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "7f000000-0000-0000-0000-000000000001"),
        ("version", 99),
        ("kind", "adult"),
        ("is_restricted", True),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("search_last_name", "zzz"),
    ],
)
def test_protected_fields_cannot_be_mass_assigned(
    client: TestClient, db: Session, cast: Cast, field: str, value: Any
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(first_name="Ava"))

    response = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"first_name": "Changed", field: value},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": field, "message": "This field is not accepted here."}
    ]
    person = _person(db, child["id"])
    assert (person.first_name, person.version, person.is_restricted) == ("Ava", 1, False)


def test_a_required_field_cannot_be_cleared(client: TestClient, cast: Cast) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    response = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"last_name": None},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "last_name"


def test_an_update_that_would_break_a_rule_is_refused(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(date_of_birth="2015-05-01"))
    response = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"date_of_death": "2014-01-01"},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "date_of_death"
    assert _person(db, child["id"]).date_of_death is None


def test_giving_a_child_another_childs_nhs_number_is_a_conflict(
    client: TestClient, db: Session, cast: Cast
) -> None:
    number = nhs_number()
    first = post_person(client, cast.officer_headers, child_payload(nhs_number=number))
    second = post_person(client, cast.officer_headers, child_payload())
    response = client.patch(
        f"/api/v1/people/{second['id']}",
        json={"nhs_number": number},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    assert _person(db, second["id"]).nhs_number == second["nhs_number"]


def test_changing_aliases_moves_the_version_on(client: TestClient, db: Session, cast: Cast) -> None:
    child = post_person(
        client,
        cast.officer_headers,
        child_payload(aliases=[{"first_name": "Ava", "last_name": "Jones"}]),
    )
    response = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"aliases": [{"first_name": "Ava", "last_name": "Brown"}]},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert [a["last_name"] for a in response.json()["aliases"]] == ["Brown"]
    update = change_logs(db, child["id"])[-1]
    assert update.changes["aliases"]["before"] == [{"first_name": "Ava", "last_name": "Jones"}]


def test_sending_the_same_values_changes_nothing(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(first_name="Ava"))
    response = client.patch(
        f"/api/v1/people/{child['id']}",
        json={"first_name": "Ava"},
        headers={**cast.worker_headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert len(change_logs(db, child["id"])) == 1
