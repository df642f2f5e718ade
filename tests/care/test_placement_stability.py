"""Placement stability (timescales.md, "Measures"): three or more placements in a year, and for
children under 16 looked after for two and a half years, two years in the same placement."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from tests.care.factories import make_care_cast, noon, principal, referred_case
from tests.care.stories import placement, post, start
from tests.factories import make_child


def test_a_third_placement_in_a_year_is_flagged(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=date(2025, 4, 7))
    etag = started.headers["ETag"]
    url = f"/api/v1/periods-of-care/{started.json()['id']}/placements"
    for day, postcode, carer in (
        (date(2025, 6, 30), "B15 2TH", "c2"),
        (date(2025, 9, 1), "B1 1BB", "c3"),
    ):
        moved = post(
            client,
            db,
            cast,
            url,
            {
                "start_date": day.isoformat(),
                "end_reason": "CREQB",
                "planned_ending": False,
                "placement": placement(placement_postcode=postcode, carer_key=carer),
            },
            etag=etag,
            today=day,
        )
        assert moved.status_code == 201, moved.text
        etag = moved.headers["ETag"]
    answer = client.get(
        f"/api/v1/children/{cast.child.id}/placement-stability",
        params={"on": "2026-03-31"},
        headers=cast.headers(db),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["placements_last_12_months"], body["three_or_more_placements"]) == (3, True)
    assert (body["long_term_cohort"], body["same_placement_2_years"]) == (False, None)
    a_year_on = client.get(
        f"/api/v1/children/{cast.child.id}/placement-stability",
        params={"on": "2026-09-01"},
        headers=cast.headers(db),
    )
    assert a_year_on.json()["placements_last_12_months"] == 1  # moved in on 1 Sep 2025


def test_a_team_sees_who_has_been_settled_two_years_among_those_in_care_two_and_a_half(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    settled = make_child(db, date_of_birth=date(2014, 1, 10))
    moved = make_child(db, date_of_birth=date(2014, 1, 10))
    older = make_child(db, date_of_birth=date(2009, 1, 10))  # 16 by the date measured: outside
    for child in (settled, moved, older):
        start(
            client,
            db,
            cast,
            on=date(2023, 6, 1),
            case_id=referred_case(db, cast, opened=date(2023, 6, 1), child=child).id,
        )
    period = care_service.open_period(db, child_id=moved.id)
    assert period is not None
    post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{period.id}/placements",
        {
            "start_date": "2025-06-02",
            "end_reason": "CARPL",
            "planned_ending": True,
            "placement": placement(placement_type="U4", carer_key="c9"),
        },
        etag=f'"{period.version}"',
        today=date(2025, 6, 2),
    )
    with clock.frozen_at(noon(date(2026, 3, 31))):
        measures = care_service.team_placement_stability(
            db, actor=principal(db, cast.manager), team_id=cast.team.id, on=date(2026, 3, 31)
        )
    by_child = {m.child_id: m for m in measures}
    assert by_child[settled.id].long_term_cohort
    assert by_child[settled.id].same_placement_2_years is True
    assert by_child[moved.id].same_placement_2_years is False
    assert by_child[older.id].long_term_cohort is False
    assert by_child[older.id].same_placement_2_years is None
