"""Stories of a child coming into care through the API: the routes in, the period's record, who may
see and change it, and the periods that must never overlap."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.models import AccessLog, Case
from app.models.care import PeriodOfCare
from tests.care.factories import make_care_cast, noon, principal, referred_case
from tests.care.stories import events, placement, post, start
from tests.factories import make_child

MONDAY = date(2026, 3, 2)


def test_a_child_accommodated_under_section_20_has_a_period_with_one_episode(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=MONDAY)
    assert started.status_code == 201, started.text
    body = started.json()
    assert started.headers["Location"] == f"/api/v1/periods-of-care/{body['id']}"
    assert started.headers["ETag"] == f'"{body["version"]}"'
    assert body["state"] == "looked_after"
    assert [s["legal_status"] for s in body["legal_statuses"]] == ["V2"]
    [only] = body["placements"]
    assert (only["placement_type"], only["is_out_of_area"], only["end_date"]) == ("U6", False, None)
    [episode] = body["episodes"]
    assert (episode["rne"], episode["ls"], episode["place"], episode["decom"]) == (
        "S",
        "V2",
        "U6",
        "2026-03-02",
    )
    assert (episode["dec"], episode["rec"], episode["reason_place_change"]) == (None, None, None)
    case = db.get(Case, uuid.UUID(body["case_id"]))
    assert case is not None
    assert case.state == "looked_after"
    assert events(db, "care_started") == 1

    reads_before = db.scalar(
        select(func.count()).select_from(AccessLog).where(AccessLog.person_id == cast.child.id)
    )
    got = client.get(f"/api/v1/periods-of-care/{body['id']}", headers=cast.headers(db))
    assert got.status_code == 200
    assert got.json()["episodes"] == body["episodes"]
    listed = client.get(
        f"/api/v1/children/{cast.child.id}/periods-of-care", headers=cast.headers(db)
    )
    assert [p["id"] for p in listed.json()] == [body["id"]]
    reads_after = db.scalar(
        select(func.count()).select_from(AccessLog).where(AccessLog.person_id == cast.child.id)
    )
    assert reads_after == (reads_before or 0) + 2  # each read that shows the child is logged


def test_an_assessment_that_decided_looked_after_moved_the_case_and_the_period_starts_later(
    client: TestClient, db: Session
) -> None:
    """The case machine's become_looked_after is taken by the assessment's outcome; the period
    starts with the placement, two days later, and does not move the case again."""
    cast = make_care_cast(db)
    case = referred_case(db, cast, opened=MONDAY)
    with clock.frozen_at(noon(MONDAY)):
        case_service.case_transition(
            db,
            actor=principal(db, cast.manager),
            case_id=case.id,
            event="become_looked_after",
            expected_version=case.version,
            reason="Assessment authorised: the child should be looked after",
        )
    db.commit()
    started = start(
        client,
        db,
        cast,
        on=date(2026, 3, 4),
        case_id=case.id,
        entry_route="assessment",
        legal_status="C1",
    )
    assert started.status_code == 201, started.text
    assert events(db, "become_looked_after") == 1
    assert started.json()["episodes"][0]["ls"] == "C1"


@pytest.mark.parametrize(
    ("entry_route", "legal_status"),
    [
        ("emergency", "L1"),
        ("emergency", "L2"),
        ("section_20", "V2"),
        ("court_order", "C1"),
        ("short_breaks", "V4"),
    ],
)
def test_each_way_into_care_starts_under_its_legal_status(
    client: TestClient, db: Session, entry_route: str, legal_status: str
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=MONDAY, entry_route=entry_route, legal_status=legal_status)
    assert started.status_code == 201, started.text
    assert started.json()["entry_route"] == entry_route


def test_a_remanded_child_of_eleven_comes_into_care_under_j1_but_a_child_of_ten_cannot(
    client: TestClient, db: Session
) -> None:
    """SSDA903 rule 358: J1-J3 only after the 10th birthday (on the birthday itself is refused)."""
    cast = make_care_cast(db)
    ten = make_child(db, date_of_birth=date(2016, 3, 2))
    refused = start(
        client,
        db,
        cast,
        on=MONDAY,
        entry_route="remand",
        legal_status="J1",
        case_id=referred_case(db, cast, opened=MONDAY, child=ten).id,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "SSDA903 358"
    started = start(client, db, cast, on=MONDAY, entry_route="remand", legal_status="J1")
    assert started.status_code == 201, started.text


def test_the_way_in_and_the_first_legal_status_must_agree(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    refused = start(client, db, cast, on=MONDAY, entry_route="emergency", legal_status="V2")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "legal_status"


def test_a_young_person_of_18_is_not_looked_after(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    adult = make_child(db, date_of_birth=date(2008, 3, 2))
    refused = start(
        client, db, cast, on=MONDAY, case_id=referred_case(db, cast, opened=MONDAY, child=adult).id
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "Children Act 1989 s.105"


def test_care_does_not_start_in_a_temporary_placement(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    refused = start(
        client,
        db,
        cast,
        on=MONDAY,
        place=placement(placement_type="T1", provider=None, ofsted_urn=None),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "SSDA903 380"


def test_another_teams_worker_cannot_start_care_and_a_restricted_child_is_not_found(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    case = referred_case(db, cast, opened=MONDAY)
    other = start(
        client,
        db,
        cast,
        on=MONDAY,
        case_id=case.id,
        headers=cast.headers(db, cast.other_social_worker),
    )
    assert other.status_code == 403
    started = start(client, db, cast, on=MONDAY, case_id=case.id)
    assert started.status_code == 201
    cast.child.is_restricted = True
    db.commit()
    hidden = client.get(f"/api/v1/periods-of-care/{started.json()['id']}", headers=cast.headers(db))
    assert hidden.status_code == 404
    assert (
        client.get(
            f"/api/v1/children/{cast.child.id}/episodes", headers=cast.headers(db)
        ).status_code
        == 404
    )


def test_periods_of_care_never_overlap(client: TestClient, db: Session) -> None:
    """Already refused by period_of_care_start (SSDA903 rule 142): a second start while looked
    after, and a back-dated start inside a period that has ceased."""
    cast = make_care_cast(db)
    first = start(client, db, cast, on=MONDAY)
    again = start(client, db, cast, on=date(2026, 3, 9), case_id=first.json()["case_id"])
    assert again.status_code == 409
    assert again.json()["code"] == "already_looked_after"
    ceased = post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{first.json()['id']}/cease",
        {"end_date": "2026-04-01", "reason_ceased": "E4A"},
        etag=first.headers["ETag"],
        today=date(2026, 4, 1),
    )
    assert ceased.status_code == 200, ceased.text
    inside = start(client, db, cast, on=date(2026, 4, 2), case_id=first.json()["case_id"])
    assert inside.status_code == 201, inside.text  # the day after it ceased is a new period
    periods = db.scalars(select(PeriodOfCare).where(PeriodOfCare.child_id == cast.child.id)).all()
    assert len(periods) == 2
