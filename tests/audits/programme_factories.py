"""Creator functions for audit programme and findings stories: many cases in two teams (each held
by its own worker and manager), and audits taken through the real services to a grade."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audits import service as audit_service
from app.audits.schemas import AnswerIn
from app.cases import service as case_service
from app.models import Case, UserAccount
from app.models.audits import AuditGrade, AuditTool, CaseAudit, ModerationOutcome
from app.models.org import Team
from tests.audits.factories import CODES, AuditCast, assigned_audit, on, principal
from tests.factories import make_child

#: The month most stories audit, and a day in the month after it (when the audits are drawn).
MONTH = date(2026, 5, 1)
DRAWN_ON = date(2026, 6, 3)


def holders(cast: AuditCast, team: Team) -> tuple[UserAccount, UserAccount]:
    """The manager and the social worker of ``team`` (the cast's team or its other team)."""
    if team.id == cast.team.id:
        return cast.manager, cast.social_worker
    assert team.id == cast.other_team.id
    return cast.other_manager, cast.other_social_worker


def open_case(
    db: Session,
    cast: AuditCast,
    *,
    team: Team,
    opened: date,
    first_name: str = "Ava",
    accept: bool = True,
) -> Case:
    """A new child's case opened on ``opened`` by ``team``'s manager and allocated to its worker,
    accepted as a referral that day (or left a contact when ``accept`` is False)."""
    manager, worker = holders(cast, team)
    child = make_child(db, first_name=first_name)
    actor = principal(db, manager)
    with on(opened):
        case = case_service.case_open(
            db,
            actor=actor,
            child_id=child.id,
            team_id=team.id,
            opened_date=opened,
            worker_id=worker.id,
        )
        if not accept:
            return case
        return case_service.case_transition(
            db, actor=actor, case_id=case.id, event="accept_referral", expected_version=case.version
        )


def open_cases(
    db: Session, cast: AuditCast, *, team: Team, count: int, opened: date = date(2026, 1, 5)
) -> list[Case]:
    return [
        open_case(db, cast, team=team, opened=opened, first_name=f"Child{n}") for n in range(count)
    ]


def close_referral(db: Session, cast: AuditCast, case: Case, *, on_day: date) -> Case:
    """No further action on the referral: the case closes on ``on_day``."""
    manager, _ = holders(cast, db.get_one(Team, case.team_id))
    with on(on_day):
        return case_service.case_transition(
            db,
            actor=principal(db, manager),
            case_id=case.id,
            event="referral_nfa",
            expected_version=case.version,
            reason="Needs met by universal services.",
        )


def nfa_contact(db: Session, cast: AuditCast, case: Case, *, on_day: date) -> Case:
    """The contact is decided at the door with no further action: closed, never a referral."""
    manager, _ = holders(cast, db.get_one(Team, case.team_id))
    with on(on_day):
        return case_service.case_transition(
            db,
            actor=principal(db, manager),
            case_id=case.id,
            event="nfa_contact",
            expected_version=case.version,
            reason="Information and advice given.",
        )


def graded_audit(
    db: Session,
    cast: AuditCast,
    case: Case,
    tool: AuditTool,
    *,
    day: date,
    grade: AuditGrade,
    answers: dict[str, AuditGrade] | None = None,
    auditor: UserAccount | None = None,
) -> CaseAudit:
    """An audit of ``case`` assigned, answered (every question ``grade`` unless ``answers`` says
    otherwise) and submitted on ``day`` by the cast's auditor (or ``auditor``)."""
    who = auditor or cast.auditor
    audit = assigned_audit(db, cast, case, tool, day=day, auditor=who)
    actor = principal(db, who)
    graded = dict.fromkeys(CODES, grade) | (answers or {})
    with on(day):
        audit = audit_service.audit_save(
            db,
            actor=actor,
            audit_id=audit.id,
            expected_version=audit.version,
            answers=[AnswerIn(question_code=c, grade=g) for c, g in graded.items()],
            findings={
                "overall_grade": grade,
                "child_voice": "Seen alone; her wishes are recorded.",
                "summary": "As found on the file.",
            },
        )
        return audit_service.audit_submit(
            db, actor=actor, audit_id=audit.id, expected_version=audit.version
        )


def moderate(
    db: Session,
    cast: AuditCast,
    audit: CaseAudit,
    *,
    day: date,
    grade: AuditGrade | None = None,
) -> CaseAudit:
    """The cast's moderator agrees the audit's grade, or adjusts it to ``grade``."""
    with on(day):
        return audit_service.audit_moderate(
            db,
            actor=principal(db, cast.moderator),
            audit_id=audit.id,
            expected_version=audit.version,
            outcome=ModerationOutcome.adjusted if grade else ModerationOutcome.agreed,
            moderated_grade=grade,
            reason="The plan's drift is not reflected in the grade." if grade else None,
        )


def programme_body(tool: AuditTool, **overrides: Any) -> dict[str, Any]:
    """A random programme for May 2026, two cases per team, seed 42."""
    return {
        "name": "May 2026 monthly audit",
        "kind": "random",
        "tool_id": str(tool.id),
        "month": "2026-05",
        "seed": 42,
        "sample_size": 2,
        **overrides,
    }


def count(db: Session, model: type[Any]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def ids(items: list[dict[str, Any]], key: str = "case_id") -> list[uuid.UUID]:
    return [uuid.UUID(i[key]) for i in items]
