"""Stories of referrals: made directly or accepted at the front door, flagged when they come within
12 months of another, and decided within a working day (or not) with the case moving as a
consequence."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.calendar import add_months
from app.models import Person
from tests.contacts.creators import (
    FrontDoor,
    actions,
    at,
    case_of,
    contact_body,
    deadline,
    decide,
    errors_of,
    grant,
    post_contact,
    referrals_of,
)
from tests.factories import auth_headers, make_child

MONDAY = at(2025, 11, 24, 10, 0)


def _body(fd: FrontDoor, child: Person, on: date, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child_id": str(child.id),
        "team_id": str(fd.mash.id),
        "referral_date": on.isoformat(),
        "source": "6",
        "primary_need": "N1",
        "summary": "Police attended a domestic incident; the children were present.",
    }
    return body | changes


def _refer(
    client: TestClient,
    headers: dict[str, str],
    fd: FrontDoor,
    child: Person,
    on: date,
    status: int = 201,
    **changes: Any,
) -> dict[str, Any]:
    """POST a direct referral dated ``on`` (unless ``changes`` say otherwise), at 10:00 that day."""
    with clock.frozen_at(at(on.year, on.month, on.day, 10, 0)):
        response = client.post(
            "/api/v1/referrals", json=_body(fd, child, on, **changes), headers=headers
        )
    assert response.status_code == status, response.json()
    result: dict[str, Any] = response.json()
    return result


def _decide(
    client: TestClient,
    headers: dict[str, str],
    referral: dict[str, Any],
    decision: str,
    *,
    version: int | None = None,
    reason: str = "Manager's rationale recorded in the decision.",
) -> Any:
    return client.post(
        f"/api/v1/referrals/{referral['id']}/decision",
        json={"decision": decision, "reason": reason},
        headers={
            **headers,
            "If-Match": f'"{referral["version"] if version is None else version}"',
        },
    )


def test_a_direct_referral_opens_a_case_at_referral_with_its_decision_due_next_working_day(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_social_worker)
    with clock.frozen_at(MONDAY):
        response = client.post(
            "/api/v1/referrals", json=_body(fd, fd.ava, date(2025, 11, 24)), headers=headers
        )
    assert response.status_code == 201, response.json()
    referral = response.json()
    assert response.headers["Location"] == f"/api/v1/referrals/{referral['id']}"
    assert response.headers["ETag"] == f'"{referral["version"]}"'
    assert (referral["state"], referral["source"], referral["primary_need"]) == (
        "awaiting_decision",
        "6",
        "N1",
    )
    assert (referral["contact_id"], referral["is_re_referral"]) == (None, False)
    assert (referral["decision_due_date"], referral["decision_deadline_status"]) == (
        "2025-11-25",
        "due",
    )
    case = case_of(db, fd.ava)
    assert str(case.id) == referral["case_id"]
    assert (case.state, case.opened_date) == ("referral", date(2025, 11, 24))
    assert actions(db, case.id) == ["case_opened", "accept_referral", "referral_recorded"]
    # It never passed the front door: the contact clock is stopped, neither met nor missed.
    contact_clock = deadline(db, case.id, "contact_decision")
    assert (contact_clock.met_date, contact_clock.stopped_date) == (None, date(2025, 11, 24))
    assert deadline(db, case.id, "assessment_authorised").due_date == date(2026, 1, 29)

    again = _refer(client, headers, fd, fd.ava, date(2025, 11, 24), status=409)
    assert again["existing_case_id"] == str(case.id)


def test_a_referral_from_the_front_door_is_read_with_its_contact(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(MONDAY):
        contact = post_contact(client, headers, contact_body(fd, rag="red"))
        decided = decide(
            client,
            headers,
            contact,
            {
                "child_id": str(fd.ava.id),
                "decision": "referral",
                "reason": "Injury.",
                "primary_need": "N1",
            },
        ).json()
        referral_id = decided["children"][0]["referral_id"]
        read = client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
    assert read.status_code == 200
    body = read.json()
    assert (body["contact_id"], body["source"], body["referral_date"]) == (
        contact["id"],
        "2A",
        "2025-11-24",
    )
    listed = client.get("/api/v1/referrals", params={"child_id": str(fd.ava.id)}, headers=headers)
    assert [r["id"] for r in listed.json()["items"]] == [referral_id]


@pytest.mark.parametrize(("months", "flagged"), [(11, True), (12, True), (13, False)])
def test_a_referral_within_twelve_months_of_another_is_a_re_referral(
    client: TestClient, db: Session, fd: FrontDoor, months: int, flagged: bool
) -> None:
    headers = auth_headers(db, fd.mash_social_worker)
    second_date = date(2025, 12, 10)
    first_date = add_months(second_date, -months)
    first = _refer(client, headers, fd, fd.ava, first_date)
    with clock.frozen_at(at(first_date.year, first_date.month, first_date.day, 11, 0)):
        closed = _decide(client, headers, first, "no_further_action")
    assert closed.status_code == 200, closed.json()
    second = _refer(client, headers, fd, fd.ava, second_date)
    assert second["is_re_referral"] is flagged
    assert second["previous_referral_id"] == (first["id"] if flagged else None)
    listed = client.get("/api/v1/referrals", params={"child_id": str(fd.ava.id)}, headers=headers)
    assert [(r["id"], r["is_re_referral"]) for r in listed.json()["items"]] == [
        (second["id"], flagged),
        (first["id"], False),
    ]


def test_a_re_referral_through_the_front_door_is_flagged_too(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    first = _refer(client, headers, fd, fd.ben, date(2025, 1, 15))
    with clock.frozen_at(at(2025, 1, 15, 12, 0)):
        assert _decide(client, headers, first, "no_further_action").status_code == 200
    with clock.frozen_at(at(2025, 12, 1, 9, 30)):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
        decided = decide(
            client,
            headers,
            contact,
            *(
                {
                    "child_id": str(child.id),
                    "decision": "referral",
                    "reason": "Neglect.",
                    "primary_need": "N1",
                }
                for child in (fd.ava, fd.ben)
            ),
        )
    assert decided.status_code == 200, decided.json()
    ava, ben = referrals_of(db, fd.ava), referrals_of(db, fd.ben)
    assert [r.is_re_referral for r in ava] == [False]
    assert [r.is_re_referral for r in ben] == [False, True]
    assert ben[1].previous_referral_id == uuid.UUID(first["id"])


def test_a_decision_the_next_working_day_meets_rule_two(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_manager)
    referral = _refer(client, headers, fd, fd.ava, date(2025, 11, 28))  # a Friday
    with clock.frozen_at(at(2025, 12, 1, 16, 0)):  # Monday: the next working day
        response = _decide(client, headers, referral, "assessment")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["decision"], body["decision_deadline_status"]) == (
        "decided",
        "assessment",
        "met",
    )
    assert body["decided_by_id"] == str(fd.mash_manager.id)
    assert body["decision_reason"] == "Manager's rationale recorded in the decision."
    assert response.headers["ETag"] == f'"{body["version"]}"'
    case = case_of(db, fd.ava)
    assert case.state == "assessment"
    assert deadline(db, case.id, "referral_decision").met_date == date(2025, 12, 1)
    assert actions(db, case.id)[-2:] == ["decide", "start_assessment"]


def test_a_decision_two_working_days_later_misses_rule_two(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_manager)
    referral = _refer(client, headers, fd, fd.ava, date(2025, 11, 24))
    with clock.frozen_at(at(2025, 11, 25, 18, 0)):
        overdue = client.get(f"/api/v1/referrals/{referral['id']}", headers=headers).json()
    assert overdue["decision_deadline_status"] == "due"  # still Tuesday, the day it is due
    with clock.frozen_at(at(2025, 11, 26, 9, 0)):
        overdue = client.get(f"/api/v1/referrals/{referral['id']}", headers=headers).json()
        assert overdue["decision_deadline_status"] == "overdue"
        response = _decide(client, headers, referral, "strategy_discussion")
    assert response.status_code == 200, response.json()
    assert response.json()["decision_deadline_status"] == "missed"
    assert case_of(db, fd.ava).state == "protection"


def test_no_further_action_on_a_referral_closes_the_case(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    referral = _refer(client, headers, fd, fd.ava, date(2025, 11, 24))
    with clock.frozen_at(at(2025, 11, 24, 15, 0)):
        no_reason = _decide(client, headers, referral, "no_further_action", reason=" ")
        assert no_reason.status_code == 422
        assert errors_of(no_reason) == ["reason"]
        response = _decide(client, headers, referral, "no_further_action")
    assert response.status_code == 200, response.json()
    case = case_of(db, fd.ava)
    assert (case.state, case.closed_date, case.closure_reason) == (
        "closed",
        date(2025, 11, 24),
        "RC7",
    )
    assert deadline(db, case.id, "referral_decision").met_date == date(2025, 11, 24)
    assert deadline(db, case.id, "assessment_authorised").stopped_date == date(2025, 11, 24)
    again = _decide(client, headers, response.json(), "assessment")
    assert again.status_code == 409


def test_only_the_referrals_own_team_may_decide_and_a_stale_version_changes_nothing(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    referral = _refer(client, headers, fd, fd.ava, date(2025, 11, 24))
    with clock.frozen_at(at(2025, 11, 24, 15, 0)):
        other_team = _decide(
            client, auth_headers(db, fd.other_social_worker), referral, "assessment"
        )
        assert other_team.status_code == 403
        iro = _decide(client, auth_headers(db, fd.iro), referral, "assessment")
        assert iro.status_code == 403
        stale = _decide(client, headers, referral, "assessment", version=referral["version"] + 1)
        assert stale.status_code == 412
        missing = client.post(
            f"/api/v1/referrals/{referral['id']}/decision",
            json={"decision": "assessment", "reason": "x"},
            headers=headers,
        )
        assert missing.status_code == 428
    (row,) = referrals_of(db, fd.ava)
    assert (row.state, row.decision, row.version) == (
        "awaiting_decision",
        None,
        referral["version"],
    )
    assert case_of(db, fd.ava).state == "referral"
    elsewhere = _refer(
        client, auth_headers(db, fd.other_social_worker), fd, fd.ben, date(2025, 11, 24), 403
    )
    assert elsewhere["code"] == "forbidden"


def test_a_restricted_childs_referral_is_not_found_by_anyone_not_named(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    secret = make_child(db, first_name="Rae", restricted=True)
    grant(db, secret, fd.mash_manager)
    unnamed = auth_headers(db, fd.mash_officer)
    _refer(client, unnamed, fd, secret, date(2025, 11, 24), status=404)
    referral = _refer(client, auth_headers(db, fd.mash_manager), fd, secret, date(2025, 11, 24))
    assert client.get(f"/api/v1/referrals/{referral['id']}", headers=unnamed).status_code == 404
    assert _decide(client, unnamed, referral, "assessment").status_code == 404
    listed = client.get("/api/v1/referrals", params={"child_id": str(secret.id)}, headers=unnamed)
    assert listed.json()["items"] == []
    assert client.get(f"/api/v1/referrals/{uuid.uuid4()}", headers=unnamed).status_code == 404


def test_invalid_referrals_are_refused_naming_the_field(
    client: TestClient, db: Session, fd: FrontDoor
) -> None:
    headers = auth_headers(db, fd.mash_officer)
    lost = make_child(db, first_name="Cal", date_of_birth=date(2020, 1, 1))
    lost.date_of_death = date(2025, 11, 20)
    db.commit()
    today = date(2025, 11, 24)
    cases: list[tuple[Person, dict[str, Any], str]] = [
        (fd.ava, {"referral_date": "2025-11-25"}, "referral_date"),  # tomorrow
        (lost, {"referral_date": "2025-11-21"}, "referral_date"),  # after the child's death
        (fd.ava, {"primary_need": "N10"}, "primary_need"),
        (fd.ava, {"source": "11"}, "source"),
        (fd.ava, {"team_id": str(uuid.uuid4())}, "team_id"),
        (fd.ava, {"urgent": True}, "urgent"),
    ]
    for child, change, field in cases:
        response = _refer(client, headers, fd, child, today, status=422, **change)
        assert field in [e["field"] for e in response["errors"]], (change, response)
    assert referrals_of(db, fd.ava) == []
    referral = _refer(client, headers, fd, fd.ava, today)
    with clock.frozen_at(MONDAY):
        response = _decide(client, headers, referral, "maybe")
    assert response.status_code == 422
    assert errors_of(response) == ["decision"]
    bad_state = client.get("/api/v1/referrals", params={"state": "pending"}, headers=headers)
    assert errors_of(bad_state) == ["state"]
