"""Stories of the IRO's oversight: review timeliness for a period (on time, late and why,
overdue; the percentage held within timescale overall, per IRO and per team), the IRO's view of
every child, and monitoring contacts between reviews."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.iro import reviews as review_service
from app.models import AccessLog, CaseEvent
from app.models.iro import ParticipationCode
from tests.care.factories import bring_into_care, make_care_cast, noon, principal
from tests.factories import auth_headers, make_child
from tests.iro.factories import allocate, hold_review, in_care_with_iro

START = date(2026, 1, 5)  # first reviews due Monday 2 February 2026 (rule 15)


def test_an_iro_sees_which_reviews_in_a_period_were_late_and_why(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    ava = in_care_with_iro(db, cast, on=START)
    ben = make_child(db, first_name="Ben")
    ben_period = bring_into_care(db, cast, on=START, child=ben)
    allocate(db, cast, child=ben, on=START, iro=cast.other_iro)
    cleo = make_child(db, first_name="Cleo")
    in_care_with_iro(db, cast, on=START, child=cleo)
    dev = make_child(db, first_name="Dev")
    in_care_with_iro(db, cast, on=date(2026, 2, 16), child=dev)  # first review due 16 March
    hold_review(db, cast, ava, on=date(2026, 1, 30))
    with clock.frozen_at(noon(date(2026, 2, 10))):
        review_service.cla_review_record(
            db,
            actor=principal(db, cast.other_iro),
            period_id=ben_period.id,
            review_date=date(2026, 2, 10),
            chair_id=None,
            participation=ParticipationCode.PN5,
            lateness_reason="The social worker was off sick",
        )
    headers = auth_headers(db, cast.iro)
    url = "/api/v1/iro/timeliness"
    with clock.frozen_at(noon(date(2026, 3, 1))):
        february = client.get(
            url, params={"from": "2026-02-01", "to": "2026-02-28"}, headers=headers
        )
        for_ben_iro = client.get(
            url,
            params={"from": "2026-02-01", "to": "2026-02-28", "iro": str(cast.other_iro.id)},
            headers=headers,
        )
        other_team = client.get(
            url,
            params={"from": "2026-02-01", "to": "2026-02-28", "team": str(cast.other_team.id)},
            headers=headers,
        )
        backwards = client.get(
            url, params={"from": "2026-03-01", "to": "2026-02-01"}, headers=headers
        )
    assert february.status_code == 200, february.text
    body = february.json()
    assert [
        (r["child_name"], r["status"], r["held_date"], r["lateness_reason"])
        for r in body["reviews"]
    ] == [
        ("Ava Example", "on_time", "2026-01-30", None),
        ("Ben Example", "late", "2026-02-10", "The social worker was off sick"),
        ("Cleo Example", "overdue", None, None),
    ]
    assert body["overall"] == {
        "due": 3,
        "on_time": 1,
        "late": 1,
        "overdue": 1,
        "not_yet_due": 0,
        "percent_on_time": 33.3,
    }
    by_iro = {row["iro_id"]: row["percent_on_time"] for row in body["by_iro"]}
    assert by_iro == {str(cast.iro.id): 50.0, str(cast.other_iro.id): 0.0}
    assert [(row["team_id"], row["due"]) for row in body["by_team"]] == [(str(cast.team.id), 3)]
    assert [r["child_name"] for r in for_ben_iro.json()["reviews"]] == ["Ben Example"]
    assert other_team.json()["overall"]["percent_on_time"] is None
    assert backwards.status_code == 422
    logged = db.scalars(
        select(AccessLog.person_id).where(AccessLog.resource == "iro_timeliness")
    ).all()
    assert set(logged) == {cast.child.id, ben.id, cleo.id}
    assert dev.id not in logged


def test_the_iro_sees_every_child_next_review_and_last_review_on_time(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    ava = in_care_with_iro(db, cast, on=START)
    cleo = make_child(db, first_name="Cleo")
    in_care_with_iro(db, cast, on=START, child=cleo)
    hold_review(db, cast, ava, on=date(2026, 1, 30))
    with clock.frozen_at(noon(date(2026, 2, 3))):
        mine = client.get("/api/v1/iro/children", headers=auth_headers(db, cast.iro))
        others = client.get("/api/v1/iro/children", headers=auth_headers(db, cast.other_iro))
    lines = {line["name"]: line for line in mine.json()}
    assert (
        lines["Ava Example"]["next_review_due"],
        lines["Ava Example"]["last_review_on_time"],
    ) == (
        "2026-04-30",
        True,
    )
    assert lines["Cleo Example"]["next_review_due"] == "2026-02-02"
    assert lines["Cleo Example"]["last_review_date"] is None
    assert others.json() == []
    logged = db.scalars(
        select(AccessLog.person_id).where(AccessLog.resource == "iro_children")
    ).all()
    assert set(logged) == {cast.child.id, cleo.id}


def test_the_iro_keeps_in_touch_with_the_childs_plan_between_reviews(
    client: TestClient, db: Session
) -> None:
    cast = make_care_cast(db)
    period = in_care_with_iro(db, cast, on=START)
    url = f"/api/v1/children/{cast.child.id}/iro-contacts"
    with clock.frozen_at(noon(date(2026, 2, 20))):
        visit = client.post(
            url,
            json={"kind": "visit_child", "notes": "Saw Ava at her carers'"},
            headers=auth_headers(db, cast.iro),
        )
        not_hers = client.post(
            url, json={"kind": "file_review"}, headers=auth_headers(db, cast.other_iro)
        )
        before_care = client.post(
            url,
            json={"kind": "file_review", "contact_date": "2025-12-01"},
            headers=auth_headers(db, cast.iro),
        )
        worker = client.post(
            url, json={"kind": "file_review"}, headers=auth_headers(db, cast.social_worker)
        )
        listed = client.get(url, headers=auth_headers(db, cast.social_worker))
    assert visit.status_code == 201, visit.text
    assert visit.json()["iro_id"] == str(cast.iro.id)
    assert not_hers.status_code == 403
    assert before_care.status_code == 422
    assert before_care.json()["errors"][0]["rule"] == "Children Act 1989 s.25B"
    assert worker.status_code == 403
    assert [c["kind"] for c in listed.json()] == ["visit_child"]
    assert db.scalars(
        select(CaseEvent.action).where(
            CaseEvent.case_id == period.case_id, CaseEvent.action == "iro_contact_recorded"
        )
    ).all() == ["iro_contact_recorded"]
