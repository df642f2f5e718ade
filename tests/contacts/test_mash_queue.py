"""Stories of the MASH queue and its clock: red first, then soonest due, with the working time
left — over a weekend, Christmas and Easter."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.contacts.timescales import time_left, working_time_between
from app.models import AccessLog, Person, TeamKind
from tests.contacts.creators import (
    FrontDoor,
    at,
    contact_body,
    deadline,
    decide,
    post_contact,
)
from tests.factories import auth_headers, make_child, make_team


def _queue(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/contacts", params=params, headers=headers)
    assert response.status_code == 200, response.json()
    result: dict[str, Any] = response.json()
    return result


def _receive(
    client: TestClient,
    headers: dict[str, str],
    fd: FrontDoor,
    child: Person,
    rag: str,
    when: datetime,
) -> dict[str, Any]:
    with clock.frozen_at(when):
        return post_contact(client, headers, contact_body(fd, child, rag=rag))


def test_the_queue_shows_red_first_then_soonest_due_with_the_working_time_left(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    kids = {name: make_child(db, first_name=name) for name in ("Gus", "Amy", "Rex", "Ria", "Dot")}
    green = _receive(client, headers, fd, kids["Gus"], "green", at(2025, 11, 24, 9, 30))
    amber = _receive(client, headers, fd, kids["Amy"], "amber", at(2025, 11, 24, 10, 0))
    late_red = _receive(client, headers, fd, kids["Rex"], "red", at(2025, 11, 24, 11, 0))
    early_red = _receive(client, headers, fd, kids["Ria"], "red", at(2025, 11, 24, 9, 0))
    done = _receive(client, headers, fd, kids["Dot"], "red", at(2025, 11, 24, 9, 15))
    with clock.frozen_at(at(2025, 11, 24, 9, 45)):
        assert (
            decide(
                client,
                headers,
                done,
                {"child_id": str(kids["Dot"].id), "decision": "early_help", "reason": "Support."},
            ).status_code
            == 200
        )
    elsewhere = make_team(db, kind=TeamKind.front_door)
    with clock.frozen_at(at(2025, 11, 24, 8, 0)):
        other = post_contact(
            client,
            auth_headers(db, fd.mash_manager),
            contact_body(fd, fd.ava, rag="red") | {"team_id": str(elsewhere.id)},
            status=403,
        )
    assert other["code"] == "forbidden"

    before = len(db.scalars(select(AccessLog)).all())
    with clock.frozen_at(at(2025, 11, 24, 12, 0)):
        page = _queue(client, headers, state="open", team_id=str(fd.mash.id))
    items = page["items"]
    assert [i["id"] for i in items] == [early_red["id"], late_red["id"], amber["id"], green["id"]]
    assert [(i["children"][0]["first_name"], i["due_date"]) for i in items] == [
        ("Ria", "2025-11-24"),
        ("Rex", "2025-11-24"),
        ("Amy", "2025-11-25"),
        ("Gus", "2025-11-27"),
    ]
    assert [i["due_at"] for i in items] == [
        "2025-11-24T13:00:00Z",
        "2025-11-24T15:00:00Z",
        None,
        None,
    ]
    assert [i["time_left"] for i in items] == [
        {"unit": "working_hours", "amount": 1.0, "is_overdue": False},
        {"unit": "working_hours", "amount": 3.0, "is_overdue": False},
        {"unit": "working_days", "amount": 1.0, "is_overdue": False},
        {"unit": "working_days", "amount": 3.0, "is_overdue": False},
    ]
    shown = db.scalars(select(AccessLog)).all()[before:]
    assert sorted((r.action, r.resource, r.person_id) for r in shown) == sorted(
        ("list", "contact_list", kids[n].id) for n in ("Ria", "Rex", "Amy", "Gus")
    )

    with clock.frozen_at(at(2025, 11, 25, 10, 0)):
        first = _queue(client, headers, state="open", limit=2)
        assert first["next_cursor"] is not None
        second = _queue(client, headers, state="open", limit=2, cursor=first["next_cursor"])
        reds = _queue(client, headers, rag="red")
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in items]
    assert second["next_cursor"] is None
    # The next morning the reds are overdue (13:00-17:00 yesterday and an hour today) and the
    # amber is due today.
    assert [i["time_left"] for i in first["items"]] == [
        {"unit": "working_hours", "amount": -5.0, "is_overdue": True},
        {"unit": "working_hours", "amount": -3.0, "is_overdue": True},
    ]
    assert second["items"][0]["time_left"] == {
        "unit": "working_days",
        "amount": 0.0,
        "is_overdue": False,
    }
    assert [i["id"] for i in reds["items"]] == [early_red["id"], done["id"], late_red["id"]]
    assert [i["time_left"] is None for i in reds["items"]] == [False, True, False]


def test_the_queue_refuses_unknown_filters(client: TestClient, db: Session, fd: FrontDoor) -> None:
    headers = auth_headers(db, fd.mash_officer)
    for params, field in (
        ({"state": "pending"}, "state"),
        ({"rag": "purple"}, "rag"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": 0}, "limit"),
    ):
        response = client.get("/api/v1/contacts", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("received", "rag", "due_date", "due_at"),
    [
        # Red on Christmas Eve (a Wednesday) at 14:00: 3 hours that day, then Christmas Day and
        # Boxing Day (bank holidays) and the weekend, then 1 hour on Monday 29 December.
        (at(2025, 12, 24, 14, 0), "red", date(2025, 12, 29), at(2025, 12, 29, 10, 0)),
        (at(2025, 12, 24, 14, 0), "amber", date(2025, 12, 29), None),
        (at(2025, 12, 24, 14, 0), "green", date(2025, 12, 31), None),
        # Green on the Thursday before Easter 2026: Good Friday and Easter Monday do not count.
        (at(2026, 4, 2, 16, 0), "green", date(2026, 4, 9), None),
        # Red in the evening counts from 09:00 on the next working day.
        (at(2025, 11, 24, 20, 0), "red", date(2025, 11, 25), at(2025, 11, 25, 13, 0)),
    ],
)
def test_the_decision_deadline_skips_weekends_and_bank_holidays(
    client: TestClient,
    db: Session,
    fd: FrontDoor,
    received: datetime,
    rag: str,
    due_date: date,
    due_at: datetime | None,
) -> None:
    contact = _receive(client, auth_headers(db, fd.mash_officer), fd, fd.ava, rag, received)
    assert contact["due_date"] == due_date.isoformat()
    case_deadline = deadline(db, contact["children"][0]["case_id"], "contact_decision")
    assert (case_deadline.due_date, case_deadline.due_at) == (due_date, due_at)


def test_a_green_contact_over_easter_counts_down_in_working_days(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    contact = _receive(client, headers, fd, fd.ava, "green", at(2026, 4, 2, 16, 0))
    left = {}
    for day in (2, 3, 4, 6, 7, 9, 10):
        with clock.frozen_at(at(2026, 4, day, 12, 0)):
            read = client.get(f"/api/v1/contacts/{contact['id']}", headers=headers).json()
        left[day] = (read["time_left"]["amount"], read["time_left"]["is_overdue"])
    assert left == {
        2: (3.0, False),  # Thursday: Tuesday, Wednesday and Thursday after Easter
        3: (3.0, False),  # Good Friday
        4: (3.0, False),  # Saturday
        6: (3.0, False),  # Easter Monday
        7: (2.0, False),
        9: (0.0, False),  # due today
        10: (-1.0, True),
    }


def test_working_time_counts_only_working_hours_on_working_days() -> None:
    friday = at(2025, 11, 28, 15, 30)
    assert working_time_between(friday, at(2025, 12, 1, 11, 30)) == timedelta(hours=4)
    assert working_time_between(at(2025, 12, 1, 11, 30), friday) == timedelta(hours=-4)
    assert working_time_between(at(2025, 11, 29, 10), at(2025, 11, 30, 16)) == timedelta(0)
    # The clocks go back on 26 October 2025: a working day is still 8 hours.
    assert working_time_between(at(2025, 10, 24, 9), at(2025, 10, 27, 17)) == timedelta(hours=16)
    left = time_left(
        due_date=date(2025, 12, 1),
        due_at=at(2025, 12, 1, 11, 30),
        now=at(2025, 12, 1, 12, 0),
        today=date(2025, 12, 1),
    )
    assert (left.unit, left.amount, left.is_overdue) == ("working_hours", -0.5, True)
