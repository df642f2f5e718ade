"""End-to-end journeys through the HTTP API, one story each, with the clock at each step's day.

Each reads like the case it tells: who rang, who decided, who saw the child, who met, and what the
child's chronology, deadlines and audit trail say afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON, add_working_days
from app.models import Role, Team, TeamKind, UserAccount
from tests.factories import auth_headers, make_team, make_user

POLICE_HEALTH_SOCIAL_CARE = [
    {"agency": "social_care", "name": "Sam Social Worker", "role": "Social worker"},
    {"agency": "police", "name": "DC Patel", "role": "Child abuse investigation team"},
    {"agency": "health", "name": "Nurse Okafor", "role": "Named nurse for safeguarding"},
]
AGENCIES = ["social_care", "police", "health", "education"]


@contextmanager
def on(day: date, hour: int = 10) -> Iterator[None]:
    """The clock stands at ``hour`` o'clock London time on ``day``."""
    with clock.frozen_at(datetime.combine(day, time(hour), LONDON)):
        yield


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def with_etag(headers: dict[str, str], response: Response) -> dict[str, str]:
    return {**headers, "If-Match": response.headers["ETag"]}


@dataclass
class Council:
    """The front door, an assessment team and a long-term team, and the people in them."""

    front_door: Team
    assessment: Team
    long_term: Team
    mash: dict[str, str]
    door_manager: dict[str, str]
    worker: dict[str, str]
    worker_id: uuid.UUID
    manager: dict[str, str]
    long_term_worker: dict[str, str]
    long_term_worker_id: uuid.UUID
    long_term_manager: dict[str, str]
    service_manager: dict[str, str]


@pytest.fixture
def council(db: Session) -> Council:
    front_door = make_team(db, kind=TeamKind.front_door)
    assessment = make_team(db, kind=TeamKind.assessment)
    long_term = make_team(db, kind=TeamKind.cin_cp)

    def headers(user: UserAccount) -> dict[str, str]:
        return auth_headers(db, user)

    worker = make_user(db, Role.social_worker, team=assessment)
    long_term_worker = make_user(db, Role.social_worker, team=long_term)
    service_manager = make_user(db, Role.service_manager)
    return Council(
        front_door=front_door,
        assessment=assessment,
        long_term=long_term,
        mash=headers(make_user(db, Role.mash_officer, team=front_door)),
        door_manager=headers(make_user(db, Role.team_manager, team=front_door, manager=True)),
        worker=headers(worker),
        worker_id=worker.id,
        manager=headers(make_user(db, Role.team_manager, team=assessment, manager=True)),
        long_term_worker=headers(long_term_worker),
        long_term_worker_id=long_term_worker.id,
        long_term_manager=headers(make_user(db, Role.team_manager, team=long_term, manager=True)),
        service_manager=headers(service_manager),
    )


def new_child(client: TestClient, headers: dict[str, str], **fields: Any) -> str:
    body = {"kind": "child", "first_name": "Ruby", "last_name": "Journey", "sex": "F", **fields}
    return str(ok(client.post("/api/v1/people", json=body, headers=headers), 201)["id"])


def contact(
    client: TestClient, c: Council, child_ids: list[str], *, source: str, rag: str = "amber"
) -> dict[str, Any]:
    body = {
        "child_ids": child_ids,
        "team_id": str(c.front_door.id),
        "source": source,
        "referrer_organisation": "Hillside Primary School",
        "concern": "The child arrives hungry and unkempt; a sibling said there is no food at home.",
        "consent": "given",
        "rag": rag,
    }
    return ok(client.post("/api/v1/contacts", json=body, headers=c.mash), 201)


def refer(client: TestClient, c: Council, made: dict[str, Any], child_id: str) -> dict[str, Any]:
    """The MASH decides the child's contact is a referral; returns the referral."""
    current = client.get(f"/api/v1/contacts/{made['id']}", headers=c.mash)
    decision = {
        "decisions": [
            {
                "child_id": child_id,
                "decision": "referral",
                "reason": "Threshold met: neglect concerns need a social work assessment.",
                "primary_need": "N1",
            }
        ]
    }
    decided = ok(
        client.post(
            f"/api/v1/contacts/{made['id']}/decisions",
            json=decision,
            headers=with_etag(c.mash, current),
        )
    )
    referral_id = decided["children"][0]["referral_id"]
    return ok(client.get(f"/api/v1/referrals/{referral_id}", headers=c.mash))


def decide_referral(
    client: TestClient, headers: dict[str, str], referral_id: str, decision: str, reason: str
) -> dict[str, Any]:
    current = client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
    return ok(
        client.post(
            f"/api/v1/referrals/{referral_id}/decision",
            json={"decision": decision, "reason": reason},
            headers=with_etag(headers, current),
        )
    )


def allocate(
    client: TestClient, headers: dict[str, str], case_id: str, team: Team, worker: uuid.UUID
) -> None:
    current = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    ok(
        client.post(
            f"/api/v1/cases/{case_id}/allocation",
            json={"team_id": str(team.id), "worker_id": str(worker), "reason": "Allocated"},
            headers=with_etag(headers, current),
        )
    )


def case_state(client: TestClient, headers: dict[str, str], case_id: str) -> str:
    return str(ok(client.get(f"/api/v1/cases/{case_id}", headers=headers))["state"])


def assess(
    client: TestClient,
    c: Council,
    case_id: str,
    *,
    started: date,
    seen: date | None,
    authorised: date,
    outcome: str,
) -> dict[str, Any]:
    """The worker assesses (sees the child unless unborn, records factors) and submits; the
    team manager authorises with ``outcome``."""
    with on(started):
        assessment = ok(
            client.post(
                f"/api/v1/cases/{case_id}/assessments",
                json={"start_date": started.isoformat(), "factors": ["2B", "8B"]},
                headers=c.worker,
            ),
            201,
        )
    url = f"/api/v1/assessments/{assessment['id']}"
    if seen is not None:
        with on(seen):
            ok(
                client.post(
                    f"{url}/seen",
                    json={"seen_date": seen.isoformat(), "seen_alone": True},
                    headers=c.worker,
                ),
                201,
            )
    with on(authorised, 9):
        ok(
            client.post(
                f"{url}/submit", headers=with_etag(c.worker, client.get(url, headers=c.worker))
            )
        )
    with on(authorised, 15):
        return ok(
            client.post(
                f"{url}/authorise",
                json={"outcome": outcome, "comments": "Agreed: the analysis supports this."},
                headers=with_etag(c.manager, client.get(url, headers=c.manager)),
            )
        )


def strategy_and_s47(
    client: TestClient, headers: dict[str, str], case_id: str, *, concern: date, held: date
) -> dict[str, Any]:
    with on(held):
        discussion = ok(
            client.post(
                f"/api/v1/cases/{case_id}/strategy-discussions",
                json={
                    "concern_date": concern.isoformat(),
                    "held_date": held.isoformat(),
                    "format": "meeting",
                    "participants": POLICE_HEALTH_SOCIAL_CARE,
                    "concerns": "Reasonable cause to suspect significant harm from neglect.",
                    "start_s47": True,
                },
                headers=headers,
            ),
            201,
        )
        return ok(
            client.post(
                f"/api/v1/cases/{case_id}/s47-enquiries",
                json={"strategy_discussion_id": discussion["id"], "start_date": held.isoformat()},
                headers=headers,
            ),
            201,
        )


def icpc(
    client: TestClient,
    headers: dict[str, str],
    s47: dict[str, Any],
    *,
    concluded: date,
    conference: date,
    notes: str | None = None,
) -> dict[str, Any]:
    url = f"/api/v1/s47-enquiries/{s47['id']}"
    with on(concluded):
        ok(
            client.post(
                f"{url}/conclude",
                json={
                    "outcome": "icpc_required",
                    "reason": "Concerns substantiated: an initial conference is needed.",
                    "concluded_date": concluded.isoformat(),
                },
                headers=with_etag(headers, client.get(url, headers=headers)),
            )
        )
    with on(conference):
        return ok(
            client.post(
                f"{url}/conferences",
                json={
                    "conference_date": conference.isoformat(),
                    "chair": "Independent chair",
                    "agencies_present": AGENCIES,
                    "outcome": "cp_plan",
                    "initial_category": "NEG",
                    "notes": notes,
                },
                headers=headers,
            ),
            201,
        )


def test_a_school_rings_the_mash_and_the_child_is_protected_then_stepped_down_and_closed(
    client: TestClient, db: Session, council: Council
) -> None:
    c = council
    # Wednesday 7 January 2026: Hillside Primary rings the MASH about Ruby.
    rang = date(2026, 1, 7)
    with on(rang):
        ruby = new_child(client, c.mash, date_of_birth="2018-03-14")
        made = contact(client, c, [ruby], source="2A")
        case_id = made["children"][0]["case_id"]
        referral = refer(client, c, made, ruby)
        assert referral["is_re_referral"] is False
        decide_referral(
            client, c.door_manager, referral["id"], "assessment",
            "A child and family assessment is needed.",
        )  # fmt: skip
        allocate(client, c.door_manager, case_id, c.assessment, c.worker_id)
    assert case_state(client, c.worker, case_id) == "assessment"

    # The social worker sees Ruby at home two days later; the manager authorises the
    # assessment with a strategy discussion as its outcome.
    authorised = date(2026, 1, 20)
    assessment = assess(
        client, c, case_id, started=date(2026, 1, 8), seen=date(2026, 1, 9),
        authorised=authorised, outcome="strategy_discussion",
    )  # fmt: skip
    assert assessment["state"] == "authorised"
    assert case_state(client, c.worker, case_id) == "protection"

    # Police, health and social care meet the next day and start a section 47 enquiry; the ICPC
    # is held within 15 working days of that discussion, on a working day.
    held = date(2026, 1, 21)
    s47 = strategy_and_s47(client, c.worker, case_id, concern=authorised, held=held)
    assert s47["icpc_target_date"] == add_working_days(held, 15).isoformat()
    conference = date(2026, 2, 5)
    assert conference <= add_working_days(held, 15)
    assert conference.weekday() < 5
    icpc_held = icpc(client, c.worker, s47, concluded=date(2026, 2, 2), conference=conference)
    plan_id = icpc_held["cp_plan_id"]
    assert case_state(client, c.worker, case_id) == "cp_plan"

    # The long-term team takes the plan on: core groups, visits (seen alone), a review
    # conference at 3 months that ends the plan and steps down to a CIN plan.
    with on(date(2026, 2, 6)):
        allocate(client, c.manager, case_id, c.long_term, c.long_term_worker_id)
    plan_url = f"/api/v1/cp-plans/{plan_id}"
    lt = c.long_term_worker
    for met in (date(2026, 2, 12), date(2026, 3, 24), date(2026, 4, 30)):
        with on(met):
            ok(client.post(f"{plan_url}/core-groups", json={"meeting_date": met.isoformat()},
                           headers=lt), 201)  # fmt: skip
    visit = date(2026, 2, 6)
    review = date(2026, 5, 5)  # 3 months after the ICPC, a working day
    while visit < review:
        with on(visit, 16):
            ok(
                client.post(
                    f"{plan_url}/visits",
                    json={"visit_date": visit.isoformat(), "child_seen": True, "seen_alone": True},
                    headers=lt,
                ),
                201,
            )
        visit = add_working_days(visit, 8)
    with on(review):
        ended = client.post(
            f"{plan_url}/review-conferences",
            json={
                "conference_date": review.isoformat(),
                "chair": "Independent chair",
                "agencies_present": AGENCIES,
                "outcome": "end_plan",
                "end_reason": "Home conditions and school attendance have improved for months.",
                "next_step": "cin_plan",
            },
            headers=with_etag(lt, client.get(plan_url, headers=lt)),
        )
    ok(ended, 201)
    assert case_state(client, lt, case_id) == "cin_plan"
    protection = ok(client.get(f"/api/v1/cases/{case_id}/protection", headers=lt))
    cin_plan_id = _open_cin_plan(db, case_id)

    # A CIN review, and the team manager closes the case (RC7: services ceased).
    with on(date(2026, 7, 30)):
        ok(
            client.post(
                f"/api/v1/cin-plans/{cin_plan_id}/reviews",
                json={"review_date": "2026-07-30", "outcome": "Needs met; plan can end."},
                headers=lt,
            ),
            201,
        )
    with on(date(2026, 8, 14)):
        closed = client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={
                "event": "close",
                "reason": "The family no longer needs a social worker.",
                "data": {"closure_reason": "RC7"},
            },
            headers=with_etag(c.long_term_manager, client.get(f"/api/v1/cases/{case_id}",
                                                              headers=c.long_term_manager)),
        )  # fmt: skip
    assert ok(closed)["state"] == "closed"

    with on(date(2026, 8, 17)):
        # The chronology tells the story, in order.
        chronology = ok(client.get(f"/api/v1/children/{ruby}/chronology?limit=200", headers=lt))[
            "items"
        ]
        actions = [e["action"] for e in chronology]
        story = [
            "contact_received",
            "accept_referral",
            "start_assessment",
            "allocated",
            "assessment_started",
            "child_seen",
            "submit",
            "authorise",
            "start_strategy",
            "strategy_discussion_held",
            "s47_started",
            "conclude",
            "icpc_held",
            "cp_plan_started",
            "start_cp_plan",
            "allocated",  # to the long-term team, which visits the next day
            "cp_visit",
            "core_group_held",
            "review_conference_held",
            "end",
            "start_cin_plan",
            "cin_plan_started",
            "cin_plan_reviewed",
            "close",
            "cin_plan_ended",  # closing the case ends its CIN plan, the same day
        ]
        # Each step appears after the one before it.
        after = -1
        for action in story:
            assert action in actions[after + 1 :], (action, actions)
            after = actions.index(action, after + 1)
        assert [e["occurred_at"] for e in chronology] == sorted(
            e["occurred_at"] for e in chronology
        )

        # Every deadline of the case was met or stopped: nothing left open on a closed case.
        deadlines = ok(client.get(f"/api/v1/deadlines?case_id={case_id}&limit=200", headers=lt))[
            "items"
        ]
        assert deadlines
        assert {d["status"] for d in deadlines} <= {"met", "stopped"}, deadlines
        assert {d["kind"] for d in deadlines} >= {
            "contact_decision",
            "referral_decision",
            "assessment_authorised",
            "icpc_held",
            "core_group_first",
            "rcpc_first",
            "cp_visit",
            "cin_review",
        }
        assert all(d["status"] == "met" for d in deadlines if d["kind"] in (
            "assessment_authorised", "icpc_held", "core_group_first", "rcpc_first"))  # fmt: skip

        # The audit trail verifies.
        verify = ok(client.get("/api/v1/audit/verify", headers=c.service_manager))
        assert verify["ok"] is True

        # Nothing more is recorded on a closed case (CIN census rule 8565).
        refusals = [
            client.post(f"{plan_url}/visits", json={"visit_date": "2026-08-17", "child_seen": True},
                        headers=lt),
            client.post(f"/api/v1/cin-plans/{cin_plan_id}/reviews",
                        json={"review_date": "2026-08-17"}, headers=lt),
            client.post(f"/api/v1/cases/{case_id}/case-notes",
                        json={"kind": "phone", "occurred_at": "2026-08-17T09:00:00+01:00",
                              "title": "Call"}, headers=lt),
            client.post(f"/api/v1/cases/{case_id}/strategy-discussions", json={
                "concern_date": "2026-08-17", "held_date": "2026-08-17", "format": "calls",
                "participants": POLICE_HEALTH_SOCIAL_CARE, "concerns": "x", "start_s47": True,
            }, headers=lt),
        ]  # fmt: skip
    for refused in refusals:
        assert refused.status_code == 409, refused.text
    assert protection["cp_plans"][0]["state"] == "ended"


def _open_cin_plan(db: Session, case_id: str) -> str:
    from sqlalchemy import select

    from app.models.cin import CINPlan

    db.expire_all()
    plan = db.scalars(
        select(CINPlan).where(CINPlan.case_id == uuid.UUID(case_id), CINPlan.end_date.is_(None))
    ).one()
    return str(plan.id)


def test_an_unborn_baby_is_referred_assessed_and_protected_by_a_pre_birth_conference(
    client: TestClient, council: Council
) -> None:
    c = council
    # The midwife rings in March about a baby due in July: Sex U, an expected date of birth.
    rang = date(2026, 3, 2)
    with on(rang):
        baby = new_child(
            client, c.mash, first_name="Baby", sex="U", expected_date_of_birth="2026-07-20"
        )
        made = contact(client, c, [baby], source="3B", rag="red")
        case_id = made["children"][0]["case_id"]
        referral = refer(client, c, made, baby)
        decide_referral(client, c.door_manager, referral["id"], "assessment",
                        "A pre-birth assessment is needed.")  # fmt: skip
        allocate(client, c.door_manager, case_id, c.assessment, c.worker_id)
    # An unborn child cannot be seen: the assessment is submitted without a date seen.
    authorised = date(2026, 3, 20)
    assert assess(
        client, c, case_id, started=date(2026, 3, 3), seen=None,
        authorised=authorised, outcome="strategy_discussion",
    )["state"] == "authorised"  # fmt: skip
    held = date(2026, 3, 23)
    s47 = strategy_and_s47(client, c.worker, case_id, concern=authorised, held=held)
    conference = date(2026, 4, 9)  # before Easter; within 15 working days of the discussion
    assert conference <= add_working_days(held, 15)
    held_icpc = icpc(client, c.worker, s47, concluded=date(2026, 4, 7), conference=conference,
                     notes="Pre-birth conference.")  # fmt: skip
    assert held_icpc["kind"] == "initial"
    assert held_icpc["cp_plan_id"] is not None
    assert case_state(client, c.worker, case_id) == "cp_plan"
    with on(conference):
        plan = ok(client.get(f"/api/v1/cp-plans/{held_icpc['cp_plan_id']}", headers=c.worker))
    assert plan["start_date"] == conference.isoformat()
    assert plan["initial_category"] == "NEG"


def test_a_child_referred_again_eight_months_after_an_nfa_referral_is_a_re_referral(
    client: TestClient, council: Council
) -> None:
    c = council
    with on(date(2025, 6, 2)):
        leo = new_child(client, c.mash, first_name="Leo", sex="M", date_of_birth="2016-09-01")
        first = contact(client, c, [leo], source="6")
        referral = refer(client, c, first, leo)
        assert referral["is_re_referral"] is False
    with on(date(2025, 6, 3)):
        decide_referral(
            client, c.door_manager, referral["id"], "no_further_action",
            "Checks show the family's needs are met by universal services.",
        )  # fmt: skip
        assert case_state(client, c.mash, first["children"][0]["case_id"]) == "closed"

    # Eight months later the police ring again: a new contact opens a new case.
    with on(date(2026, 2, 2)):
        again = contact(client, c, [leo], source="6")
        assert again["children"][0]["case_id"] != first["children"][0]["case_id"]
        second = refer(client, c, again, leo)
    assert second["is_re_referral"] is True
    assert second["previous_referral_id"] == referral["id"]
