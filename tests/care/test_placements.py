"""Stories of a looked-after child's placements: a move, the rules a placement keeps, a correction
without a move, and a refused move that leaves nothing behind."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from app.care.distance import postcode_data_available
from app.models import CaseEvent
from tests.care.factories import make_care_cast, noon
from tests.care.stories import events, placement, post, start

DAY_1 = date(2026, 1, 5)
MOVE = date(2026, 2, 2)


def _move(
    client: TestClient,
    db: Session,
    cast: Any,
    started: Any,
    body: dict[str, Any],
    *,
    today: date = MOVE,
    etag: str | None = None,
) -> Any:
    return post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{started.json()['id']}/placements",
        {"start_date": today.isoformat(), **body},
        etag=etag or started.headers["ETag"],
        today=today,
    )


def test_a_child_moves_to_a_childrens_home_out_of_area(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    moved = _move(
        client,
        db,
        cast,
        started,
        {
            "placement": placement(
                placement_type="K2",
                provider="PR4",
                ofsted_urn="SC654321",
                carer_key="home-9",
                placement_postcode="SW1A 1AA",
                placement_la_code="213",
            ),
            "end_reason": "CREQB",
            "planned_ending": False,
        },
    )
    assert moved.status_code == 201, moved.text
    first, second = moved.json()["placements"]
    assert (first["end_date"], first["end_reason"], first["planned_ending"]) == (
        "2026-02-02",
        "CREQB",
        False,
    )
    assert (second["start_date"], second["end_date"], second["is_out_of_area"]) == (
        "2026-02-02",
        None,
        True,
    )
    episodes = moved.json()["episodes"]
    assert [
        (e["rne"], e["place"], e["dec"], e["rec"], e["reason_place_change"]) for e in episodes
    ] == [
        ("S", "U6", "2026-02-02", "X1", "CREQB"),
        ("P", "K2", None, None, None),
    ]
    assert events(db, "placement_changed") == 1
    current = care_service.current_placement(db, child_id=cast.child.id)
    assert current is not None
    assert current.placement_type.value == "K2"


@pytest.mark.skipif(not postcode_data_available(), reason="OS Code-Point Open data not installed")
def test_the_distance_from_home_is_measured_between_real_postcodes(
    client: TestClient, db: Session
) -> None:
    """B1 1BB to B15 2TT is 3.45 km on the National Grid; an unknown postcode gives no distance
    rather than a guess."""
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    assert started.json()["placements"][0]["distance_km"] == 3.45
    unknown = start(
        client, db, make_care_cast(db), on=DAY_1, place=placement(home_postcode="B1 1AA")
    )
    assert unknown.json()["placements"][0]["distance_km"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"provider": None}, "placement.provider", "SSDA903 526"),
        ({"placement_type": "T4", "ofsted_urn": None}, "placement.provider", "SSDA903 213"),
        (
            {"placement_type": "P1", "provider": "PR1", "ofsted_urn": None},
            "placement.provider",
            "SSDA903 527",
        ),
        ({"placement_type": "P1", "provider": "PR0"}, "placement.ofsted_urn", "SSDA903 222"),
        ({"placement_type": "K2", "ofsted_urn": None}, "placement.ofsted_urn", "SSDA903 218"),
        ({"placement_type": "R1", "ofsted_urn": "XXXXXXX"}, "placement.ofsted_urn", "SSDA903 242"),
        ({"placement_type": "K3", "provider": "PR4"}, "placement.placement_type", "SSDA903 371"),
        ({"provider": "PR0"}, "placement.provider", "SSDA903 550"),
    ],
)
def test_a_placement_that_breaks_an_ssda903_rule_is_refused_naming_it(
    client: TestClient, db: Session, overrides: dict[str, Any], field: str, rule: str
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    refused = _move(
        client,
        db,
        cast,
        started,
        {
            "placement": placement(**overrides),
            "end_reason": "CARPL",
            "planned_ending": True,
        },
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert (error["field"], error["rule"]) == (field, rule)


def test_a_childrens_home_in_wales_needs_no_ofsted_urn(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    moved = _move(
        client,
        db,
        cast,
        started,
        {
            "placement": placement(
                placement_type="K2",
                provider="PR4",
                ofsted_urn=None,
                placement_postcode="CF10 1AA",
                placement_la_code="WAL",
            ),
            "end_reason": "CARPL",
            "planned_ending": True,
        },
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["placements"][1]["is_out_of_area"] is True


def test_a_refused_move_leaves_the_previous_placement_current_and_no_event(
    client: TestClient, db: Session
) -> None:
    """Nothing partial on error: the move is refused after the checks that need the episodes
    (a move into a foster placement identical to the current one, rule 435), so the request
    rolls back whole."""
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    refused = _move(
        client,
        db,
        cast,
        started,
        {
            "placement": placement(carer_key="carer-2"),
            "end_reason": "CARPL",
            "planned_ending": True,
        },
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["rule"] == "SSDA903 435"
    db.expire_all()
    current = care_service.current_placement(db, child_id=cast.child.id)
    assert current is not None
    assert (current.start_date, current.end_date, current.end_reason) == (DAY_1, None, None)
    assert events(db, "placement_changed") == 0
    again = client.get(f"/api/v1/periods-of-care/{started.json()['id']}", headers=cast.headers(db))
    assert again.headers["ETag"] == started.headers["ETag"]


def test_a_move_needs_its_reason_and_falls_inside_the_period(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    new = placement(placement_postcode="B15 2TH", carer_key="carer-2")
    no_reason = _move(client, db, cast, started, {"placement": new, "planned_ending": True})
    assert no_reason.json()["errors"][0]["rule"] == "SSDA903 225"
    before = _move(
        client,
        db,
        cast,
        started,
        {
            "placement": new,
            "end_reason": "CARPL",
            "planned_ending": True,
            "start_date": "2026-01-01",
        },
    )
    assert before.status_code == 422
    assert before.json()["errors"][0]["rule"] == "SSDA903 501"
    ceased = post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{started.json()['id']}/cease",
        {"end_date": "2026-01-20", "reason_ceased": "E4A"},
        etag=started.headers["ETag"],
        today=date(2026, 1, 20),
    )
    after = _move(
        client,
        db,
        cast,
        started,
        {
            "placement": new,
            "end_reason": "CARPL",
            "planned_ending": True,
        },
        etag=ceased.headers["ETag"],
    )
    assert after.status_code == 409
    assert after.json()["code"] == "period_ceased"


def test_a_wrong_urn_is_corrected_without_a_move_and_the_correction_is_audited(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    [first] = started.json()["placements"]
    url = f"/api/v1/placements/{first['id']}"
    headers = cast.headers(db)
    with clock.frozen_at(noon(MOVE)):
        corrected = client.patch(
            url,
            json={"ofsted_urn": "SC999999", "reason": "Typed the agency's old URN"},
            headers={**headers, "If-Match": f'"{first["version"]}"'},
        )
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["ofsted_urn"] == "SC999999"
        stale = client.patch(
            url,
            json={"carer_name": "Ms Carer", "reason": "Name"},
            headers={**headers, "If-Match": f'"{first["version"]}"'},
        )
        assert stale.status_code == 412
        wrong = client.patch(
            url,
            json={"ofsted_urn": None, "reason": "No URN"},
            headers={**headers, "If-Match": corrected.headers["ETag"]},
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["rule"] == "SSDA903 218"
    event = db.scalar(select(CaseEvent).where(CaseEvent.action == "placement_corrected"))
    assert event is not None
    assert event.reason == "Typed the agency's old URN"
    assert event.changes["ofsted_urn"] == {"before": "SC123456", "after": "SC999999"}
    period = client.get(f"/api/v1/periods-of-care/{started.json()['id']}", headers=headers)
    assert period.json()["episodes"][0]["urn"] == "SC999999"
