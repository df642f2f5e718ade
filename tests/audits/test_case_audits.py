"""Stories of case file audits: a QA auditor audits a child protection case, saving as she goes
and submitting when every question is graded; and the ways an audit is refused — an auditor who
works on or manages the case, a role that does not audit, a grade or question outside the tool,
an audit incomplete, edited after submission, stale, or about a child the caller may not see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cases import service as case_service
from app.models import AccessLog, Case, CaseEvent, Person
from app.models.audit import ChangeLog
from app.models.audits import AuditTool, CaseAudit, CaseAuditAnswer
from app.models.org import Role
from tests.audits.factories import (
    AuditCast,
    assigned_audit,
    complete_findings,
    cp_case,
    full_answers,
    if_match,
    make_audit_cast,
    make_tool,
    on,
    planned_audit,
    principal,
    referred_case,
)
from tests.factories import auth_headers, make_user

OPENED = date(2026, 3, 2)
AUDIT_DAY = date(2026, 6, 1)


@dataclass
class World:
    cast: AuditCast
    tool: AuditTool
    case: Case


@pytest.fixture
def world(db: Session) -> World:
    cast = make_audit_cast(db)
    tool = make_tool(db, cast)
    return World(cast=cast, tool=tool, case=referred_case(db, cast, opened=OPENED))


def _count(db: Session, model: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _audit_events(db: Session, case: Case) -> list[str]:
    return list(
        db.scalars(
            select(CaseEvent.action)
            .where(CaseEvent.case_id == case.id, CaseEvent.subject_type == "case_audit")
            .order_by(CaseEvent.seq)
        )
    )


def _ad_hoc(
    client: TestClient, db: Session, w: World, *, auditor_id: Any = None, by: Any = None
) -> Any:
    with on(AUDIT_DAY):
        return client.post(
            f"/api/v1/cases/{w.case.id}/audits",
            json={"tool_id": str(w.tool.id), "auditor_id": str(auditor_id or w.cast.auditor.id)},
            headers=auth_headers(db, by or w.cast.auditor),
        )


def test_a_qa_auditor_audits_a_child_protection_case_saving_as_she_goes_and_submits(
    client: TestClient, db: Session
) -> None:
    cast = make_audit_cast(db)
    tool = make_tool(db, cast)
    case = cp_case(client, db, cast, on_day=OPENED)
    assert case.state == "cp_plan"
    headers = cast.headers(db)

    with on(AUDIT_DAY):
        made = client.post(
            f"/api/v1/cases/{case.id}/audits",
            json={"tool_id": str(tool.id), "auditor_id": str(cast.auditor.id)},
            headers=headers,
        )
    assert made.status_code == 201, made.text
    audit = made.json()
    assert made.headers["Location"] == f"/api/v1/case-audits/{audit['id']}"
    assert (audit["state"], audit["auditor_id"], audit["team_id"]) == (
        "assigned",
        str(cast.auditor.id),
        str(cast.team.id),
    )
    assert audit["programme_id"] is None
    assert audit["answers"] == []
    etag = made.headers["ETag"]

    # A first sitting: the child's theme read and the child's voice recorded.
    with on(AUDIT_DAY):
        saved = client.put(
            f"/api/v1/case-audits/{audit['id']}",
            json={
                "answers": [
                    {"question_code": "V1", "grade": "good", "comment": "Seen alone twice."},
                    {"question_code": "v2", "grade": "requires_improvement", "comment": None},
                ],
                "child_voice": "Says she likes her new school; worries about mum.",
            },
            headers={**headers, "If-Match": etag},
        )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert [(a["question_code"], a["grade"]) for a in body["answers"]] == [
        ("V1", "good"),
        ("V2", "requires_improvement"),
    ]
    assert body["overall_grade"] is None
    assert body["state"] == "assigned"
    assert saved.headers["ETag"] != etag

    # Submitting too early names everything still missing, and changes nothing.
    with on(AUDIT_DAY):
        early = client.post(
            f"/api/v1/case-audits/{audit['id']}/submit",
            headers={**headers, "If-Match": saved.headers["ETag"]},
        )
    assert early.status_code == 422, early.text
    assert [e["field"] for e in early.json()["errors"]] == [
        "answers.A1",
        "answers.A2",
        "overall_grade",
    ]

    # The second sitting: a question regraded, the rest answered by id, the overall grade.
    questions = {
        q["code"]: q["id"]
        for q in client.get(f"/api/v1/audit-tools/{tool.id}", headers=headers).json()["questions"]
    }
    with on(AUDIT_DAY):
        finished = client.put(
            f"/api/v1/case-audits/{audit['id']}",
            json={
                "answers": [
                    {"question_code": "V2", "grade": "good", "comment": "Wishes in the plan."},
                    {"question_id": questions["A1"], "grade": "good"},
                    {"question_id": questions["A2"], "grade": "inadequate", "comment": "No GP."},
                ],
                "overall_grade": "good",
                "summary": "A plan that the child's voice shapes; health input missing.",
            },
            headers={**headers, "If-Match": saved.headers["ETag"]},
        )
        assert finished.status_code == 200, finished.text
        assert finished.json()["child_voice"].startswith("Says she likes")  # left as it was
        submitted = client.post(
            f"/api/v1/case-audits/{audit['id']}/submit",
            headers={**headers, "If-Match": finished.headers["ETag"]},
        )
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert (result["state"], result["overall_grade"], result["final_grade"]) == (
        "submitted",
        "good",
        "good",
    )
    assert result["submitted_at"].startswith(AUDIT_DAY.isoformat())
    assert [(a["question_code"], a["grade"]) for a in result["answers"]] == [
        ("V1", "good"),
        ("V2", "good"),
        ("A1", "good"),
        ("A2", "inadequate"),
    ]

    # Fixed now: moderation is the way to change a grade.
    with on(AUDIT_DAY):
        late = client.put(
            f"/api/v1/case-audits/{audit['id']}",
            json={"overall_grade": "outstanding"},
            headers={**headers, "If-Match": submitted.headers["ETag"]},
        )
    assert late.status_code == 409, late.text
    assert "moderation is the way to change a grade" in late.json()["detail"]
    db.expire_all()
    stored = db.get(CaseAudit, uuid.UUID(audit["id"]))
    assert stored is not None
    assert stored.overall_grade == "good"

    # The chronology tells it; each save is in the change log.
    assert _audit_events(db, case) == [
        "case_audit_planned",
        "case_audit_assigned",
        "case_audit_submitted",
    ]
    saves = db.scalar(
        select(func.count())
        .select_from(ChangeLog)
        .where(ChangeLog.entity_id == stored.id, ChangeLog.action == "case_audit_saved")
    )
    assert saves == 2
    chronology = client.get(
        f"/api/v1/children/{cast.child.id}/chronology", headers=auth_headers(db, cast.social_worker)
    )
    assert chronology.status_code == 200, chronology.text
    labels = [e["label"] for e in chronology.json()["items"]]
    assert "Case file audit submitted" in labels

    # The case's worker reads the audit (learning goes back to her); the read is logged.
    worker = auth_headers(db, cast.social_worker)
    seen = client.get(f"/api/v1/case-audits/{audit['id']}", headers=worker)
    assert seen.status_code == 200
    assert seen.json()["final_grade"] == "good"
    listed = client.get(f"/api/v1/cases/{case.id}/audits", headers=worker)
    assert [a["id"] for a in listed.json()] == [audit["id"]]
    logged = db.scalars(
        select(AccessLog.resource).where(
            AccessLog.user_id == cast.social_worker.id, AccessLog.person_id == cast.child.id
        )
    ).all()
    assert logged.count("case_audit") >= 2


def test_the_cases_worker_and_its_team_manager_may_not_audit_it_and_nothing_is_written(
    client: TestClient, db: Session, world: World
) -> None:
    before = (_count(db, CaseAudit), _count(db, CaseEvent))
    for who in (world.cast.social_worker, world.cast.manager):
        refused = _ad_hoc(client, db, world, auditor_id=who.id)
        if who is world.cast.social_worker:
            # A social worker does not audit at all: 422 on the field, before independence.
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == "auditor_id"
        else:
            assert refused.status_code == 403, refused.text
            assert "manages the team that holds the case" in refused.json()["detail"]
    # The team manager cannot audit her own team's case even when she plans it herself.
    own = _ad_hoc(client, db, world, auditor_id=world.cast.manager.id, by=world.cast.manager)
    assert own.status_code == 403, own.text
    db.expire_all()
    assert (_count(db, CaseAudit), _count(db, CaseEvent)) == before


def test_anyone_who_has_held_the_case_may_not_audit_it(
    client: TestClient, db: Session, world: World
) -> None:
    """A team manager who was once the case's allocated worker stays too close to audit it."""
    cast = world.cast
    former = make_user(db, Role.team_manager, team=cast.team)
    with on(date(2026, 4, 1)):
        case_service.case_allocate(
            db,
            actor=principal(db, cast.manager),
            case_id=world.case.id,
            team_id=cast.team.id,
            worker_id=former.id,
            expected_version=world.case.version,
        )
    with on(date(2026, 5, 1)):
        case = db.get(Case, world.case.id)
        assert case is not None
        case_service.case_allocate(
            db,
            actor=principal(db, cast.manager),
            case_id=world.case.id,
            team_id=cast.team.id,
            worker_id=cast.social_worker.id,
            expected_version=case.version,
        )
    db.commit()
    refused = _ad_hoc(client, db, world, auditor_id=former.id)
    assert refused.status_code == 403, refused.text
    assert "has been the case's allocated worker" in refused.json()["detail"]
    # Another team's manager, who never touched the case, may.
    allowed = _ad_hoc(client, db, world, auditor_id=cast.other_manager.id)
    assert allowed.status_code == 201, allowed.text


def test_assigning_a_planned_audit_checks_the_auditor_and_the_version(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    audit = planned_audit(db, cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    headers = auth_headers(db, cast.service_manager)
    url = f"/api/v1/case-audits/{audit.id}/assign"
    with on(AUDIT_DAY):
        worker = client.post(
            url, json={"auditor_id": str(cast.manager.id)}, headers=if_match(headers, 1)
        )
        data_officer = make_user(db, Role.data_officer)
        db.commit()
        wrong_role = client.post(
            url, json={"auditor_id": str(data_officer.id)}, headers=if_match(headers, 1)
        )
        stale = client.post(
            url, json={"auditor_id": str(cast.auditor.id)}, headers=if_match(headers, 7)
        )
        missing = client.post(url, json={}, headers=if_match(headers, 1))
    assert worker.status_code == 403, worker.text
    assert wrong_role.status_code == 422, wrong_role.text
    assert wrong_role.json()["errors"][0]["field"] == "auditor_id"
    assert stale.status_code == 412, stale.text
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "auditor_id"
    db.expire_all()
    assert db.get(CaseAudit, audit.id).state == "planned"  # type: ignore[union-attr]
    assert _audit_events(db, world.case) == ["case_audit_planned"]

    with on(AUDIT_DAY):
        assigned = client.post(
            url, json={"auditor_id": str(cast.auditor.id)}, headers=if_match(headers, 1)
        )
        assert assigned.status_code == 200, assigned.text
        again = client.post(
            url,
            json={"auditor_id": str(cast.moderator.id)},
            headers=if_match(headers, assigned.json()["version"]),
        )
    assert again.status_code == 200, again.text
    assert again.json()["auditor_id"] == str(cast.moderator.id)
    assert _audit_events(db, world.case) == [
        "case_audit_planned",
        "case_audit_assigned",
        "case_audit_reassigned",
    ]
    mine = client.get(
        "/api/v1/case-audits?auditor=me&state=assigned", headers=auth_headers(db, cast.moderator)
    )
    assert [a["id"] for a in mine.json()] == [str(audit.id)]
    none = client.get(
        "/api/v1/case-audits?auditor=me&state=assigned", headers=auth_headers(db, cast.auditor)
    )
    assert none.json() == []
    bad = client.get("/api/v1/case-audits?state=lost", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "state"


def test_only_the_assigned_auditor_records_findings_or_submits(
    client: TestClient, db: Session, world: World
) -> None:
    audit = assigned_audit(db, world.cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    other = auth_headers(db, world.cast.moderator)
    with on(AUDIT_DAY):
        saved = client.put(
            f"/api/v1/case-audits/{audit.id}",
            json=complete_findings(),
            headers=if_match(other, audit.version),
        )
        submitted = client.post(
            f"/api/v1/case-audits/{audit.id}/submit", headers=if_match(other, audit.version)
        )
    assert saved.status_code == 403, saved.text
    assert submitted.status_code == 403, submitted.text
    db.expire_all()
    assert _count(db, CaseAuditAnswer) == 0
    assert db.get(CaseAudit, audit.id).state == "assigned"  # type: ignore[union-attr]


def test_a_grade_or_a_question_outside_the_tool_is_refused_and_nothing_is_saved(
    client: TestClient, db: Session, world: World
) -> None:
    audit = assigned_audit(db, world.cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    headers = if_match(world.cast.headers(db), audit.version)
    url = f"/api/v1/case-audits/{audit.id}"
    with on(AUDIT_DAY):
        grade = client.put(
            url, json={"answers": [{"question_code": "V1", "grade": "excellent"}]}, headers=headers
        )
        overall = client.put(url, json={"overall_grade": "satisfactory"}, headers=headers)
        question = client.put(
            url,
            json={
                "answers": [
                    {"question_code": "V1", "grade": "good"},
                    {"question_code": "Z9", "grade": "good"},
                    {"question_id": str(world.case.id), "grade": "good"},
                ]
            },
            headers=headers,
        )
        twice = client.put(
            url,
            json={
                "answers": [
                    {"question_code": "V1", "grade": "good"},
                    {"question_code": "V1", "grade": "inadequate"},
                ]
            },
            headers=headers,
        )
        neither = client.put(url, json={"answers": [{"grade": "good"}]}, headers=headers)
        unknown = client.put(url, json={"grades": {}}, headers=headers)
    assert grade.status_code == 422
    assert grade.json()["errors"][0]["field"] == "answers.0.grade"
    assert overall.status_code == 422
    assert overall.json()["errors"][0]["field"] == "overall_grade"
    assert question.status_code == 422, question.text
    assert [e["field"] for e in question.json()["errors"]] == [
        "answers.1.question_code",
        "answers.2.question_id",
    ]
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["field"] == "answers.1.question_code"
    assert neither.status_code == 422
    assert neither.json()["errors"][0]["field"] == "answers.0"
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "grades"
    db.expire_all()
    assert _count(db, CaseAuditAnswer) == 0
    assert db.get(CaseAudit, audit.id).version == audit.version  # type: ignore[union-attr]


def test_two_auditors_saving_at_once_the_second_is_told_to_reload(
    client: TestClient, db: Session, world: World
) -> None:
    audit = assigned_audit(db, world.cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    headers = world.cast.headers(db)
    url = f"/api/v1/case-audits/{audit.id}"
    with on(AUDIT_DAY):
        first = client.put(
            url, json={"answers": full_answers()[:1]}, headers=if_match(headers, audit.version)
        )
        second = client.put(
            url,
            json={"answers": full_answers("inadequate")},
            headers=if_match(headers, audit.version),
        )
        submit_stale = client.post(f"{url}/submit", headers=if_match(headers, audit.version))
        no_etag = client.put(url, json={"summary": "x"}, headers=headers)
    assert first.status_code == 200, first.text
    assert second.status_code == 412, second.text
    assert submit_stale.status_code == 412, submit_stale.text
    assert no_etag.status_code == 428, no_etag.text
    db.expire_all()
    grades = db.scalars(select(CaseAuditAnswer.grade).where(CaseAuditAnswer.audit_id == audit.id))
    assert list(grades) == ["good"]


def test_an_audit_is_cancelled_with_a_reason_but_not_once_submitted(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    planned = planned_audit(db, cast, world.case, world.tool, day=AUDIT_DAY)
    done = assigned_audit(db, cast, world.case, world.tool, day=AUDIT_DAY)
    db.commit()
    headers = cast.headers(db)
    with on(AUDIT_DAY):
        unreasoned = client.post(
            f"/api/v1/case-audits/{planned.id}/cancel",
            json={"reason": "  "},
            headers=if_match(headers, planned.version),
        )
        by_manager = client.post(
            f"/api/v1/case-audits/{planned.id}/cancel",
            json={"reason": "Not needed."},
            headers=if_match(auth_headers(db, cast.manager), planned.version),
        )
        cancelled = client.post(
            f"/api/v1/case-audits/{planned.id}/cancel",
            json={"reason": "The sample was redrawn."},
            headers=if_match(headers, planned.version),
        )
        client.put(
            f"/api/v1/case-audits/{done.id}",
            json=complete_findings(),
            headers=if_match(headers, done.version),
        )
        submitted = client.post(
            f"/api/v1/case-audits/{done.id}/submit", headers=if_match(headers, done.version + 1)
        )
        assert submitted.status_code == 200, submitted.text
        too_late = client.post(
            f"/api/v1/case-audits/{done.id}/cancel",
            json={"reason": "Changed our minds."},
            headers=if_match(headers, submitted.json()["version"]),
        )
    assert unreasoned.status_code == 422
    assert unreasoned.json()["errors"][0]["field"] == "reason"
    assert by_manager.status_code == 403, by_manager.text
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "The sample was redrawn.",
    )
    assert too_late.status_code == 409, too_late.text
    assert too_late.json()["current_state"] == "submitted"
    db.expire_all()
    assert db.get(CaseAudit, done.id).state == "submitted"  # type: ignore[union-attr]


def test_an_audit_of_a_child_the_caller_may_not_see_is_not_found(
    client: TestClient, db: Session, world: World
) -> None:
    cast = world.cast
    audit = assigned_audit(db, cast, world.case, world.tool, day=AUDIT_DAY)
    # The child's record is restricted: the auditor is not named on it.
    child = db.get(Person, cast.child.id)
    assert child is not None
    child.is_restricted = True
    db.commit()
    headers = cast.headers(db)
    for url in (f"/api/v1/case-audits/{audit.id}", f"/api/v1/cases/{world.case.id}/audits"):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get("/api/v1/case-audits?auditor=me", headers=headers).json() == []
    with on(AUDIT_DAY):
        made = _ad_hoc(client, db, world)
        saved = client.put(
            f"/api/v1/case-audits/{audit.id}",
            json={"summary": "x"},
            headers=if_match(headers, audit.version),
        )
    assert made.status_code == 404, made.text
    assert saved.status_code == 404, saved.text
    db.expire_all()
    assert _count(db, CaseAudit) == 1
    assert db.get(CaseAudit, audit.id).summary is None  # type: ignore[union-attr]
