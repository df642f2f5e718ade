"""Stories of care ceasing: the reason (an SSDA903 E-code) and the rules it keeps, the clocks that
stop, and a child who comes back into care later in a new period."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cin.timescales import CIN_REVIEW
from app.deadlines import care_rules
from app.deadlines.service import deadline_open
from app.models import Deadline
from app.models.care import PeriodOfCare
from tests.care.factories import make_care_cast, referred_case
from tests.care.stories import events, placement, post, start
from tests.factories import make_child

DAY_1 = date(2026, 1, 5)
HOME = date(2026, 2, 27)  # a Friday at a month's end


def _cease(
    client: TestClient,
    db: Session,
    cast: Any,
    started: Any,
    body: dict[str, Any],
    *,
    today: date = HOME,
    etag: str | None = None,
) -> Any:
    return post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{started.json()['id']}/cease",
        body,
        etag=etag or started.headers["ETag"],
        today=today,
    )


def test_a_child_returns_home_and_every_looked_after_clock_stops(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    period_id = started.json()["id"]
    period = db.get(PeriodOfCare, uuid.UUID(period_id))
    assert period is not None
    care_plan = deadline_open(
        db,
        rule=care_rules.CARE_PLAN,
        subject_type="period_of_care",
        subject_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=DAY_1,
        due_date=date(2026, 1, 19),
    )
    other_kind = deadline_open(
        db,
        rule=CIN_REVIEW,
        subject_type="cin_plan",
        subject_id=period.id,
        case_id=period.case_id,
        child_id=period.child_id,
        start_date=DAY_1,
        due_date=date(2026, 4, 5),
    )
    db.commit()
    ceased = _cease(
        client,
        db,
        cast,
        started,
        {
            "end_date": HOME.isoformat(),
            "reason_ceased": "E4A",
            "notes": "Home as planned",
        },
    )
    assert ceased.status_code == 200, ceased.text
    body = ceased.json()
    assert (body["state"], body["end_date"], body["reason_ceased"]) == (
        "ceased",
        "2026-02-27",
        "E4A",
    )
    assert body["placements"][0]["end_date"] == "2026-02-27"
    assert body["placements"][0]["end_reason"] is None  # care ceased: not a change of placement
    assert body["legal_statuses"][0]["end_date"] == "2026-02-27"
    [episode] = body["episodes"]
    assert (episode["dec"], episode["rec"], episode["reason_place_change"]) == (
        "2026-02-27",
        "E4A",
        None,
    )
    db.expire_all()
    assert db.get(Deadline, care_plan.id).stopped_date == HOME  # type: ignore[union-attr]
    assert db.get(Deadline, other_kind.id).stopped_date is None  # type: ignore[union-attr]
    assert events(db, "care_ceased") == 1
    twice = _cease(client, db, cast, started, {"reason_ceased": "E4A"}, etag=ceased.headers["ETag"])
    assert twice.status_code == 409


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("X1", "SSDA903 149"),
        ("E11", "390"),
        ("E46", None),  # from a foster placement: allowed
        ("E17", "460"),
        ("E5", "387"),
        ("E7", "389"),
        ("E2", "E2 needs the date of death"),
    ],
)
def test_reasons_care_ceased_keep_the_validator_rules(
    client: TestClient, db: Session, reason: str, rule: str | None
) -> None:
    cast = make_care_cast(db)  # the child is 10
    started = start(client, db, cast, on=DAY_1)
    ceased = _cease(
        client, db, cast, started, {"end_date": HOME.isoformat(), "reason_ceased": reason}
    )
    if rule is None:
        assert ceased.status_code == 200, ceased.text
    else:
        assert ceased.status_code == 422, ceased.text
        assert ceased.json()["errors"][0]["rule"] == rule
        assert events(db, "care_ceased") == 0


def test_a_child_who_died_ceases_on_the_date_of_death(client: TestClient, db: Session) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    cast.child.date_of_death = date(2026, 2, 20)
    db.commit()
    wrong_day = _cease(client, db, cast, started, {"end_date": "2026-02-19", "reason_ceased": "E2"})
    assert wrong_day.json()["errors"][0]["field"] == "end_date"
    died = _cease(client, db, cast, started, {"end_date": "2026-02-20", "reason_ceased": "E2"})
    assert died.status_code == 200, died.text


def test_an_age_assessed_adult_never_starts_another_period(client: TestClient, db: Session) -> None:
    """SSDA903 rule 437: no episode follows E2 or E15."""
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    _cease(client, db, cast, started, {"end_date": HOME.isoformat(), "reason_ceased": "E15"})
    again = start(client, db, cast, on=date(2026, 3, 9), case_id=started.json()["case_id"])
    assert again.status_code == 409
    assert again.json()["rule"] == "SSDA903 437"


def test_care_cannot_cease_in_a_temporary_placement_or_with_a_stale_etag(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    started = start(client, db, cast, on=DAY_1)
    hospital = post(
        client,
        db,
        cast,
        f"/api/v1/periods-of-care/{started.json()['id']}/placements",
        {
            "start_date": "2026-02-10",
            "planned_ending": False,
            "placement": placement(
                placement_type="T1",
                provider=None,
                ofsted_urn=None,
                carer_key="hospital",
                placement_postcode="B15 2TH",
            ),
        },
        etag=started.headers["ETag"],
        today=date(2026, 2, 10),
    )
    assert hospital.status_code == 201, hospital.text
    stale = _cease(
        client, db, cast, started, {"end_date": HOME.isoformat(), "reason_ceased": "E4A"}
    )
    assert stale.status_code == 412
    refused = _cease(
        client,
        db,
        cast,
        started,
        {"end_date": HOME.isoformat(), "reason_ceased": "E4A"},
        etag=hospital.headers["ETag"],
    )
    assert refused.status_code == 409
    assert refused.json()["rule"] == "SSDA903 381"


def test_a_girl_of_seventeen_ceases_on_her_eighteenth_birthday_at_the_latest(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    older = make_child(db, date_of_birth=date(2008, 2, 20))
    started = start(
        client, db, cast, on=DAY_1, case_id=referred_case(db, cast, opened=DAY_1, child=older).id
    )
    late = _cease(client, db, cast, started, {"end_date": "2026-02-21", "reason_ceased": "E17"})
    assert late.json()["errors"][0]["rule"] == "SSDA903 359"
    on_birthday = _cease(
        client, db, cast, started, {"end_date": "2026-02-20", "reason_ceased": "E17"}
    )
    assert on_birthday.status_code == 200, on_birthday.text
    periods = db.scalars(select(PeriodOfCare).where(PeriodOfCare.child_id == older.id)).all()
    assert [p.reason_ceased.value for p in periods if p.reason_ceased] == ["E17"]
