"""Stories of finding a child: by name, alias, date of birth, NHS number, UPN or any past
postcode; restricted children only for those named on them; every result access-logged."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Role
from tests.factories import make_user

from .conftest import Cast
from .creators import access_logs, child_payload, nhs_number, post_person, restrict, upn


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get("/api/v1/people/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


def _add_address(
    client: TestClient, headers: dict[str, str], person_id: str, postcode: str, start: str
) -> None:
    response = client.post(
        f"/api/v1/people/{person_id}/addresses",
        json={"line_1": "1 High Street", "postcode": postcode, "start_date": start},
        headers=headers,
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def family(client: TestClient, cast: Cast) -> dict[str, dict[str, Any]]:
    h = cast.officer_headers
    return {
        "leila": post_person(
            client,
            h,
            child_payload(
                first_name="Leila",
                last_name="Haddad",
                date_of_birth="2016-03-04",
                aliases=[{"first_name": "Layla", "last_name": "Morgan"}],
            ),
        ),
        "omar": post_person(
            client,
            h,
            child_payload(first_name="Omar", last_name="Haddad", date_of_birth="2012-07-19"),
        ),
        "harriet": post_person(
            client,
            h,
            child_payload(first_name="Harriet", last_name="Hadley", date_of_birth="2016-03-04"),
        ),
    }


def test_a_name_prefix_finds_first_names_and_surnames_whatever_the_case(
    client: TestClient, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    h = cast.worker_headers
    assert set(_search(client, h, name="HAD")) == {
        family["leila"]["id"],
        family["omar"]["id"],
        family["harriet"]["id"],
    }
    assert _search(client, h, name="lei") == [family["leila"]["id"]]
    assert _search(client, h, name="omar hadd") == [family["omar"]["id"]]


def test_an_alias_finds_the_child(
    client: TestClient, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    assert _search(client, cast.worker_headers, name="morg") == [family["leila"]["id"]]
    assert _search(client, cast.worker_headers, name="layla") == [family["leila"]["id"]]


def test_date_of_birth_narrows_a_name(
    client: TestClient, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    assert set(_search(client, cast.worker_headers, date_of_birth="2016-03-04")) == {
        family["leila"]["id"],
        family["harriet"]["id"],
    }
    assert _search(client, cast.worker_headers, name="haddad", date_of_birth="2016-03-04") == [
        family["leila"]["id"]
    ]


def test_nhs_number_and_upn_find_exactly_one_child(client: TestClient, cast: Cast) -> None:
    number, pupil, former = nhs_number(), upn(), upn()
    child = post_person(
        client, cast.officer_headers, child_payload(nhs_number=number, upn=pupil, former_upn=former)
    )
    post_person(client, cast.officer_headers, child_payload())
    h = cast.worker_headers
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    assert _search(client, h, nhs_number=spaced) == [child["id"]]
    assert _search(client, h, upn=pupil.lower()) == [child["id"]]
    assert _search(client, h, upn=former) == [child["id"]]


def test_a_past_postcode_still_finds_the_child(client: TestClient, cast: Cast) -> None:
    child = post_person(client, cast.officer_headers, child_payload())
    _add_address(client, cast.officer_headers, child["id"], "B1 1AA", "2019-01-01")
    _add_address(client, cast.officer_headers, child["id"], "B15 2TT", "2022-06-01")

    assert _search(client, cast.worker_headers, postcode="b11aa") == [child["id"]]
    assert _search(client, cast.worker_headers, postcode="B15 2TT") == [child["id"]]
    assert _search(client, cast.worker_headers, postcode="B16 8QG") == []


def test_a_search_without_a_criterion_is_refused(client: TestClient, cast: Cast) -> None:
    response = client.get("/api/v1/people/search", headers=cast.worker_headers)
    assert response.status_code == 422
    assert "name" in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"nhs_number": "1234567890"}, "nhs_number"),
        ({"upn": "A000000000000"}, "upn"),
        ({"postcode": "NOT A CODE"}, "postcode"),
        ({"date_of_birth": "31/12/2015"}, "date_of_birth"),
        ({"name": "ava", "limit": 0}, "limit"),
        ({"name": "ava", "cursor": "garbage!"}, "cursor"),
    ],
)
def test_bad_criteria_are_refused_naming_them(
    client: TestClient, cast: Cast, params: dict[str, Any], field: str
) -> None:
    response = client.get("/api/v1/people/search", params=params, headers=cast.worker_headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_wildcards_in_a_name_are_taken_literally(
    client: TestClient, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    assert _search(client, cast.worker_headers, name="%") == []
    assert _search(client, cast.worker_headers, name="_") == []


def test_results_come_a_page_at_a_time(
    client: TestClient, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params: dict[str, Any] = {"name": "had", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get(
            "/api/v1/people/search", params=params, headers=cast.worker_headers
        ).json()
        seen += [p["id"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3
    assert set(seen) == {p["id"] for p in family.values()}
    # Haddad, Haddad, Hadley: ordered by surname then first name.
    assert seen == [family["leila"]["id"], family["omar"]["id"], family["harriet"]["id"]]


def test_a_restricted_child_never_appears_to_an_unnamed_worker(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(last_name="Quenby"))
    manager = make_user(db, Role.team_manager, team=cast.team, manager=True)
    restrict(db, child["id"], named=[cast.worker], by=manager)

    for params in (
        {"name": "quen"},
        {"nhs_number": child["nhs_number"]},
        {"upn": child["upn"]},
        {"date_of_birth": child["date_of_birth"]},
    ):
        assert _search(client, cast.other_headers, **params) == []
        assert _search(client, cast.worker_headers, **params) == [child["id"]]
    assert access_logs(db, user=cast.other_worker, action="search") == []


def test_every_person_a_search_returns_is_access_logged(
    client: TestClient, db: Session, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    found = _search(client, cast.worker_headers, name="haddad")

    logs = access_logs(db, user=cast.worker, action="search")
    assert sorted(str(log.person_id) for log in logs) == sorted(found)
    assert all(log.resource == "/api/v1/people/search" for log in logs)


# --------------------------------------------------------------------------------------------------
# Duplicates
# --------------------------------------------------------------------------------------------------


def _duplicates(client: TestClient, headers: dict[str, str], **candidate: Any) -> Any:
    response = client.post("/api/v1/people/duplicates", json=candidate, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_front_door_officer_checks_for_duplicates_before_recording(
    client: TestClient, db: Session, cast: Cast, family: dict[str, dict[str, Any]]
) -> None:
    leila = family["leila"]
    h = cast.officer_headers

    by_name = _duplicates(client, h, last_name="haddad", date_of_birth="2016-03-04")
    assert [(m["person"]["id"], m["reasons"]) for m in by_name["matches"]] == [
        (leila["id"], ["surname_and_date_of_birth"])
    ]
    by_alias = _duplicates(client, h, last_name="Morgan", date_of_birth="2016-03-04")
    assert [(m["person"]["id"], m["reasons"]) for m in by_alias["matches"]] == [
        (leila["id"], ["alias_surname_and_date_of_birth"])
    ]
    by_ids = _duplicates(
        client, h, nhs_number=leila["nhs_number"], upn=family["omar"]["upn"], last_name="Nobody"
    )
    assert {m["person"]["id"]: m["reasons"] for m in by_ids["matches"]} == {
        leila["id"]: ["nhs_number"],
        family["omar"]["id"]: ["upn"],
    }
    assert by_ids["matches"][0]["person"]["id"] == leila["id"]  # the NHS number match first
    assert len(access_logs(db, user=cast.officer, action="search")) == 4


def test_a_restricted_duplicate_is_only_hinted_at_by_its_nhs_number(
    client: TestClient, db: Session, cast: Cast
) -> None:
    child = post_person(client, cast.officer_headers, child_payload(last_name="Quenby"))
    manager = make_user(db, Role.team_manager, team=cast.team, manager=True)
    restrict(db, child["id"], named=[], by=manager)

    by_name = _duplicates(
        client, cast.worker_headers, last_name="Quenby", date_of_birth=child["date_of_birth"]
    )
    by_nhs = _duplicates(client, cast.worker_headers, nhs_number=child["nhs_number"])

    assert by_name == {"matches": [], "hidden_match": False, "message": None}
    assert by_nhs["matches"] == []
    assert by_nhs["hidden_match"] is True
    assert "contact the team manager" in by_nhs["message"]


def test_a_duplicate_check_needs_something_to_match_on(client: TestClient, cast: Cast) -> None:
    response = client.post(
        "/api/v1/people/duplicates", json={"first_name": "Ava"}, headers=cast.officer_headers
    )
    assert response.status_code == 422
