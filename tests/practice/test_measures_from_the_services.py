"""The scorecard counts what the services record: a manager's oversight on the file, supervision
sessions, and a case file audit moderated and acted on — nothing typed into the measures."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.audits import default_tool
from app.audits import service as audit_service
from app.audits.schemas import AnswerIn
from app.cases import service as case_service
from app.models import Case, Role, Team, TeamKind, UserAccount
from app.models.audits import AuditGrade, ModerationOutcome
from app.supervision import service as supervision_service
from tests.care.factories import noon, principal
from tests.factories import auth_headers, make_child, make_team, make_user

TODAY = date(2026, 6, 15)


def _referred(
    db: Session, team: Team, manager: UserAccount, worker: UserAccount, on: date, name: str
) -> Case:
    """A contact accepted as a referral on ``on``: its oversight clock starts (rule 37)."""
    actor = principal(db, manager)
    with clock.frozen_at(noon(on)):
        case = case_service.case_open(
            db,
            actor=actor,
            child_id=make_child(db, first_name=name).id,
            team_id=team.id,
            opened_date=on,
            worker_id=worker.id,
        )
        return case_service.case_transition(
            db, actor=actor, case_id=case.id, event="accept_referral", expected_version=case.version
        )


def _figure(measure: Any) -> tuple[int, int, float | None]:
    return measure["numerator"], measure["denominator"], measure["percent"]


def test_oversight_supervision_and_an_audit_recorded_through_the_services(
    client: TestClient, db: Session
) -> None:
    north = make_team(db, name="North", kind=TeamKind.cin_cp)
    south = make_team(db, name="South", kind=TeamKind.cin_cp)
    manager = make_user(db, Role.team_manager, team=north, manager=True)
    other_manager = make_user(db, Role.team_manager, team=south, manager=True)
    ann = make_user(db, Role.social_worker, team=north)
    bea = make_user(db, Role.social_worker, team=north)
    qa = make_user(db, Role.qa_auditor)
    boss = principal(db, manager)

    # Oversight (rule 37, every 6 weeks). Ann's case: referred 2 March, due 13 April, looked at
    # on 10 April (met); next due 22 May, looked at on 28 May (missed). Bea's case: referred
    # 1 April, due 13 May, never looked at (overdue).
    annie = _referred(db, north, manager, ann, date(2026, 3, 2), "Annie")
    _referred(db, north, manager, bea, date(2026, 4, 1), "Bobby")
    for on in (date(2026, 4, 10), date(2026, 5, 28)):
        with clock.frozen_at(noon(on)):
            supervision_service.oversight_record(
                db, actor=boss, case_id=annie.id, decision="Plan on track.", recorded_on=on
            )
    # Supervision (rule 36, monthly). Ann: 20 April, then 19 May (met the 20 May clock). Bea:
    # 6 April, then nothing (the 6 May clock is overdue).
    for worker, on in ((ann, date(2026, 4, 20)), (ann, date(2026, 5, 19)), (bea, date(2026, 4, 6))):
        with clock.frozen_at(noon(on)):
            supervision_service.supervision_record(db, actor=boss, worker_id=worker.id, held_on=on)

    # A case file audit of Annie's file: graded good, moderated down to requires improvement by
    # South's manager; two actions, one done late and one not done by its date.
    auditor = principal(db, qa)
    with clock.frozen_at(noon(date(2026, 5, 4))):
        tool = audit_service.audit_tool_create(
            db,
            actor=auditor,
            name=default_tool.NAME,
            description=default_tool.DESCRIPTION,
            questions=default_tool.QUESTIONS,
        )
        audit = audit_service.audit_ad_hoc(
            db, actor=auditor, case_id=annie.id, tool_id=tool.id, auditor_id=qa.id
        )
        audit = audit_service.audit_save(
            db,
            actor=auditor,
            audit_id=audit.id,
            expected_version=audit.version,
            answers=[
                AnswerIn(question_code=q.code, grade=AuditGrade.good)
                for q in default_tool.QUESTIONS
            ],
            findings={"overall_grade": AuditGrade.good, "child_voice": "Seen alone, views noted."},
        )
    with clock.frozen_at(noon(date(2026, 5, 6))):
        audit = audit_service.audit_submit(
            db, actor=auditor, audit_id=audit.id, expected_version=audit.version
        )
    with clock.frozen_at(noon(date(2026, 5, 8))):
        audit = audit_service.audit_moderate(
            db,
            actor=principal(db, other_manager),
            audit_id=audit.id,
            expected_version=audit.version,
            outcome=ModerationOutcome.adjusted,
            moderated_grade=AuditGrade.requires_improvement,
            reason="The plan's actions have drifted since the last review.",
        )
        late = audit_service.audit_action_create(
            db,
            actor=auditor,
            audit_id=audit.id,
            description="Update the chronology.",
            owner_id=ann.id,
            due_date=date(2026, 5, 20),
        )
        audit_service.audit_action_create(
            db,
            actor=auditor,
            audit_id=audit.id,
            description="Review the plan with the family.",
            owner_id=ann.id,
            due_date=date(2026, 6, 5),
        )
    with clock.frozen_at(noon(date(2026, 5, 25))):
        audit_service.audit_action_complete(
            db,
            actor=principal(db, ann),
            action_id=late.id,
            expected_version=late.version,
            completion_note="Chronology brought up to date.",
        )
    db.commit()

    with clock.frozen_at(noon(TODAY)):
        response = client.get(
            "/api/v1/practice/measures",
            params={"month": "2026-05", "team_id": str(north.id)},
            headers=auth_headers(db, manager),
        )
    assert response.status_code == 200, response.text
    (team,) = response.json()["teams"]
    m = team["measures"]
    # May's oversight: Annie's 22 May clock missed, Bobby's 13 May clock overdue: 0 of 2. April:
    # Annie's 13 April clock met: 1 of 1.
    assert _figure(m["management_oversight"]) == (0, 2, 0.0)
    april = m["management_oversight"]["trend"][-2]
    assert (april["month"], april["numerator"], april["denominator"]) == ("2026-04", 1, 1)
    # Today Annie's next oversight is due 9 July; Bobby's is overdue.
    assert _figure(m["oversight_today"]) == (1, 2, 50.0)
    # May's supervision: Ann's 20 May clock met on 19 May; Bea's 6 May clock overdue.
    assert _figure(m["supervision"]) == (1, 2, 50.0)
    # The audit's grade that counts is the moderator's.
    grades = {g["grade"]: g["count"] for g in m["audit_grades_month"]["grades"]}
    assert grades["requires_improvement"] == 1
    assert grades["good"] == 0
    assert _figure(m["audits_good_or_better"]) == (0, 1, 0.0)
    # Actions: one completed in May after its date; one open and past its date today.
    assert _figure(m["actions_completed_late"]) == (1, 1, 100.0)
    assert _figure(m["actions_overdue"]) == (1, 1, 100.0)
