"""Stories of legal holds and the retention API: a records manager holds Ava's record for a public
inquiry, the disposal run skips it and says so, the hold is lifted (with its ETag and a reason) and
the next run destroys the record; the list of records due names no one; a social worker may do none
of it."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import ChangeLog, Person, Role, UserAccount
from app.models.retention import RecordDisposal
from tests.care.factories import CareCast, make_care_cast, noon
from tests.factories import auth_headers, make_user
from tests.retention.stories import looked_after_record

AVA_75 = date(2081, 3, 1)


@pytest.fixture
def cast(db: Session) -> CareCast:
    return make_care_cast(db)


@pytest.fixture
def records_manager(db: Session) -> UserAccount:
    return make_user(db, Role.data_officer)


def _ava(db: Session, cast: CareCast) -> Person:
    return looked_after_record(
        db, cast, born=date(2006, 3, 1), in_care=date(2020, 2, 3), ceased=date(2022, 6, 1)
    ).child


def test_a_held_record_survives_the_run_and_goes_once_the_hold_is_lifted(
    client: TestClient, db: Session, cast: CareCast, records_manager: UserAccount
) -> None:
    ava = _ava(db, cast)
    ava_id = ava.id
    headers = auth_headers(db, records_manager)
    with clock.frozen_at(noon(date(2080, 11, 2))):
        placed = client.post(
            f"/api/v1/people/{ava_id}/legal-holds",
            json={"reason": "Independent inquiry: records of children in care 2015-2025",
                  "reference": "INQ-2080-17"},
            headers=headers,
        )  # fmt: skip
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert placed.headers["ETag"] == '"1"'

    with clock.frozen_at(noon(AVA_75)):
        due = client.get("/api/v1/retention/due", headers=headers)
        run = client.post("/api/v1/retention/disposals", json={}, headers=headers)
    assert due.status_code == 200
    listed = {item["person_id"]: item for item in due.json()["items"]}
    assert listed[str(ava_id)] == {
        "person_id": str(ava_id),
        "rule": "looked_after_75th_birthday",
        "disposal_due": "2081-03-01",
        "held": True,
    }
    assert "Ava" not in due.text
    assert run.status_code == 200, run.text
    assert str(ava_id) in run.json()["held"]
    assert str(ava_id) not in run.json()["disposed"]
    db.expire_all()
    assert db.get(Person, ava_id) is not None

    with clock.frozen_at(noon(date(2081, 4, 1))):
        lifted = client.post(
            f"/api/v1/legal-holds/{hold['id']}/lift",
            json={"reason": "The inquiry has reported."},
            headers=headers | {"If-Match": placed.headers["ETag"]},
        )
        again = client.post("/api/v1/retention/disposals", json={}, headers=headers)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["lift_reason"] == "The inquiry has reported."
    assert lifted.headers["ETag"] == '"2"'
    assert again.json()["disposed"] == [str(ava_id)]
    db.expire_all()
    assert db.get(Person, ava_id) is None
    assert db.scalar(select(RecordDisposal.rule).where(RecordDisposal.person_id == ava_id)) == (
        "looked_after_75th_birthday"
    )


def test_placing_and_lifting_a_hold_are_in_the_change_log(
    client: TestClient, db: Session, cast: CareCast, records_manager: UserAccount
) -> None:
    ava = _ava(db, cast)
    headers = auth_headers(db, records_manager)
    placed = client.post(
        f"/api/v1/people/{ava.id}/legal-holds", json={"reason": "Litigation"}, headers=headers
    )
    hold_id = placed.json()["id"]
    client.post(
        f"/api/v1/legal-holds/{hold_id}/lift",
        json={"reason": "Settled"},
        headers=headers | {"If-Match": '"1"'},
    )
    listed = client.get(f"/api/v1/people/{ava.id}/legal-holds", headers=headers)
    assert [h["id"] for h in listed.json()] == [hold_id]
    actions = db.scalars(
        select(ChangeLog.action).where(
            ChangeLog.entity_type == "legal_hold", ChangeLog.entity_id == uuid.UUID(hold_id)
        )
    ).all()
    assert sorted(actions) == ["lift", "place"]


def test_a_hold_needs_a_reason_and_a_lift_needs_the_current_etag(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    ava = _ava(db, cast)
    admin = make_user(db, Role.administrator)
    headers = auth_headers(db, admin)
    url = f"/api/v1/people/{ava.id}/legal-holds"
    no_reason = client.post(url, json={}, headers=headers)
    blank = client.post(url, json={"reason": "   "}, headers=headers)
    placed = client.post(url, json={"reason": "Police investigation"}, headers=headers)
    lift = f"/api/v1/legal-holds/{placed.json()['id']}/lift"
    no_etag = client.post(lift, json={"reason": "Closed"}, headers=headers)
    first = client.post(lift, json={"reason": "Closed"}, headers=headers | {"If-Match": '"1"'})
    stale = client.post(lift, json={"reason": "Closed"}, headers=headers | {"If-Match": '"1"'})
    twice = client.post(lift, json={"reason": "Closed"}, headers=headers | {"If-Match": '"2"'})
    assert no_reason.status_code == 422
    assert blank.status_code == 422
    assert blank.headers["content-type"].startswith("application/problem+json")
    assert placed.status_code == 201
    assert no_etag.status_code == 428
    assert first.status_code == 200
    assert stale.status_code == 412
    assert twice.status_code == 409


def test_a_social_worker_may_not_hold_list_or_dispose(
    client: TestClient, db: Session, cast: CareCast
) -> None:
    ava = _ava(db, cast)
    headers = auth_headers(db, cast.social_worker)
    calls = [
        client.post(f"/api/v1/people/{ava.id}/legal-holds", json={"reason": "x"}, headers=headers),
        client.get(f"/api/v1/people/{ava.id}/legal-holds", headers=headers),
        client.get("/api/v1/retention/due", headers=headers),
        client.post("/api/v1/retention/disposals", json={"dry_run": True}, headers=headers),
        client.post(
            "/api/v1/legal-holds/00000000-0000-0000-0000-000000000001/lift",
            json={"reason": "x"},
            headers=headers | {"If-Match": '"1"'},
        ),
    ]
    assert [c.status_code for c in calls] == [403] * 5
    db.expire_all()
    assert db.get(Person, ava.id) is not None


def test_a_run_as_of_a_future_day_is_refused_but_a_dry_run_may_look_ahead(
    client: TestClient, db: Session, cast: CareCast, records_manager: UserAccount
) -> None:
    ava = _ava(db, cast)
    headers = auth_headers(db, records_manager)
    with clock.frozen_at(noon(date(2030, 1, 7))):
        early = client.post(
            "/api/v1/retention/disposals", json={"as_of": "2081-03-01"}, headers=headers
        )
        look = client.post(
            "/api/v1/retention/disposals",
            json={"as_of": "2081-03-01", "dry_run": True},
            headers=headers,
        )
    assert early.status_code == 422
    assert look.status_code == 200
    assert str(ava.id) in look.json()["would_dispose"]
    db.expire_all()
    assert db.get(Person, ava.id) is not None


def test_a_hold_on_someone_who_does_not_exist_is_not_found(
    client: TestClient, db: Session, records_manager: UserAccount
) -> None:
    headers = auth_headers(db, records_manager)
    missing = client.post(
        "/api/v1/people/00000000-0000-0000-0000-000000000009/legal-holds",
        json={"reason": "Inquiry"},
        headers=headers,
    )
    assert missing.status_code == 404
