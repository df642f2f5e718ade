"""Stories of a case moving through its states over the API, and of every way a move is refused."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cases.workflow import (
    ASSESSMENT,
    CASE_MACHINE,
    CIN_PLAN,
    CLOSED,
    CONTACT,
    CP_PLAN,
    LOOKED_AFTER,
    PROTECTION,
    REFERRAL,
)
from app.models import Case, CaseEvent, Deadline, Role
from app.workflow.engine import allowed_events
from tests.cases.factories import (
    PAYLOAD,
    Cast,
    event_count,
    move_to,
    open_case,
)
from tests.factories import auth_headers

PAIRS = list(itertools.product(CASE_MACHINE.states, CASE_MACHINE.events))


def _transition(
    client: TestClient,
    case: Case,
    event: str,
    headers: dict[str, str],
    *,
    version: int | None = None,
    **payload: Any,
) -> Any:
    body = {"event": event, **PAYLOAD.get(event, {}), **payload}
    if_match = (
        {} if version == -1 else {"If-Match": f'"{case.version if version is None else version}"'}
    )
    return client.post(
        f"/api/v1/cases/{case.id}/transitions", json=body, headers={**headers, **if_match}
    )


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_every_event_from_every_state_is_taken_or_refused_with_the_allowed_ones(
    client: TestClient, db: Session, cast: Cast, state: str, event: str
) -> None:
    """A team manager of the case's team may take every transition the table has; anything else
    is a 409 that names the current state and what may be done from it."""
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    move_to(db, case, state, by=cast.manager)
    before_version, before_events = case.version, event_count(db, case)
    headers = auth_headers(db, cast.manager)

    response = _transition(client, case, event, headers)

    transition = CASE_MACHINE.transition(state, event)
    if transition is not None:
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == transition.target
        assert response.json()["version"] == before_version + 1
        assert response.headers["ETag"] == f'"{before_version + 1}"'
        db.expire_all()
        assert event_count(db, case) == before_events + 1
    else:
        assert response.status_code == 409
        problem = response.json()
        assert problem["code"] == "illegal_transition"
        assert problem["current_state"] == state
        assert problem["allowed_events"] == [
            t.event for t in allowed_events(CASE_MACHINE, state, Role.team_manager)
        ]
        assert state in problem["detail"]
        db.expire_all()
        assert db.get(Case, case.id) is not None
        assert event_count(db, case) == before_events
        assert case.version == before_version


def test_a_case_walks_from_contact_to_closure_and_its_reader_sees_what_they_may_do_next(
    client: TestClient, db: Session, cast: Cast
) -> None:
    headers = auth_headers(db, cast.social_worker)
    opened = client.post(
        "/api/v1/cases",
        json={"child_id": str(cast.child.id), "team_id": str(cast.team.id), "rag": "red"},
        headers=headers,
    )
    assert opened.status_code == 201, opened.json()
    assert opened.headers["ETag"] == '"1"'
    case_id = opened.json()["id"]
    assert opened.json()["state"] == CONTACT
    assert {e["event"] for e in opened.json()["allowed_events"]} == {
        "accept_referral",
        "nfa_contact",
        "close",
    }

    etag = opened.headers["ETag"]
    # Assessed, then a strategy discussion, a child protection plan, and a step down to a child
    # in need plan when the review conference ends the CP plan.
    for event, target in (
        ("accept_referral", REFERRAL),
        ("start_assessment", ASSESSMENT),
        ("start_strategy", PROTECTION),
        ("start_cp_plan", CP_PLAN),
        ("start_cin_plan", CIN_PLAN),
    ):
        moved = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"event": event},
            headers={**headers, "If-Match": etag},
        )
        assert moved.status_code == 200, moved.json()
        assert moved.json()["state"] == target
        etag = moved.headers["ETag"]

    # A social worker may not close a case with a plan: the button is not offered, only the
    # moves a social worker may make (issue 3 item 8: closure is authorised by a manager)...
    got = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert got.headers["ETag"] == etag == '"6"'
    assert [e["event"] for e in got.json()["allowed_events"]] == [
        "start_strategy",
        "become_looked_after",
    ]
    # ...and the team manager sees it, with what it asks for.
    manager = auth_headers(db, cast.manager)
    offered = client.get(f"/api/v1/cases/{case_id}", headers=manager).json()["allowed_events"]
    assert [e["event"] for e in offered] == ["start_strategy", "become_looked_after", "close"]
    assert offered[-1] == {
        "event": "close",
        "target": CLOSED,
        "description": CASE_MACHINE.transition(CIN_PLAN, "close").description,  # type: ignore[union-attr]
        "requires_reason": True,
        "required_fields": ["closure_reason"],
        "optional_fields": [],
    }
    closed = client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"event": "close", "reason": "Plan completed.", "data": {"closure_reason": "RC8"}},
        headers={**manager, "If-Match": etag},
    )
    assert closed.status_code == 200, closed.json()
    assert closed.json()["closure_reason"] == "RC8"
    assert closed.json()["closed_date"] is not None
    assert closed.json()["allowed_events"] == []


@pytest.mark.parametrize("state", [ASSESSMENT, PROTECTION, CIN_PLAN, CP_PLAN, LOOKED_AFTER])
def test_a_social_worker_may_not_close_a_case_after_the_referral_without_their_manager(
    client: TestClient, db: Session, cast: Cast, state: str
) -> None:
    """Issue 3 item 8: from the assessment onwards a team manager authorises the closure."""
    case = move_to(
        db, open_case(db, by=cast.manager, child=cast.child, team=cast.team), state, by=cast.manager
    )
    assert "close" not in [t.event for t in allowed_events(CASE_MACHINE, state, Role.social_worker)]
    response = _transition(client, case, "close", auth_headers(db, cast.social_worker))
    assert response.status_code == 403
    assert "team_manager" in response.json()["detail"]
    db.expire_all()
    assert case.state == state


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (ASSESSMENT, "start_cin_plan"),
        (PROTECTION, "start_cin_plan"),
        (PROTECTION, "start_cp_plan"),
        (PROTECTION, "conclude_enquiry"),
        (ASSESSMENT, "become_looked_after"),
    ],
)
def test_a_mash_officer_may_not_start_a_plan(
    client: TestClient, db: Session, cast: Cast, state: str, event: str
) -> None:
    case = move_to(
        db,
        open_case(db, by=cast.manager, child=cast.child, team=cast.team),
        state,
        by=cast.manager,
    )
    response = _transition(client, case, event, auth_headers(db, cast.mash_officer))
    assert response.status_code == 403
    db.expire_all()
    assert case.state == state


def test_a_referral_with_no_further_action_closes_the_episode_with_rc7(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """CIN census ReferralNFA: the referral closes the same day; RC8/RC9 need an assessment
    (8825Q), so the code is RC7."""
    case = move_to(
        db,
        open_case(db, by=cast.manager, child=cast.child, team=cast.team),
        REFERRAL,
        by=cast.manager,
    )
    response = _transition(client, case, "referral_nfa", auth_headers(db, cast.mash_officer))
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == CLOSED
    assert response.json()["closure_reason"] == "RC7"
    assert response.json()["closed_date"] is not None


def test_another_teams_social_worker_can_read_the_case_but_not_move_it(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    headers = auth_headers(db, cast.other_social_worker)
    got = client.get(f"/api/v1/cases/{case.id}", headers=headers)
    assert got.status_code == 200
    assert got.json()["allowed_events"] == []
    response = _transition(client, case, "accept_referral", headers)
    assert response.status_code == 403
    assert "another team" in response.json()["detail"]
    db.expire_all()
    assert case.state == CONTACT


def test_an_iro_has_no_case_write_permission_at_all(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    response = _transition(client, case, "accept_referral", auth_headers(db, cast.iro))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("event", "payload", "field"),
    [
        ("nfa_contact", {"reason": None}, "reason"),
        ("referral_nfa", {"reason": None}, "reason"),
        ("conclude_enquiry", {"reason": "  "}, "reason"),
        ("nfa_contact", {"reason": "   "}, "reason"),
        ("close", {"reason": None}, "reason"),
        ("close", {"data": {}}, "data.closure_reason"),
        ("close", {"data": {"closure_reason": "RC99"}}, "data.closure_reason"),
        ("close", {"data": {"closure_reason": "RC7", "colour": "red"}}, "data.colour"),
        ("accept_referral", {"data": {"referral_date": "2999-01-01"}}, "data.referral_date"),
        ("accept_referral", {"data": {"referral_date": "not a date"}}, "data.referral_date"),
    ],
)
def test_a_move_without_what_it_asks_for_is_refused_and_names_the_field(
    client: TestClient, db: Session, cast: Cast, event: str, payload: dict[str, Any], field: str
) -> None:
    source = {"referral_nfa": REFERRAL, "conclude_enquiry": PROTECTION}.get(event, CONTACT)
    case = move_to(
        db,
        open_case(db, by=cast.manager, child=cast.child, team=cast.team),
        source,
        by=cast.manager,
    )
    version = case.version
    response = _transition(client, case, event, auth_headers(db, cast.manager), **payload)
    assert response.status_code == 422, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    db.expire_all()
    assert case.state == source
    assert case.version == version


@pytest.mark.parametrize("code", ["RC8", "RC9"])
def test_closed_after_assessment_is_refused_for_a_case_never_assessed(
    client: TestClient, db: Session, cast: Cast, code: str
) -> None:
    """CIN census rule 8825Q: RC8 and RC9 only after an assessment."""
    case = move_to(
        db,
        open_case(db, by=cast.manager, child=cast.child, team=cast.team),
        REFERRAL,
        by=cast.manager,
    )
    response = _transition(
        client, case, "close", auth_headers(db, cast.manager), data={"closure_reason": code}
    )
    assert response.status_code == 422
    assert "8825Q" in response.json()["detail"]


def test_a_stale_if_match_is_refused_and_nothing_changes(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    move_to(db, case, REFERRAL, by=cast.manager)
    assert case.version == 2
    events, deadlines = event_count(db, case), db.scalar(select(func.count(Deadline.id)))

    response = _transition(
        client, case, "start_assessment", auth_headers(db, cast.manager), version=1
    )

    assert response.status_code == 412
    assert response.json()["code"] == "stale_version"
    db.expire_all()
    assert (case.state, case.version) == (REFERRAL, 2)
    assert event_count(db, case) == events
    assert db.scalar(select(func.count(Deadline.id))) == deadlines


def test_a_move_without_if_match_is_refused_with_428(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    response = _transition(
        client, case, "accept_referral", auth_headers(db, cast.manager), version=-1
    )
    assert response.status_code == 428
    db.expire_all()
    assert case.state == CONTACT


def test_a_refused_closure_writes_nothing_at_all(
    client: TestClient, db: Session, cast: Cast
) -> None:
    """No partial writes: a closure refused by its guard leaves the case, its chronology and its
    deadlines exactly as they were."""
    case = move_to(
        db,
        open_case(db, by=cast.manager, child=cast.child, team=cast.team),
        REFERRAL,
        by=cast.manager,
    )
    before = {
        "events": event_count(db, case),
        "open_deadlines": db.scalar(
            select(func.count()).where(Deadline.case_id == case.id, Deadline.stopped_date.is_(None))
        ),
    }
    response = _transition(
        client, case, "close", auth_headers(db, cast.manager), data={"closure_reason": "RC8"}
    )
    assert response.status_code == 422
    db.expire_all()
    assert (case.state, case.version, case.closed_date, case.closure_reason) == (
        REFERRAL,
        2,
        None,
        None,
    )
    assert event_count(db, case) == before["events"]
    assert (
        db.scalar(
            select(func.count()).where(Deadline.case_id == case.id, Deadline.stopped_date.is_(None))
        )
        == before["open_deadlines"]
    )
    last = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()
    assert last is not None
    assert last.action == "accept_referral"


def test_a_closed_case_is_final_and_a_new_contact_opens_a_new_case(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = move_to(
        db,
        open_case(db, by=cast.manager, child=cast.child, team=cast.team),
        CLOSED,
        by=cast.manager,
    )
    assert case.closure_reason is not None
    assert CASE_MACHINE.final_states == (CLOSED,)
    response = client.post(
        "/api/v1/cases",
        json={"child_id": str(cast.child.id), "team_id": str(cast.team.id)},
        headers=auth_headers(db, cast.mash_officer),
    )
    assert response.status_code == 201
    assert response.json()["id"] != str(case.id)


def test_a_stranger_is_asked_to_sign_in_before_anything_else(
    client: TestClient, db: Session, cast: Cast
) -> None:
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    response = client.post(
        f"/api/v1/cases/{case.id}/transitions", json={"event": "accept_referral"}
    )
    assert response.status_code == 401
