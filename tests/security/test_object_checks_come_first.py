"""Stories of the object-level matrix's findings (issue 8, part 3): a worker in another team who
tries to change a record is told 403 — "you can see this but not change it" — before anything
about the record's version or state. A 412 would show that the record changed since they read it;
a 409 would show its state (a finished note, a closed episode). OWASP API1: the object check comes
first, then the precondition, then the state.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.earlyhelp.service import early_help_step_down
from app.models import Role
from app.models.earlyhelp import EarlyHelpOrigin
from tests.cases.factories import make_cast, open_case, principal
from tests.earlyhelp.factories import make_council
from tests.factories import auth_headers, make_child, make_team, make_user

STALE = {"If-Match": '"999"'}


def test_another_teams_worker_with_a_stale_etag_is_refused_the_case_not_told_it_changed(
    client: TestClient, db: Session
) -> None:
    cast = make_cast(db)
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    db.commit()
    body = {"event": "accept_referral"}

    outsider = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json=body,
        headers=auth_headers(db, cast.other_social_worker) | STALE,
    )
    own_team = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json=body,
        headers=auth_headers(db, cast.social_worker) | STALE,
    )

    assert outsider.status_code == 403, outsider.text
    assert "version" not in outsider.text
    assert own_team.status_code == 412, own_team.text


def test_another_teams_worker_is_refused_a_finished_note_not_told_it_is_finished(
    client: TestClient, db: Session
) -> None:
    cast = make_cast(db)
    case = open_case(db, by=cast.manager, child=cast.child, team=cast.team)
    db.commit()
    note = {
        "kind": "meeting",
        "occurred_at": (clock.now() - timedelta(minutes=5)).isoformat(),
        "title": "Discussion with the school nurse",
        "body": "Attendance has improved since September.",
        "finalise": True,
    }
    made = client.post(
        f"/api/v1/cases/{case.id}/case-notes",
        json=note,
        headers=auth_headers(db, cast.social_worker),
    )
    assert made.status_code == 201, made.text
    note_id = made.json()["id"]
    outsider = auth_headers(db, cast.other_social_worker) | STALE
    author = auth_headers(db, cast.social_worker) | STALE

    finalise = client.post(f"/api/v1/case-notes/{note_id}/finalise", headers=outsider)
    draft = {k: v for k, v in note.items() if k != "finalise"}
    autosave = client.put(f"/api/v1/case-notes/{note_id}/draft", json=draft, headers=outsider)

    assert (finalise.status_code, autosave.status_code) == (403, 403), finalise.text
    assert "finished" not in finalise.text + autosave.text
    # The author's own team hears the truth: the note is finished.
    assert client.post(f"/api/v1/case-notes/{note_id}/finalise", headers=author).status_code == 409


def test_another_teams_worker_is_refused_a_referral_decision_not_told_it_changed(
    client: TestClient, db: Session
) -> None:
    mash = make_team(db)
    elsewhere = make_team(db)
    mash_worker = make_user(db, Role.social_worker, team=mash)
    outsider = make_user(db, Role.social_worker, team=elsewhere)
    child = make_child(db)
    db.commit()
    made = client.post(
        "/api/v1/referrals",
        json={
            "child_id": str(child.id),
            "team_id": str(mash.id),
            "referral_date": date.today().isoformat(),
            "source": "6",
            "primary_need": "N1",
            "summary": "Police attended a domestic incident; the children were present.",
        },
        headers=auth_headers(db, mash_worker),
    )
    assert made.status_code == 201, made.text
    decision = {"decision": "assessment", "reason": "Manager's rationale recorded."}

    refused = client.post(
        f"/api/v1/referrals/{made.json()['id']}/decision",
        json=decision,
        headers=auth_headers(db, outsider) | STALE,
    )
    own_team = client.post(
        f"/api/v1/referrals/{made.json()['id']}/decision",
        json=decision,
        headers=auth_headers(db, mash_worker) | STALE,
    )

    assert refused.status_code == 403, refused.text
    assert own_team.status_code == 412, own_team.text


def test_a_worker_outside_early_help_is_refused_an_episode_not_told_its_version(
    client: TestClient, db: Session
) -> None:
    council = make_council(db)
    case = open_case(db, by=council.assessment_manager, child=council.ava, team=council.assessment)
    episode = early_help_step_down(
        db,
        actor=principal(db, council.early_help_manager),
        case=case,
        origin=EarlyHelpOrigin.assessment,
        on=date.today(),
    )
    db.commit()
    close = {"outcome": "needs_met"}

    refused = client.post(
        f"/api/v1/early-help/{episode.id}/close",
        json=close,
        headers=auth_headers(db, council.social_worker) | STALE,
    )
    own_team = client.post(
        f"/api/v1/early-help/{episode.id}/close",
        json=close,
        headers=auth_headers(db, council.family_worker) | STALE,
    )

    assert refused.status_code == 403, refused.text
    assert own_team.status_code == 412, own_team.text
