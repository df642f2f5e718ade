"""Stories of the people around a child and the places they have lived: relationships read from
both sides, end without being lost, and an address history that is never rewritten."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Address, PersonRelationship, Role
from tests.factories import make_user

from .conftest import Cast
from .creators import (
    access_logs,
    adult_payload,
    change_logs,
    child_payload,
    post_person,
    restrict,
)


def _relate(client: TestClient, headers: dict[str, str], person_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/people/{person_id}/relationships", json=body, headers=headers)


def _relationships(client: TestClient, headers: dict[str, str], person_id: str) -> Any:
    response = client.get(f"/api/v1/people/{person_id}/relationships", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_mother_with_parental_responsibility_shows_on_both_records(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload(first_name="Ruby"))
    mum = post_person(client, h, adult_payload(first_name="Jade"))

    created = _relate(
        client,
        h,
        child["id"],
        related_person_id=mum["id"],
        kind="parent",
        has_parental_responsibility=True,
        start_date="2015-05-01",
    )

    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    [from_child] = _relationships(client, cast.worker_headers, child["id"])
    [from_mum] = _relationships(client, cast.worker_headers, mum["id"])
    assert (from_child["related_person"]["first_name"], from_child["is_inverse"]) == ("Jade", False)
    assert (from_mum["related_person"]["first_name"], from_mum["is_inverse"]) == ("Ruby", True)
    assert from_child["has_parental_responsibility"] is True
    assert from_child["is_current"] is True
    [log] = change_logs(db, created.json()["id"])
    assert log.changes["kind"] == "parent"
    assert {str(a.person_id) for a in access_logs(db, user=cast.worker)} == {
        child["id"],
        mum["id"],
    }


def test_recording_siblings_once_is_enough(client: TestClient, cast: Cast) -> None:
    h = cast.officer_headers
    ruby = post_person(client, h, child_payload(first_name="Ruby"))
    alfie = post_person(client, h, child_payload(first_name="Alfie"))
    assert (
        _relate(client, h, ruby["id"], related_person_id=alfie["id"], kind="sibling").status_code
        == 201
    )

    [on_ruby] = _relationships(client, h, ruby["id"])
    [on_alfie] = _relationships(client, h, alfie["id"])
    assert (on_ruby["kind"], on_ruby["related_person"]["first_name"]) == ("sibling", "Alfie")
    assert (on_alfie["kind"], on_alfie["related_person"]["first_name"]) == ("sibling", "Ruby")
    again = _relate(client, h, alfie["id"], related_person_id=ruby["id"], kind="sibling")
    assert again.status_code == 409
    assert again.json()["existing_id"] == on_ruby["id"]


def test_a_person_cannot_be_their_own_relative(client: TestClient, cast: Cast) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    response = _relate(
        client, cast.officer_headers, child["id"], related_person_id=child["id"], kind="sibling"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "related_person_id"


def test_a_pr_holder_holds_parental_responsibility(client: TestClient, cast: Cast) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    gran = post_person(client, h, adult_payload(first_name="Pat", date_of_birth="1960-01-01"))

    refused = _relate(
        client,
        h,
        child["id"],
        related_person_id=gran["id"],
        kind="pr_holder",
        has_parental_responsibility=False,
    )
    implied = _relate(client, h, child["id"], related_person_id=gran["id"], kind="pr_holder")

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "has_parental_responsibility"
    assert implied.status_code == 201
    assert implied.json()["has_parental_responsibility"] is True


def test_bad_relationship_input_is_refused(client: TestClient, cast: Cast) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    mum = post_person(client, h, adult_payload())
    for body, field in (
        ({"related_person_id": mum["id"], "kind": "aunt"}, "kind"),
        ({"related_person_id": "not-an-id", "kind": "parent"}, "related_person_id"),
        (
            {
                "related_person_id": mum["id"],
                "kind": "parent",
                "start_date": "2020-01-02",
                "end_date": "2020-01-01",
            },
            "end_date",
        ),
        ({"related_person_id": mum["id"], "kind": "parent", "version": 3}, "version"),
    ):
        response = _relate(client, h, child["id"], **body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]]


def test_a_restricted_relative_is_neither_linkable_nor_listed_for_an_unnamed_worker(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    hidden = post_person(client, h, child_payload(first_name="Secret"))
    assert (
        _relate(client, h, child["id"], related_person_id=hidden["id"], kind="sibling").status_code
        == 201
    )
    manager = make_user(db, Role.team_manager, team=cast.team, manager=True)
    restrict(db, hidden["id"], named=[cast.worker], by=manager)

    assert _relationships(client, cast.other_headers, child["id"]) == []
    assert len(_relationships(client, cast.worker_headers, child["id"])) == 1
    other = post_person(client, h, adult_payload())
    linking = _relate(
        client, cast.other_headers, other["id"], related_person_id=hidden["id"], kind="relative"
    )
    assert linking.status_code == 404


def test_a_relationship_ends_but_stays_in_the_history(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    partner = post_person(client, h, adult_payload(first_name="Lee"))
    created = _relate(
        client,
        h,
        child["id"],
        related_person_id=partner["id"],
        kind="household_member",
        start_date="2022-01-01",
    ).json()
    url = f"/api/v1/people/{child['id']}/relationships/{created['id']}/end"

    without = client.post(url, json={"end_date": "2024-02-29"}, headers=h)
    too_early = client.post(url, json={"end_date": "2021-12-31"}, headers={**h, "If-Match": '"1"'})
    ended = client.post(url, json={"end_date": "2024-02-29"}, headers={**h, "If-Match": '"1"'})
    stale = client.post(url, headers={**h, "If-Match": '"1"'})
    again = client.post(url, headers={**h, "If-Match": '"2"'})

    assert without.status_code == 428
    assert too_early.status_code == 422
    assert ended.status_code == 200, ended.text
    assert (ended.json()["end_date"], ended.json()["is_current"]) == ("2024-02-29", False)
    assert ended.headers["ETag"] == '"2"'
    assert stale.status_code == 412
    assert again.status_code == 409
    [row] = _relationships(client, h, partner["id"])  # still listed, from the other side too
    assert row["end_date"] == "2024-02-29"
    assert db.scalar(select(func.count()).select_from(PersonRelationship)) == 1
    assert [c.action for c in change_logs(db, created["id"])] == ["create", "end"]


def test_a_relationship_cannot_be_ended_through_someone_elses_record(
    client: TestClient, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    mum = post_person(client, h, adult_payload())
    stranger = post_person(client, h, adult_payload(first_name="Stranger"))
    created = _relate(client, h, child["id"], related_person_id=mum["id"], kind="parent").json()
    response = client.post(
        f"/api/v1/people/{stranger['id']}/relationships/{created['id']}/end",
        headers={**h, "If-Match": '"1"'},
    )
    assert response.status_code == 404


# --------------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------------


def _address(client: TestClient, headers: dict[str, str], owner: str, /, **body: Any) -> Any:
    payload = {"line_1": "1 High Street", "town": "Birmingham", **body}
    return client.post(f"/api/v1/people/{owner}/addresses", json=payload, headers=headers)


def test_moving_house_ends_the_old_address_the_day_before(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    first = _address(client, h, child["id"], postcode="b11aa", start_date="2019-04-01")
    second = _address(client, h, child["id"], postcode="B15 2TT", start_date="2023-09-04")

    assert first.status_code == 201, first.text
    assert first.json()["postcode"] == "B1 1AA"  # normalised
    assert second.status_code == 201
    response = client.get(f"/api/v1/people/{child['id']}/addresses", headers=cast.worker_headers)
    assert response.status_code == 200
    history = response.json()["items"]
    assert [(a["postcode"], a["end_date"], a["is_current"]) for a in history] == [
        ("B15 2TT", None, True),
        ("B1 1AA", "2023-09-03", False),
    ]
    old_id = uuid.UUID(first.json()["id"])
    assert [c.action for c in change_logs(db, old_id)] == ["create", "end"]
    assert [str(a.person_id) for a in access_logs(db, user=cast.worker)] == [child["id"]]


def test_a_past_address_can_be_added_without_disturbing_the_current_one(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    _address(client, h, child["id"], postcode="B15 2TT", start_date="2023-09-04")
    past = _address(
        client, h, child["id"], postcode="B1 1AA", start_date="2016-01-01", end_date="2018-12-31"
    )
    assert past.status_code == 201
    current = db.scalars(select(Address).where(Address.end_date.is_(None))).all()
    assert [a.postcode for a in current] == ["B15 2TT"]


def test_bad_addresses_are_refused_and_nothing_changes(
    client: TestClient, db: Session, cast: Cast
) -> None:
    h = cast.officer_headers
    child = post_person(client, h, child_payload())
    _address(client, h, child["id"], postcode="B15 2TT", start_date="2023-09-04")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    for body, field in (
        ({"postcode": "ZZ9 9ZZZ", "start_date": "2024-01-01"}, "postcode"),
        ({"postcode": "B1 1AA", "start_date": tomorrow}, "start_date"),
        ({"postcode": "B1 1AA", "start_date": "2023-01-01"}, "start_date"),  # before the current
        ({"postcode": "B1 1AA", "start_date": "2023-01-01", "end_date": "2022-01-01"}, "end_date"),
        ({"postcode": "B1 1AA", "start_date": "2024-01-01", "line_1": ""}, "line_1"),
        ({"postcode": "B1 1AA", "start_date": "2024-01-01", "person_id": child["id"]}, "person_id"),
    ):
        response = _address(client, h, child["id"], **body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    rows = db.scalars(select(Address)).all()
    assert [(a.postcode, a.end_date) for a in rows] == [("B15 2TT", None)]


def test_an_address_history_starts_with_any_past_date(client: TestClient, cast: Cast) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    response = _address(
        client,
        cast.officer_headers,
        child["id"],
        postcode="B1 1AA",
        start_date=date(2015, 5, 1).isoformat(),
    )
    assert response.status_code == 201
