"""Story of a case handed on: from the front door to an assessment team to the long-term team that
holds the child's plan, each step in the case's allocation history and in the caseloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.calendar import LONDON
from app.models import Case, Role, TeamKind
from tests.cases.factories import Cast, open_case, take
from tests.factories import auth_headers, make_team, make_user


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=LONDON)


def _allocate(
    client: TestClient, case: Case, headers: dict[str, str], version: int, **body: Any
) -> Any:
    return client.post(
        f"/api/v1/cases/{case.id}/allocation",
        json=body,
        headers={**headers, "If-Match": f'"{version}"'},
    )


def _caseload(client: TestClient, headers: dict[str, str], team_id: Any) -> dict[str, int]:
    loads = client.get(f"/api/v1/teams/{team_id}/caseloads", headers=headers).json()
    return {w["worker_id"]: w["caseload"] for w in loads["workers"]}


def test_a_case_moves_from_the_front_door_to_assessment_to_the_long_term_team(
    client: TestClient, db: Session, cast: Cast
) -> None:
    assessment = make_team(db, kind=TeamKind.assessment)
    assessor_manager = make_user(db, Role.team_manager, team=assessment, manager=True)
    assessor = make_user(db, Role.social_worker, team=assessment)
    long_term = cast.other_team  # the CIN / CP team
    long_term_manager = make_user(db, Role.team_manager, team=long_term, manager=True)
    long_term_worker = cast.other_social_worker
    door = auth_headers(db, cast.manager)
    assessors = auth_headers(db, assessor_manager)
    long_termers = auth_headers(db, long_term_manager)

    with clock.frozen_at(at(2)):
        case = open_case(
            db, by=cast.mash_officer, child=cast.child, team=cast.team, worker=cast.mash_officer
        )
        take(db, case, "accept_referral", by=cast.mash_officer)
    with clock.frozen_at(at(3)):
        moved = _allocate(
            client, case, door, case.version,
            team_id=str(assessment.id), worker_id=str(assessor.id),
            reason="Transferred for a child and family assessment",
        )  # fmt: skip
        assert moved.status_code == 200, moved.json()
        assert _caseload(client, assessors, assessment.id)[str(assessor.id)] == 1
        db.expire_all()
        take(db, case, "start_assessment", by=assessor)
        # The front door no longer holds it: its manager cannot move it on.
        refused = _allocate(client, case, door, case.version, team_id=str(long_term.id))
        assert refused.status_code == 403
    with clock.frozen_at(at(20)):
        take(db, case, "start_cin_plan", by=assessor)
        # A worker of the old team cannot hold the case in the new one.
        wrong = _allocate(
            client, case, assessors, case.version,
            team_id=str(long_term.id), worker_id=str(assessor.id),
        )  # fmt: skip
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "worker_id"
        moved = _allocate(
            client, case, assessors, case.version,
            team_id=str(long_term.id), worker_id=str(long_term_worker.id),
            reason="Transferred to the long-term team for the child in need plan",
        )  # fmt: skip
        assert moved.status_code == 200, moved.json()

        # The transfer moved the case from one worker's caseload to the other's.
        assert _caseload(client, assessors, assessment.id)[str(assessor.id)] == 0
        assert _caseload(client, long_termers, long_term.id)[str(long_term_worker.id)] == 1

        history = client.get(f"/api/v1/cases/{case.id}/allocations", headers=long_termers)
    assert history.status_code == 200
    rows = history.json()
    assert [(r["team_id"], r["worker_id"]) for r in rows] == [
        (str(cast.team.id), str(cast.mash_officer.id)),
        (str(assessment.id), str(assessor.id)),
        (str(long_term.id), str(long_term_worker.id)),
    ]
    assert [r["reason"] for r in rows] == [
        "case opened",
        "Transferred for a child and family assessment",
        "Transferred to the long-term team for the child in need plan",
    ]
    assert [r["allocated_by_id"] for r in rows[1:]] == [
        str(cast.manager.id),
        str(assessor_manager.id),
    ]
    # Each allocation ended as the next began; the current one is open.
    assert [r["ended_at"] for r in rows[:-1]] == [r["started_at"] for r in rows[1:]]
    assert rows[-1]["ended_at"] is None
    assert rows[1]["started_at"].startswith("2026-03-03")
    db.expire_all()
    assert (case.team_id, case.allocated_worker_id, case.state) == (
        long_term.id,
        long_term_worker.id,
        "cin_plan",
    )
    assert case.opened_date == date(2026, 3, 2)
