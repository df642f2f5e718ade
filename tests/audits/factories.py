"""Creator functions for case file audit stories: a cast (a CP team with its manager and worker,
another team's manager, two QA auditors), a tool of 2 themes of 2 questions, a case with its worker
and manager (referred, or on a child protection plan through the real API), and an audit
planned or assigned through the services.

Shared by the audits helpers' tests (tools, case audits, moderation, actions, programmes and
findings)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.audits import service as audit_service
from app.audits.schemas import QuestionIn
from app.cases import service as case_service
from app.models import Case, Person, Role, Team, TeamKind, UserAccount
from app.models.audits import AuditTool, CaseAudit
from app.security.authn import principal_for_user
from app.security.principal import AuthMethod, Principal
from tests.factories import auth_headers, make_child, make_team, make_user

#: The tool every story uses: two themes of two questions each (codes V1, V2, A1, A2).
TOOL_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("Child's lived experience and voice", "V1", "Is the child seen, and seen alone?"),
    (
        "Child's lived experience and voice",
        "V2",
        "Do the child's wishes and feelings shape the plan?",
    ),
    ("Assessment and analysis", "A1", "Is the assessment current and analytical?"),
    ("Assessment and analysis", "A2", "Does the assessment draw on every agency's information?"),
)
CODES = tuple(code for _, code, _ in TOOL_QUESTIONS)
_tools = itertools.count(1)


def noon(day: date) -> datetime:
    """Midday UTC on ``day``: freeze the clock here to act on that date."""
    return datetime.combine(day, time(12), tzinfo=UTC)


@contextmanager
def on(day: date) -> Iterator[None]:
    """Act on ``day`` (midday UTC)."""
    with clock.frozen_at(noon(day)):
        yield


def principal(db: Session, user: UserAccount) -> Principal:
    return principal_for_user(db, user, auth=AuthMethod.token)


@dataclass
class AuditCast:
    """A CIN/CP team (its manager and social worker) holding the child's case; another team and
    its manager (who may audit this team's cases); two QA auditors (an auditor and a moderator);
    a service manager; and the child."""

    team: Team
    other_team: Team
    manager: UserAccount
    social_worker: UserAccount
    other_manager: UserAccount
    other_social_worker: UserAccount
    auditor: UserAccount
    moderator: UserAccount
    service_manager: UserAccount
    child: Person

    def headers(self, db: Session, user: UserAccount | None = None) -> dict[str, str]:
        """Bearer headers of ``user`` (the auditor by default)."""
        return auth_headers(db, user or self.auditor)


def make_audit_cast(db: Session) -> AuditCast:
    team = make_team(db, kind=TeamKind.cin_cp)
    other = make_team(db, kind=TeamKind.cin_cp)
    qa = make_team(db, kind=TeamKind.assessment, name=None)
    return AuditCast(
        team=team,
        other_team=other,
        manager=make_user(db, Role.team_manager, team=team, manager=True),
        social_worker=make_user(db, Role.social_worker, team=team),
        other_manager=make_user(db, Role.team_manager, team=other, manager=True),
        other_social_worker=make_user(db, Role.social_worker, team=other),
        auditor=make_user(db, Role.qa_auditor, team=qa),
        moderator=make_user(db, Role.qa_auditor, team=qa),
        service_manager=make_user(db, Role.service_manager),
        child=make_child(db),
    )


def tool_questions(
    questions: tuple[tuple[str, str, str], ...] = TOOL_QUESTIONS,
) -> list[QuestionIn]:
    return [QuestionIn(theme=theme, code=code, text=text) for theme, code, text in questions]


def tool_body(name: str = "Practice audit tool", **overrides: Any) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/audit-tools`` for the two-by-two tool."""
    return {
        "name": name,
        "description": "The council's monthly case file audit.",
        "questions": [
            {"theme": theme, "code": code, "text": text} for theme, code, text in TOOL_QUESTIONS
        ],
        **overrides,
    }


def make_tool(db: Session, cast: AuditCast, *, name: str | None = None) -> AuditTool:
    """The 2 themes of 2 questions tool, created by the auditor."""
    return audit_service.audit_tool_create(
        db,
        actor=principal(db, cast.auditor),
        name=name or f"Practice audit tool {next(_tools)}",
        description="The council's monthly case file audit.",
        questions=tool_questions(),
    )


def referred_case(
    db: Session, cast: AuditCast, *, opened: date, child: Person | None = None
) -> Case:
    """A contact about the child, accepted as a referral the same day, allocated to the team's
    social worker (the case in ``referral``)."""
    actor = principal(db, cast.manager)
    with on(opened):
        case = case_service.case_open(
            db,
            actor=actor,
            child_id=(child or cast.child).id,
            team_id=cast.team.id,
            opened_date=opened,
            worker_id=cast.social_worker.id,
        )
        return case_service.case_transition(
            db, actor=actor, case_id=case.id, event="accept_referral", expected_version=case.version
        )


def cp_case(client: TestClient, db: Session, cast: AuditCast, *, on_day: date) -> Case:
    """A case brought to a child protection plan through the API on ``on_day``: strategy
    discussion, section 47 enquiry, initial conference deciding a plan (neglect)."""
    from tests.protection.factories import conclude, discuss, icpc, start_s47

    case = referred_case(db, cast, opened=on_day)
    headers = auth_headers(db, cast.social_worker)
    with on(on_day):
        discussion = discuss(client, headers, case.id, held=on_day)
        assert discussion.status_code == 201, discussion.json()
        s47 = start_s47(client, headers, case.id, discussion.json()["id"], on_day)
        assert s47.status_code == 201, s47.json()
        concluded = conclude(client, headers, s47.json(), on=on_day)
        assert concluded.status_code == 200, concluded.json()
        held = icpc(client, headers, s47.json()["id"], on=on_day)
        assert held.status_code == 201, held.json()
    db.expire_all()
    refreshed = db.get(Case, case.id)
    assert refreshed is not None
    return refreshed


def planned_audit(
    db: Session,
    cast: AuditCast,
    case: Case,
    tool: AuditTool,
    *,
    day: date,
    by: UserAccount | None = None,
) -> CaseAudit:
    """An audit of ``case`` planned (not yet assigned) by the auditor, or ``by``."""
    with on(day):
        return audit_service.audit_plan(
            db,
            actor=principal(db, by or cast.auditor),
            case=case,
            tool_id=tool.id,
            programme_id=None,
        )


def assigned_audit(
    db: Session,
    cast: AuditCast,
    case: Case,
    tool: AuditTool,
    *,
    day: date,
    auditor: UserAccount | None = None,
) -> CaseAudit:
    """An audit of ``case`` planned and assigned to the cast's auditor (or ``auditor``)."""
    audit = planned_audit(db, cast, case, tool, day=day)
    with on(day):
        return audit_service.audit_assign(
            db,
            actor=principal(db, cast.auditor),
            audit_id=audit.id,
            auditor_id=(auditor or cast.auditor).id,
            expected_version=audit.version,
        )


def full_answers(grade: str = "good") -> list[dict[str, Any]]:
    """A grade and comment for every question of the two-by-two tool."""
    return [
        {"question_code": code, "grade": grade, "comment": f"{code}: evidence seen on file."}
        for code in CODES
    ]


def complete_findings(grade: str = "good") -> dict[str, Any]:
    """The ``PUT /api/v1/case-audits/{id}`` body that makes an audit ready to submit."""
    return {
        "answers": full_answers(grade),
        "overall_grade": grade,
        "child_voice": "Seen alone at school; says she feels safer since dad left.",
        "family_voice": "Mother values the family support worker.",
        "summary": "Plan is progressing; the child's voice shapes it.",
    }


def if_match(headers: dict[str, str], version: int | str) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}
