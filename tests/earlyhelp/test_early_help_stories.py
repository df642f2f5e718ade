"""Stories of early help: a child stepped down at the front door and helped to a good end, a
child stepped down after an assessment and stepped back up, a CIN case closing to early help, and
the figures that follow step-ups into the re-referral measure."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import service as case_service
from app.core_types import ReasonForClosure
from app.models import CaseEvent, TeamKind
from app.models.audit import AccessLog
from app.models.earlyhelp import EarlyHelpEpisode, EarlyHelpOrigin
from app.models.frontdoor import Contact, ContactChild, Referral
from tests.earlyhelp.factories import (
    Council,
    contact_about,
    decide,
    episode_of,
    latest_case,
    make_council,
    noon,
    principal,
    stepped_down_after_assessment,
    stepped_down_at_the_door,
)
from tests.factories import make_child, make_team

STEP_DOWN = date(2026, 3, 2)


@pytest.fixture
def council(db: Session) -> Council:
    return make_council(db)


def post(
    client: TestClient,
    db: Session,
    council: Council,
    url: str,
    body: dict[str, Any],
    *,
    version: int | str,
    on: date,
    user: Any = None,
) -> Any:
    with clock.frozen_at(noon(on)):
        return client.post(
            url,
            json=body,
            headers={**council.headers(db, user), "If-Match": f'"{version}"'},
        )


def test_a_child_stepped_down_at_the_door_is_helped_by_early_help_until_needs_are_met(
    client: TestClient, db: Session, council: Council
) -> None:
    episode = stepped_down_at_the_door(client, db, council, council.ava, on=STEP_DOWN)
    # Opened by the MASH decision itself, on the day, with the council's one early help team.
    assert (episode.origin, episode.state, episode.start_date) == (
        EarlyHelpOrigin.contact,
        "open",
        STEP_DOWN,
    )
    assert episode.team_id == council.early_help.id
    door_case = latest_case(db, council.ava)
    assert episode.origin_case_id == door_case.id
    assert door_case.state == "closed"
    url = f"/api/v1/early-help/{episode.id}"

    allocated = post(
        client,
        db,
        council,
        f"{url}/allocation",
        {
            "team_id": str(council.early_help.id),
            "lead_professional_name": "Mrs Amber Cole",
            "lead_professional_agency": "Kestrel Park Primary",
        },
        version=1,
        on=date(2026, 3, 4),
        user=council.early_help_manager,
    )
    assert allocated.status_code == 200, allocated.text
    assert allocated.headers["ETag"] == '"2"'
    assessed = post(
        client,
        db,
        council,
        f"{url}/assessment",
        {"assessment_date": "2026-03-18", "summary": "Mother isolated; Ava late most days."},
        version=2,
        on=date(2026, 3, 19),
    )
    assert assessed.status_code == 200, assessed.text
    assert (assessed.json()["state"], assessed.json()["assessment_date"]) == (
        "assessed",
        "2026-03-18",
    )
    joined = post(
        client,
        db,
        council,
        f"{url}/members",
        {"name": "Sam Reed", "agency": "Health visiting", "role": "Health visitor"},
        version=3,
        on=date(2026, 3, 20),
    )
    assert joined.status_code == 201, joined.text
    assert [m["name"] for m in joined.json()["members"]] == ["Sam Reed"]
    planned = post(
        client,
        db,
        council,
        f"{url}/plan",
        {"plan_date": "2026-03-25", "summary": "Breakfast club; parenting group; HV visits."},
        version=joined.headers["ETag"].strip('"'),
        on=date(2026, 3, 25),
    )
    assert planned.status_code == 200, planned.text
    member_id = joined.json()["members"][0]["id"]
    left = post(
        client,
        db,
        council,
        f"{url}/members/{member_id}/end",
        {"left_date": "2026-05-01"},
        version=planned.headers["ETag"].strip('"'),
        on=date(2026, 5, 1),
    )
    assert left.status_code == 200, left.text
    assert left.json()["members"][0]["left_date"] == "2026-05-01"
    closed = post(
        client,
        db,
        council,
        f"{url}/close",
        {
            "end_date": "2026-06-26",
            "outcome": "needs_met",
            "outcome_notes": "Attendance 97%; mother in a parents' group.",
        },
        version=left.headers["ETag"].strip('"'),
        on=date(2026, 6, 26),
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["outcome"], closed.json()["end_date"]) == (
        "closed",
        "needs_met",
        "2026-06-26",
    )
    assert closed.json()["step_up_case_id"] is None

    # The child's chronology tells it, on the case that stepped down (closed as it is).
    with clock.frozen_at(noon(date(2026, 6, 29))):
        chronology = client.get(
            f"/api/v1/children/{council.ava.id}/chronology",
            params={
                "type": [
                    "early_help_opened",
                    "early_help_allocated",
                    "early_help_assessed",
                    "early_help_member_joined",
                    "early_help_plan_recorded",
                    "early_help_member_left",
                    "early_help_closed",
                ]
            },
            headers=council.headers(db),
        )
        read = client.get(url, headers=council.headers(db))
    assert chronology.status_code == 200, chronology.text
    assert [e["label"] for e in chronology.json()["items"]] == [
        "Stepped down to early help",
        "Early help allocated (team and lead professional)",
        "Early help assessment recorded",
        "Joined the team around the family",
        "Early help plan recorded",
        "Left the team around the family",
        "Early help ended",
    ]
    assert read.status_code == 200
    assert read.headers["ETag"] == closed.headers["ETag"]
    assert read.json()["lead_professional_agency"] == "Kestrel Park Primary"
    reads = db.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.resource == "early_help", AccessLog.person_id == council.ava.id)
    )
    assert reads == 1


def test_an_assessment_ending_in_early_help_opens_an_episode_on_the_closed_case(
    db: Session, council: Council
) -> None:
    episode = stepped_down_after_assessment(
        db, council, council.ben, referral_on=date(2026, 1, 12), authorised_on=date(2026, 2, 20)
    )
    case = latest_case(db, council.ben)
    assert (case.state, case.closure_reason) == (
        "closed",
        ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP,
    )
    assert (episode.origin, episode.origin_case_id, episode.start_date) == (
        EarlyHelpOrigin.assessment,
        case.id,
        date(2026, 2, 20),
    )
    actions = list(
        db.scalars(
            select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )
    # The step-down follows the closure, in the same transaction.
    assert actions[-2:] == ["close", "early_help_opened"]


def test_with_no_single_early_help_team_the_episode_awaits_allocation(
    client: TestClient, db: Session, council: Council
) -> None:

    make_team(db, kind=TeamKind.early_help)  # two teams: the hub must choose
    episode = stepped_down_at_the_door(client, db, council, council.ava, on=STEP_DOWN)
    assert episode.team_id is None
    # Any early help worker may pick it up from the hub's queue.
    allocated = post(
        client,
        db,
        council,
        f"/api/v1/early-help/{episode.id}/allocation",
        {
            "team_id": str(council.early_help.id),
            "lead_professional_user_id": str(council.family_worker.id),
        },
        version=1,
        on=date(2026, 3, 3),
    )
    assert allocated.status_code == 200, allocated.text
    assert allocated.json()["lead_professional_user_id"] == str(council.family_worker.id)


def test_a_mash_referral_or_nfa_opens_no_early_help(
    client: TestClient, db: Session, council: Council
) -> None:
    with clock.frozen_at(noon(STEP_DOWN)):
        contact = contact_about(client, db, council, council.ava)
        assert (
            decide(client, db, council, contact, council.ava, "no_further_action").status_code
            == 200
        )

    assert db.scalar(select(func.count()).select_from(EarlyHelpEpisode)) == 0


# --------------------------------------------------------------------------------------------------
# Step-up
# --------------------------------------------------------------------------------------------------


def step_up(
    client: TestClient,
    db: Session,
    council: Council,
    episode_id: Any,
    *,
    version: int,
    on: date,
    **body: Any,
) -> Any:
    return post(
        client,
        db,
        council,
        f"/api/v1/early-help/{episode_id}/step-up",
        {
            "reason": "Ben disclosed that his stepfather hits him; bruising seen by the school.",
            "rag": "red",
            **body,
        },
        version=version,
        on=on,
    )


def test_a_step_up_sends_a_new_contact_to_the_mash_and_its_referral_is_a_re_referral(
    client: TestClient, db: Session, council: Council
) -> None:
    episode = stepped_down_after_assessment(
        db, council, council.ben, referral_on=date(2026, 1, 12), authorised_on=date(2026, 2, 20)
    )
    stepped = step_up(client, db, council, episode.id, version=1, on=date(2026, 5, 6))
    assert stepped.status_code == 200, stepped.text
    body = stepped.json()
    assert (body["state"], body["outcome"], body["end_date"]) == (
        "stepped_up",
        "stepped_up",
        "2026-05-06",
    )
    assert body["step_up_referral"] is None  # the MASH has not decided yet
    new_case = latest_case(db, council.ben)
    assert body["step_up_case_id"] == str(new_case.id)
    assert new_case.state == "contact"
    contact = db.scalars(
        select(Contact).join(ContactChild).where(ContactChild.case_id == new_case.id)
    ).one()
    assert (contact.source.value, contact.rag.value, contact.state) == ("5D", "red", "open")
    assert contact.concern.startswith("Ben disclosed")

    # The MASH accepts it: the child had a referral in January, so this is a re-referral.
    with clock.frozen_at(noon(date(2026, 5, 6))):
        mash_view = client.get(
            f"/api/v1/contacts/{contact.id}", headers=council.headers(db, council.mash_officer)
        ).json()
        accepted = decide(
            client, db, council, mash_view, council.ben, "referral", primary_need="N1"
        )
    assert accepted.status_code == 200, accepted.text
    referral = db.scalars(select(Referral).where(Referral.case_id == new_case.id)).one()
    assert referral.is_re_referral
    with clock.frozen_at(noon(date(2026, 5, 7))):
        read = client.get(f"/api/v1/early-help/{episode.id}", headers=council.headers(db))
        figures = client.get(
            "/api/v1/early-help/step-ups",
            params={"from": "2026-05-01", "to": "2026-05-31"},
            headers=council.headers(db),
        )
    assert read.json()["step_up_referral"] == {
        "id": str(referral.id),
        "referral_date": "2026-05-06",
        "is_re_referral": True,
    }
    assert figures.status_code == 200, figures.text
    f = figures.json()
    assert (f["step_ups"], f["became_referrals"], f["re_referrals"]) == (1, 1, 1)
    assert f["median_days_to_step_up"] == (date(2026, 5, 6) - date(2026, 2, 20)).days
    assert [e["episode_id"] for e in f["episodes"]] == [str(episode.id)]
    assert f["episodes"][0]["referral"]["is_re_referral"] is True


def test_step_up_figures_count_the_period_and_tell_referrals_from_re_referrals(
    client: TestClient, db: Session, council: Council
) -> None:
    """Ava stepped down at the door (no referral before) and steps up after 30 days: her referral
    is not a re-referral. Ben stepped down after an assessment and steps up after 60 days: his
    is. A third step-up, outside the period, is not counted."""
    ava = stepped_down_at_the_door(client, db, council, council.ava, on=date(2026, 4, 1))
    ben = stepped_down_after_assessment(
        db, council, council.ben, referral_on=date(2026, 2, 2), authorised_on=date(2026, 3, 2)
    )
    assert step_up(client, db, council, ava.id, version=1, on=date(2026, 5, 1)).status_code == 200
    assert step_up(client, db, council, ben.id, version=1, on=date(2026, 5, 1)).status_code == 200
    for child in (council.ava, council.ben):
        contact = db.scalars(
            select(Contact)
            .join(ContactChild)
            .where(ContactChild.case_id == latest_case(db, child).id)
        ).one()
        with clock.frozen_at(noon(date(2026, 5, 2))):
            view = client.get(
                f"/api/v1/contacts/{contact.id}", headers=council.headers(db, council.mash_officer)
            ).json()
            assert (
                decide(client, db, council, view, child, "referral", primary_need="N1").status_code
                == 200
            )

    carl = make_child(db, first_name="Carl", last_name="Pine")
    late = stepped_down_at_the_door(client, db, council, carl, on=date(2026, 5, 4))
    assert step_up(client, db, council, late.id, version=1, on=date(2026, 6, 1)).status_code == 200

    with clock.frozen_at(noon(date(2026, 6, 2))):
        figures = client.get(
            "/api/v1/early-help/step-ups",
            params={"from": "2026-05-01", "to": "2026-05-31"},
            headers=council.headers(db),
        ).json()
    assert (figures["step_ups"], figures["became_referrals"], figures["re_referrals"]) == (2, 2, 1)
    assert figures["median_days_to_step_up"] == 45.0  # median of 30 and 60
    by_child = {e["child_id"]: e for e in figures["episodes"]}
    assert by_child[str(council.ava.id)]["referral"]["is_re_referral"] is False
    assert by_child[str(council.ben.id)]["days_in_early_help"] == 60


def test_a_closed_cin_case_steps_down_to_early_help_at_its_closure(
    client: TestClient, db: Session, council: Council
) -> None:
    episode = stepped_down_after_assessment(
        db, council, council.ben, referral_on=date(2026, 1, 12), authorised_on=date(2026, 2, 20)
    )
    # Ben's episode ends; later a CIN case opens and closes to early help.
    closed = post(
        client,
        db,
        council,
        f"/api/v1/early-help/{episode.id}/close",
        {"end_date": "2026-03-01", "outcome": "declined"},
        version=1,
        on=date(2026, 3, 2),
    )
    assert closed.status_code == 200, closed.text
    worker = principal(db, council.social_worker)
    with clock.frozen_at(noon(date(2026, 4, 1))):
        case = case_service.case_open(
            db,
            actor=worker,
            child_id=council.ben.id,
            team_id=council.assessment.id,
            opened_date=date(2026, 4, 1),
        )
        db.commit()
    url = f"/api/v1/cases/{case.id}/early-help"
    headers = council.headers(db, council.social_worker)
    with clock.frozen_at(noon(date(2026, 4, 2))):
        still_open = client.post(url, json={}, headers=headers)
    assert still_open.status_code == 409, still_open.text
    assert still_open.json()["code"] == "case_open"
    with clock.frozen_at(noon(date(2026, 6, 1))):
        case_service.case_transition(
            db,
            actor=worker,
            case_id=case.id,
            event="close",
            expected_version=case.version,
            reason="Closed at the door.",
            data={"closure_reason": ReasonForClosure.SERVICES_CEASED.value},
        )
        db.commit()
    with clock.frozen_at(noon(date(2026, 6, 3))):
        too_early = client.post(url, json={"start_date": "2026-05-30"}, headers=headers)
        made = client.post(
            url,
            json={"start_date": "2026-06-02", "reason": "Family agree to a family worker."},
            headers=headers,
        )
        again = client.post(url, json={}, headers=headers)
    assert too_early.status_code == 422
    assert [e["field"] for e in too_early.json()["errors"]] == ["start_date"]
    assert made.status_code == 201, made.text
    assert (made.json()["origin"], made.json()["start_date"], made.json()["state"]) == (
        "case_closure",
        "2026-06-02",
        "open",
    )
    assert made.headers["Location"] == f"/api/v1/early-help/{made.json()['id']}"
    assert again.status_code == 409
    assert again.json()["code"] == "early_help_already_open"
    assert episode_of(db, council.ben).id == uuid.UUID(made.json()["id"])


def test_the_list_filters_by_state_team_and_child_and_pages(
    client: TestClient, db: Session, council: Council
) -> None:
    ava = stepped_down_at_the_door(client, db, council, council.ava, on=date(2026, 3, 2))
    ben = stepped_down_at_the_door(client, db, council, council.ben, on=date(2026, 3, 9))
    closed = post(
        client,
        db,
        council,
        f"/api/v1/early-help/{ava.id}/close",
        {"end_date": "2026-03-10", "outcome": "declined"},
        version=1,
        on=date(2026, 3, 10),
    )
    assert closed.status_code == 200
    headers = council.headers(db)
    with clock.frozen_at(noon(date(2026, 3, 11))):
        everyone = client.get("/api/v1/early-help", params={"limit": 1}, headers=headers).json()
        rest = client.get(
            "/api/v1/early-help",
            params={"limit": 1, "cursor": everyone["next_cursor"]},
            headers=headers,
        ).json()
        open_ones = client.get(
            "/api/v1/early-help", params={"state": "open"}, headers=headers
        ).json()
        avas = client.get(
            "/api/v1/early-help", params={"child_id": str(council.ava.id)}, headers=headers
        ).json()
        team = client.get(
            "/api/v1/early-help", params={"team_id": str(council.early_help.id)}, headers=headers
        ).json()
        bad = client.get("/api/v1/early-help", params={"state": "sleeping"}, headers=headers)
    assert [e["id"] for e in everyone["items"]] == [str(ben.id)]  # latest start first
    assert [e["id"] for e in rest["items"]] == [str(ava.id)]
    assert rest["next_cursor"] is None
    assert [e["id"] for e in open_ones["items"]] == [str(ben.id)]
    assert [e["id"] for e in avas["items"]] == [str(ava.id)]
    assert len(team["items"]) == 2
    assert bad.status_code == 422
