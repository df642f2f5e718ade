"""Every way an early help change can be refused — stale (412), badly dated or unknown input (422),
a step the episode's state does not allow (409), another team's episode (403), a child the caller
may not see (404) — and, each time, nothing written."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Role, TeamKind
from app.models.earlyhelp import EarlyHelpEpisode
from app.models.frontdoor import Contact
from app.models.security import RestrictedAccessGrant
from tests.earlyhelp.factories import (
    Council,
    make_council,
    noon,
    stepped_down_at_the_door,
    written,
)
from tests.factories import make_team, make_user

STEP_DOWN = date(2026, 3, 2)
TODAY = date(2026, 4, 15)


@pytest.fixture
def council(db: Session) -> Council:
    return make_council(db)


@pytest.fixture
def episode(client: TestClient, db: Session, council: Council) -> EarlyHelpEpisode:
    return stepped_down_at_the_door(client, db, council, council.ava, on=STEP_DOWN)


def send(
    client: TestClient,
    db: Session,
    council: Council,
    path: str,
    body: dict[str, Any],
    *,
    version: int = 1,
    user: Any = None,
    on: date = TODAY,
) -> Any:
    with clock.frozen_at(noon(on)):
        return client.post(
            f"/api/v1/early-help/{path}",
            json=body,
            headers={**council.headers(db, user), "If-Match": f'"{version}"'},
        )


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


def contacts(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Contact)) or 0


def assess(client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode) -> None:
    done = send(
        client,
        db,
        council,
        f"{episode.id}/assessment",
        {"assessment_date": "2026-03-20", "summary": "Assessed."},
    )
    assert done.status_code == 200, done.text


def steps(episode_id: Any, council: Council) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "allocation": (
            f"{episode_id}/allocation",
            {
                "team_id": str(council.early_help.id),
                "lead_professional_user_id": str(council.family_worker.id),
            },
        ),
        "assessment": (f"{episode_id}/assessment", {"summary": "Assessed."}),
        "members": (f"{episode_id}/members", {"name": "Sam Reed", "agency": "Health visiting"}),
        "close": (f"{episode_id}/close", {"outcome": "declined"}),
        "step-up": (f"{episode_id}/step-up", {"reason": "Disclosure at school.", "rag": "red"}),
    }


@pytest.mark.parametrize("step", ["allocation", "assessment", "members", "close", "step-up"])
def test_a_change_from_a_stale_screen_gets_412_and_changes_nothing(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode, step: str
) -> None:
    # A colleague allocates first (version 1 → 2) …
    first = send(client, db, council, *steps(episode.id, council)["allocation"])
    assert first.status_code == 200, first.text
    before, sent = written(db, episode.id), contacts(db)
    # … and this change still carries version 1.
    stale = send(client, db, council, *steps(episode.id, council)[step], version=1)
    assert stale.status_code == 412, stale.text
    assert written(db, episode.id) == before
    assert contacts(db) == sent


def test_without_if_match_a_change_is_refused_428(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    before = written(db, episode.id)
    with clock.frozen_at(noon(TODAY)):
        response = client.post(
            f"/api/v1/early-help/{episode.id}/assessment",
            json={"summary": "Assessed."},
            headers=council.headers(db),
        )
    assert response.status_code == 428
    assert written(db, episode.id) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("assessment", {"assessment_date": "2026-04-16", "summary": "x"}, "assessment_date"),
        ("assessment", {"assessment_date": "2026-03-01", "summary": "x"}, "assessment_date"),
        ("assessment", {"summary": "x", "colour": "blue"}, "colour"),
        ("assessment", {"assessment_date": "2026-03-20"}, "summary"),
        ("close", {"end_date": "2026-03-01", "outcome": "declined"}, "end_date"),
        ("close", {"end_date": "2026-04-16", "outcome": "declined"}, "end_date"),
        ("close", {"outcome": "stepped_up"}, "outcome"),
        ("close", {"outcome": "cured"}, "outcome"),
        ("members", {"name": "Sam", "agency": "HV", "joined_date": "2026-04-16"}, "joined_date"),
        ("members", {"name": "Sam", "agency": "HV", "joined_date": "2026-03-01"}, "joined_date"),
        ("members", {"name": "Sam"}, "agency"),
        (
            "allocation",
            {"team_id": "TEAM", "lead_professional_name": "Mrs Cole"},
            "lead_professional_agency",
        ),
        (
            "allocation",
            {
                "team_id": "TEAM",
                "lead_professional_user_id": "USER",
                "lead_professional_name": "Mrs Cole",
            },
            "lead_professional_name",
        ),
        ("allocation", {"team_id": "MASH", "lead_professional_user_id": "USER"}, "team_id"),
        ("allocation", {"team_id": "TEAM"}, "lead_professional_name"),
        ("step-up", {"reason": "Disclosure.", "rag": "red", "team_id": "TEAM"}, "team_id"),
        (
            "step-up",
            {"reason": "Disclosure.", "rag": "red", "consent": "refused"},
            "consent_reason",
        ),
        ("step-up", {"reason": "Disclosure."}, "rag"),
    ],
)
def test_bad_input_is_422_on_the_field_and_changes_nothing(
    client: TestClient,
    db: Session,
    council: Council,
    episode: EarlyHelpEpisode,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    ids = {
        "TEAM": str(council.early_help.id),
        "MASH": str(council.mash.id),
        "USER": str(council.family_worker.id),
    }
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before, sent = written(db, episode.id), contacts(db)
    response = send(client, db, council, f"{episode.id}/{path}", body)
    assert response.status_code == 422, response.text
    assert field in [f.rsplit(".", 1)[-1] for f in fields(response)], fields(response)
    assert written(db, episode.id) == before
    assert contacts(db) == sent


def test_a_plan_cannot_come_before_its_assessment_nor_an_end_before_the_plan(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    assess(client, db, council, episode)
    before = written(db, episode.id)
    early_plan = send(
        client,
        db,
        council,
        f"{episode.id}/plan",
        {"plan_date": "2026-03-19", "summary": "Plan."},
        version=before.version,
    )
    assert early_plan.status_code == 422
    assert fields(early_plan) == ["plan_date"]
    assert written(db, episode.id) == before
    planned = send(
        client,
        db,
        council,
        f"{episode.id}/plan",
        {"plan_date": "2026-03-27", "summary": "Plan."},
        version=before.version,
    )
    assert planned.status_code == 200
    after_plan = written(db, episode.id)
    early_end = send(
        client,
        db,
        council,
        f"{episode.id}/close",
        {"end_date": "2026-03-26", "outcome": "needs_met"},
        version=after_plan.version,
    )
    assert early_end.status_code == 422
    assert fields(early_end) == ["end_date"]
    assert written(db, episode.id) == after_plan


def test_a_member_leaves_once_and_not_before_joining(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    joined = send(
        client,
        db,
        council,
        f"{episode.id}/members",
        {"name": "Sam Reed", "agency": "Health visiting", "joined_date": "2026-03-10"},
    )
    member = joined.json()["members"][0]["id"]
    version = int(joined.headers["ETag"].strip('"'))
    before = written(db, episode.id)
    too_soon = send(
        client,
        db,
        council,
        f"{episode.id}/members/{member}/end",
        {"left_date": "2026-03-09"},
        version=version,
    )
    assert too_soon.status_code == 422
    assert fields(too_soon) == ["left_date"]
    assert written(db, episode.id) == before
    left = send(client, db, council, f"{episode.id}/members/{member}/end", {}, version=version)
    assert left.status_code == 200
    again = send(client, db, council, f"{episode.id}/members/{member}/end", {}, version=version + 1)
    assert again.status_code == 409
    unknown = send(
        client,
        db,
        council,
        f"{episode.id}/members/{episode.id}/end",
        {},
        version=version + 1,
    )
    assert unknown.status_code == 404


def test_steps_the_state_does_not_allow_are_409_and_change_nothing(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    plan_first = send(client, db, council, f"{episode.id}/plan", {"summary": "Plan."})
    assert plan_first.status_code == 409
    assert plan_first.json()["current_state"] == "open"
    assert "early_help_assessed" in plan_first.json()["allowed_events"]
    closed = send(client, db, council, f"{episode.id}/close", {"outcome": "disengaged"})
    assert closed.status_code == 200
    before, sent = written(db, episode.id), contacts(db)
    v = before.version
    for path, body in [
        ("step-up", {"reason": "Disclosure.", "rag": "red"}),
        ("assessment", {"summary": "Assessed."}),
        ("close", {"outcome": "needs_met"}),
        ("members", {"name": "Sam Reed", "agency": "Health visiting"}),
        (
            "allocation",
            {
                "team_id": str(council.early_help.id),
                "lead_professional_user_id": str(council.family_worker.id),
            },
        ),
    ]:
        refused = send(client, db, council, f"{episode.id}/{path}", body, version=v)
        assert refused.status_code == 409, (path, refused.text)
    assert written(db, episode.id) == before
    assert contacts(db) == sent


def test_another_teams_worker_may_read_but_not_change_the_episode(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    before = written(db, episode.id)
    for path, body in steps(episode.id, council).values():
        refused = send(client, db, council, path, body, user=council.social_worker)
        assert refused.status_code == 403, (path, refused.text)
    # An IRO reads early help but may not write it (the policy's early_help:write).
    iro = make_user(db, Role.iro)
    refused = send(client, db, council, f"{episode.id}/assessment", {"summary": "x"}, user=iro)
    assert refused.status_code == 403
    assert written(db, episode.id) == before
    with clock.frozen_at(noon(TODAY)):
        read = client.get(
            f"/api/v1/early-help/{episode.id}", headers=council.headers(db, council.social_worker)
        )
    assert read.status_code == 200


def test_a_restricted_child_is_404_everywhere_to_anyone_not_named(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    council.ava.is_restricted = True
    db.add(
        RestrictedAccessGrant(
            person_id=council.ava.id,
            user_id=council.family_worker.id,
            granted_by_id=council.family_worker.id,
        )
    )
    db.commit()
    outsider = council.other_family_worker
    before = written(db, episode.id)
    for path, body in steps(episode.id, council).values():
        refused = send(client, db, council, path, body, user=outsider)
        assert refused.status_code == 404, (path, refused.text)
    assert written(db, episode.id) == before
    headers = council.headers(db, outsider)
    with clock.frozen_at(noon(TODAY)):
        assert client.get(f"/api/v1/early-help/{episode.id}", headers=headers).status_code == 404
        listed = client.get("/api/v1/early-help", headers=headers).json()
        named = client.get(f"/api/v1/early-help/{episode.id}", headers=council.headers(db))
        unknown = client.get(f"/api/v1/early-help/{council.ava.id}", headers=headers)
    assert listed["items"] == []
    assert named.status_code == 200
    assert unknown.status_code == 404


def test_two_colleagues_saving_at_once_one_wins_and_the_other_gets_412(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    """Both loaded version 1; the first records the assessment, the second closes the episode as
    declined from the same screen: the second is refused, and the assessment stands."""
    first = send(client, db, council, f"{episode.id}/assessment", {"summary": "Assessed."})
    second = send(
        client,
        db,
        council,
        f"{episode.id}/close",
        {"outcome": "declined"},
        user=council.other_family_worker,
    )
    assert (first.status_code, second.status_code) == (200, 412)
    assert written(db, episode.id).state == "assessed"


def test_step_down_at_closure_refuses_a_future_start_an_unknown_field_and_an_unseen_case(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    url = f"/api/v1/cases/{episode.origin_case_id}/early-help"
    headers = council.headers(db, council.mash_officer)
    count = db.scalar(select(func.count()).select_from(EarlyHelpEpisode))
    with clock.frozen_at(noon(TODAY)):
        future = client.post(url, json={"start_date": "2026-04-16"}, headers=headers)
        unknown = client.post(url, json={"colour": "blue"}, headers=headers)
        nowhere = client.post(
            f"/api/v1/cases/{council.ava.id}/early-help", json={}, headers=headers
        )
        # Ava is already in an open episode (the one the MASH opened).
        twice = client.post(url, json={}, headers=headers)
    assert future.status_code == 422
    assert fields(future) == ["start_date"]
    assert unknown.status_code == 422
    assert nowhere.status_code == 404
    assert twice.status_code == 409
    assert db.scalar(select(func.count()).select_from(EarlyHelpEpisode)) == count


def test_the_step_up_figures_refuse_a_period_that_ends_before_it_starts(
    client: TestClient, db: Session, council: Council
) -> None:
    with clock.frozen_at(noon(TODAY)):
        backwards = client.get(
            "/api/v1/early-help/step-ups",
            params={"from": "2026-05-01", "to": "2026-04-01"},
            headers=council.headers(db),
        )
        missing = client.get("/api/v1/early-help/step-ups", headers=council.headers(db))
    assert backwards.status_code == 422
    assert fields(backwards) == ["to"]
    assert missing.status_code == 422


def test_a_step_up_with_two_front_doors_must_name_one(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    make_team(db, kind=TeamKind.front_door)
    before, sent = written(db, episode.id), contacts(db)
    refused = send(client, db, council, f"{episode.id}/step-up", {"reason": "x", "rag": "amber"})
    assert refused.status_code == 422
    assert fields(refused) == ["team_id"]
    assert (written(db, episode.id), contacts(db)) == (before, sent)
    named = send(
        client,
        db,
        council,
        f"{episode.id}/step-up",
        {"reason": "x", "rag": "amber", "team_id": str(council.mash.id)},
    )
    assert named.status_code == 200, named.text
    assert contacts(db) == sent + 1


def test_a_mash_officer_decides_at_the_door_but_does_not_step_an_episode_up(
    client: TestClient, db: Session, council: Council, episode: EarlyHelpEpisode
) -> None:
    before, sent = written(db, episode.id), contacts(db)
    refused = send(
        client,
        db,
        council,
        f"{episode.id}/step-up",
        {"reason": "Disclosure.", "rag": "red"},
        user=council.mash_officer,
    )
    assert refused.status_code == 403, refused.text
    assert (written(db, episode.id), contacts(db)) == (before, sent)
