"""Stories of a child's legal status changing while looked after: police protection, an EPO, an
interim care order — each change a new SSDA903 episode on the day it starts."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.care.factories import make_care_cast, referred_case
from tests.care.stories import events, post, start
from tests.factories import make_child

DAY_1 = date(2026, 3, 2)


def test_police_protection_then_an_epo_then_an_interim_care_order(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1, entry_route="emergency", legal_status="L1")
    url = f"/api/v1/periods-of-care/{started.json()['id']}/legal-statuses"
    epo = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-04", "legal_status": "L2"},
        etag=started.headers["ETag"],
        today=date(2026, 3, 4),
    )
    assert epo.status_code == 201, epo.text
    assert epo.headers["ETag"] != started.headers["ETag"]
    ico = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-10", "legal_status": "C1", "notes": "ICO granted"},
        etag=epo.headers["ETag"],
        today=date(2026, 3, 10),
    )
    assert ico.status_code == 201, ico.text
    statuses = ico.json()["legal_statuses"]
    assert [(s["legal_status"], s["start_date"], s["end_date"]) for s in statuses] == [
        ("L1", "2026-03-02", "2026-03-04"),
        ("L2", "2026-03-04", "2026-03-10"),
        ("C1", "2026-03-10", None),
    ]
    episodes = ico.json()["episodes"]
    assert [(e["rne"], e["ls"], e["decom"], e["dec"], e["rec"]) for e in episodes] == [
        ("S", "L1", "2026-03-02", "2026-03-04", "X1"),
        ("L", "L2", "2026-03-04", "2026-03-10", "X1"),
        ("L", "C1", "2026-03-10", None, None),
    ]
    assert all(e["reason_place_change"] is None for e in episodes)  # the placement never ended
    assert events(db, "legal_status_changed") == 2


def test_a_stale_etag_loses_and_the_same_status_again_is_refused(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    url = f"/api/v1/periods-of-care/{started.json()['id']}/legal-statuses"
    first = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-05", "legal_status": "C1"},
        etag=started.headers["ETag"],
        today=date(2026, 3, 5),
    )
    assert first.status_code == 201
    stale = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-06", "legal_status": "C2"},
        etag=started.headers["ETag"],
        today=date(2026, 3, 6),
    )
    assert stale.status_code == 412
    same = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-06", "legal_status": "C1"},
        etag=first.headers["ETag"],
        today=date(2026, 3, 6),
    )
    assert same.status_code == 422
    assert same.json()["errors"][0]["rule"] == "SSDA903 434"
    no_if_match = client.post(url, json={"legal_status": "C2"}, headers=cast.headers(db))
    assert no_if_match.status_code == 428


def test_a_change_on_the_day_the_current_status_began_or_before_care_is_refused(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    url = f"/api/v1/periods-of-care/{started.json()['id']}/legal-statuses"
    same_day = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-02", "legal_status": "C1"},
        etag=started.headers["ETag"],
        today=DAY_1,
    )
    assert same_day.status_code == 409
    assert same_day.json()["rule"] == "SSDA903 355"
    before = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-02-20", "legal_status": "C1"},
        etag=started.headers["ETag"],
        today=DAY_1,
    )
    assert before.status_code == 422
    assert before.json()["errors"][0]["rule"] == "SSDA903 501"


def test_legal_statuses_the_childs_age_or_the_period_refuses(
    client: TestClient, db: Session
) -> None:
    """A nine-year-old cannot be remanded (rule 358); a single short break (V3) is a period of its
    own (rule 366); another team's worker may not record the change (403)."""
    cast = make_care_cast(db)
    nine = make_child(db, date_of_birth=date(2016, 6, 1))
    started = start(
        client, db, cast, on=DAY_1, case_id=referred_case(db, cast, opened=DAY_1, child=nine).id
    )
    url = f"/api/v1/periods-of-care/{started.json()['id']}/legal-statuses"
    for status, rule in (("J1", "SSDA903 358"), ("V3", "SSDA903 366")):
        refused = post(
            client,
            db,
            cast,
            url,
            {"start_date": "2026-03-05", "legal_status": status},
            etag=started.headers["ETag"],
            today=date(2026, 3, 5),
        )
        assert refused.status_code == 422, status
        assert refused.json()["errors"][0]["rule"] == rule
    other = post(
        client,
        db,
        cast,
        url,
        {"start_date": "2026-03-05", "legal_status": "C1"},
        etag=started.headers["ETag"],
        today=date(2026, 3, 5),
        headers=cast.headers(db, cast.other_social_worker),
    )
    assert other.status_code == 403
    assert events(db, "legal_status_changed") == 0
