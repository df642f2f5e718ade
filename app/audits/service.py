"""Case file audits (issue 6, part 4; local QA framework, seed 3.2-3.3).

An **audit tool** is a set of questions in themes, each graded on Ofsted's four-point scale with a
comment. Once an audit has used a tool its questions are fixed (a changed tool is a new tool), so
findings over time compare like with like.

A **case audit** follows the ``case_audit`` machine (``app.audits.workflow``): planned, assigned to
an auditor, submitted, moderated. The auditor must be independent of the case: never anyone who
has been its allocated worker, nor a manager of the team that holds it (403, with the reason). Only
the assigned auditor records findings and submits; once submitted the audit is fixed (409) and a
second auditor moderates it, agreeing the grade or adjusting it with reasons. **Actions** arising
have an owner and a due date (timescales rule 38, a deadline on the case) and are tracked to
completion on the case's chronology.

Every step is written to the case's chronology (or, for tools, the change log) in the same
transaction; a step on a record someone changed since the caller read it is refused (412).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import access_log_append, case_event_append, change_log_append, diff
from app.audits.schemas import AnswerIn, AuditActionStatus, QuestionIn
from app.audits.workflow import (
    ASSIGN_EVENT,
    ASSIGNED,
    AUDITORS,
    CANCEL_EVENT,
    CASE_AUDIT_MACHINE,
    MODERATE_EVENT,
    MODERATED,
    PLANNED,
    PLANNED_ACTION,
    REASSIGN_EVENT,
    SUBMIT_EVENT,
    SUBMITTED,
)
from app.cases import service as case_service
from app.deadlines.practice_rules import AUDIT_ACTION
from app.deadlines.service import deadline_meet, deadline_open
from app.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound, PreconditionFailed
from app.models.audits import (
    AuditAction,
    AuditGrade,
    AuditQuestion,
    AuditTool,
    CaseAudit,
    CaseAuditAnswer,
    ModerationOutcome,
)
from app.models.cases import Allocation, Case
from app.models.deadlines import DeadlineKind
from app.models.org import Role, TeamMembership, UserAccount
from app.models.people import Person
from app.security.access import get_person_for_read, person_denied, person_visible
from app.security.policy import PRACTITIONERS
from app.security.principal import Principal
from app.workflow import engine

TOOL_NOT_FOUND = "There is no audit tool with this id."
AUDIT_NOT_VISIBLE = "There is no case file audit with this id that you can see."
ACTION_NOT_VISIBLE = "There is no audit action with this id that you can see."
AUDIT_SUBJECT = "case_audit"
ACTION_SUBJECT = "audit_action"
ACTION_SET = "audit_action_set"
ACTION_COMPLETED = "audit_action_completed"
SUBMITTED_IS_FIXED = (
    "This audit has been submitted, so its grades are fixed: moderation is the way to change a "
    "grade."
)
#: What an audit's owner may fill in while it is assigned (besides answers).
FINDINGS = ("overall_grade", "child_voice", "family_voice", "summary")
LIST_LIMIT = 500


def _bump_version(
    session: Session,
    model: type[AuditTool] | type[CaseAudit],
    record: AuditTool | CaseAudit,
    expected_version: int,
) -> None:
    """Move the record's version on from ``expected_version`` even when only its child rows
    (questions, answers) changed; the guarded UPDATE lets only one of two concurrent writers win
    (the other gets 412)."""
    bumped = session.execute(
        update(model)
        .where(model.id == record.id, model.version == expected_version)
        .values(version=expected_version + 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(
            "Someone changed this record since you loaded it. Reload it and try again."
        )
    session.expire(record, ["version", "updated_at"])


# --- audit tools -------------------------------------------------------------------------------


def _questions_invalid(questions: Sequence[QuestionIn]) -> None:
    """422 unless there is a question and every code is used once (codes name answers and
    columns of the findings export, so two questions cannot share one)."""
    if not questions:
        raise Invalid.field("questions", "A tool needs at least one question.")
    seen: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    for n, question in enumerate(questions):
        key = question.code.strip().upper()
        if key in seen:
            errors.append(
                {
                    "field": f"questions.{n}.code",
                    "message": f"Code {question.code!r} is already used by question {seen[key]}.",
                }
            )
        else:
            seen[key] = n
    if errors:
        raise Invalid("Each question needs a code of its own within the tool.", errors=errors)


def _name_taken(session: Session, name: str, *, other_than: uuid.UUID | None = None) -> None:
    query = select(AuditTool.id).where(AuditTool.name == name.strip())
    if other_than is not None:
        query = query.where(AuditTool.id != other_than)
    if session.scalar(query) is not None:
        raise Conflict(
            f"There is already an audit tool called {name.strip()!r}: choose another name.",
            code="audit_tool_name_taken",
        )


def _add_questions(session: Session, tool: AuditTool, questions: Sequence[QuestionIn]) -> None:
    for position, question in enumerate(questions, start=1):
        session.add(
            AuditQuestion(
                id=uuid.uuid4(),
                tool_id=tool.id,
                theme=question.theme.strip(),
                code=question.code.strip(),
                text=question.text.strip(),
                position=position,
            )
        )


def _question_summary(questions: Sequence[QuestionIn]) -> list[dict[str, str]]:
    return [{"theme": q.theme, "code": q.code, "text": q.text} for q in questions]


def audit_tool_create(
    session: Session,
    *,
    actor: Principal,
    name: str,
    description: str | None,
    questions: Sequence[QuestionIn],
) -> AuditTool:
    """A new audit tool: its themes and questions in the order given (codes unique within the
    tool; at least one question). The name is unique among tools (409)."""
    _questions_invalid(questions)
    _name_taken(session, name)
    tool = AuditTool(
        id=uuid.uuid4(),
        name=name.strip(),
        description=description,
        created_by_id=actor.user_id,
    )
    session.add(tool)
    session.flush()
    _add_questions(session, tool, questions)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="audit_tool",
        entity_id=tool.id,
        action="audit_tool_created",
        changes={
            "name": tool.name,
            "description": description,
            "questions": _question_summary(questions),
        },
    )
    return tool


def audit_tool_get(session: Session, *, tool_id: uuid.UUID) -> AuditTool:
    tool = session.get(AuditTool, tool_id)
    if tool is None:
        raise NotFound(TOOL_NOT_FOUND)
    return tool


def audit_tools_list(session: Session, *, active: bool | None = None) -> list[AuditTool]:
    """The tools by name; ``active`` narrows to those in use for new audits (or retired)."""
    query = select(AuditTool).order_by(AuditTool.name, AuditTool.id)
    if active is not None:
        query = query.where(AuditTool.is_active.is_(active))
    return list(session.scalars(query))


def tool_questions(session: Session, *, tool_id: uuid.UUID) -> list[AuditQuestion]:
    """The tool's questions in order."""
    return list(
        session.scalars(
            select(AuditQuestion)
            .where(AuditQuestion.tool_id == tool_id)
            .order_by(AuditQuestion.position, AuditQuestion.id)
        )
    )


def tool_in_use(session: Session, *, tool_id: uuid.UUID) -> bool:
    """Whether any audit (even a cancelled one) has used the tool: its questions are then fixed."""
    return bool(session.scalar(select(exists().where(CaseAudit.tool_id == tool_id))))


def _require_tool_version(tool: AuditTool, expected_version: int) -> None:
    if tool.version != expected_version:
        raise PreconditionFailed(
            f"This audit tool is at version {tool.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )


def audit_tool_update(
    session: Session,
    *,
    actor: Principal,
    tool_id: uuid.UUID,
    expected_version: int,
    name: str,
    description: str | None,
    questions: Sequence[QuestionIn],
) -> AuditTool:
    """Replace a tool's name, description and questions — only while no audit has used it (409:
    a changed tool is a new tool, so findings compare like with like)."""
    tool = audit_tool_get(session, tool_id=tool_id)
    _require_tool_version(tool, expected_version)
    if tool_in_use(session, tool_id=tool.id):
        raise Conflict(
            "Audits have used this tool, so its questions are fixed: create a new tool (and "
            "retire this one) to change them.",
            code="audit_tool_in_use",
        )
    _questions_invalid(questions)
    _name_taken(session, name, other_than=tool.id)
    old = tool_questions(session, tool_id=tool.id)
    before: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "questions": [{"theme": q.theme, "code": q.code, "text": q.text} for q in old],
    }
    for question in old:
        session.delete(question)
    session.flush()
    _add_questions(session, tool, questions)
    tool.name = name.strip()
    tool.description = description
    session.flush()
    # The questions changed: the tool's version moves with them, whatever else did.
    if tool.version == expected_version:
        _bump_version(session, AuditTool, tool, expected_version)
    after = {
        "name": tool.name,
        "description": description,
        "questions": _question_summary(questions),
    }
    change_log_append(
        session,
        actor=actor,
        entity_type="audit_tool",
        entity_id=tool.id,
        action="audit_tool_revised",
        changes=diff(before, after),
    )
    return tool


def audit_tool_retire(
    session: Session, *, actor: Principal, tool_id: uuid.UUID, expected_version: int
) -> AuditTool:
    """Stop the tool being used for new audits (audits under way finish with it; 409 once
    retired)."""
    tool = audit_tool_get(session, tool_id=tool_id)
    _require_tool_version(tool, expected_version)
    if not tool.is_active:
        raise Conflict("This audit tool is already retired.", code="audit_tool_retired")
    tool.is_active = False
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="audit_tool",
        entity_id=tool.id,
        action="audit_tool_retired",
        changes={"is_active": {"before": True, "after": False}},
    )
    return tool


# --- who may audit -----------------------------------------------------------------------------


def auditor_conflict(session: Session, *, case: Case, user_id: uuid.UUID) -> str | None:
    """A sentence saying why this user may not audit (or moderate) this case, or None.

    An audit is an independent look at the file: not by anyone who has been the case's allocated
    worker at any time in its life (its ``Allocation`` rows), nor by a manager of the team that
    holds it (a team manager audits other teams' cases)."""
    if case.allocated_worker_id == user_id:
        return (
            "This person is the case's allocated worker: a case file audit is done by someone "
            "who has not worked on the case."
        )
    worked = session.scalar(
        select(exists().where(Allocation.case_id == case.id, Allocation.worker_id == user_id))
    )
    if worked:
        return (
            "This person has been the case's allocated worker: a case file audit is done by "
            "someone who has not worked on the case."
        )
    manages = session.scalar(
        select(
            exists().where(
                TeamMembership.team_id == case.team_id,
                TeamMembership.user_id == user_id,
                TeamMembership.is_manager.is_(True),
                or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= case.opened_date),
            )
        )
    )
    if manages:
        return (
            "This person manages the team that holds the case: a case file audit is done by "
            "someone independent of the case's management."
        )
    return None


def _check_auditor(session: Session, *, case: Case, user_id: uuid.UUID, field: str) -> UserAccount:
    """The user who is to audit the case: one who exists and is active and holds a role that may
    audit (422 on ``field``), and is independent of the case (403)."""
    user = session.get(UserAccount, user_id)
    if user is None or not user.is_active:
        raise Invalid.field(field, "There is no active user with this id.")
    if user.role not in AUDITORS:
        allowed = ", ".join(sorted(r.value for r in AUDITORS))
        raise Invalid.field(
            field,
            f"This user's role ({user.role.value}) may not audit case files; it needs one of: "
            f"{allowed}.",
        )
    refusal = auditor_conflict(session, case=case, user_id=user_id)
    if refusal is not None:
        raise Forbidden(refusal, code="auditor_not_independent")
    return user


# --- loading -----------------------------------------------------------------------------------


def _audit_for_change(session: Session, *, actor: Principal, audit_id: uuid.UUID) -> CaseAudit:
    """The audit about to change, if its child is visible to the caller (404 otherwise)."""
    audit = session.get(CaseAudit, audit_id)
    if audit is None:
        raise NotFound(AUDIT_NOT_VISIBLE)
    visible = session.scalar(
        select(Person.id).where(Person.id == audit.child_id, person_visible(actor))
    )
    if visible is None:
        raise person_denied(
            session, principal=actor, person_id=audit.child_id, resource=AUDIT_SUBJECT
        )
    return audit


def _case_of(session: Session, audit: CaseAudit) -> Case:
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    return case


def _require_event(audit: CaseAudit, event: str, actor: Principal) -> None:
    """409 (with the events possible) when ``event`` cannot be taken from the audit's state —
    checked before who may take it, as the engine does, so the answer names the real obstacle."""
    if CASE_AUDIT_MACHINE.transition(audit.state, event) is None:
        allowed = [
            t.event for t in engine.allowed_events(CASE_AUDIT_MACHINE, audit.state, actor.role)
        ]
        offer = ", ".join(allowed) if allowed else "none that you may take"
        raise IllegalTransition(
            f"'{event}' is not possible while the case audit is in '{audit.state}'; "
            f"from here: {offer}.",
            current_state=audit.state,
            allowed_events=allowed,
        )


def _require_auditor(audit: CaseAudit, actor: Principal) -> None:
    if audit.auditor_id != actor.user_id:
        raise Forbidden(
            "Only the auditor this audit is assigned to may record its findings or submit it.",
            code="not_the_auditor",
        )


def _apply(
    session: Session,
    *,
    actor: Principal,
    audit: CaseAudit,
    event: str,
    expected_version: int,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    engine.apply(
        session,
        machine=CASE_AUDIT_MACHINE,
        record=audit,
        event=event,
        actor=actor,
        expected_version=expected_version,
        case_id=audit.case_id,
        child_id=audit.child_id,
        reason=reason,
        data=data,
    )


# --- planning and assigning --------------------------------------------------------------------


def audit_plan(
    session: Session,
    *,
    actor: Principal,
    case: Case,
    tool_id: uuid.UUID,
    programme_id: uuid.UUID | None,
) -> CaseAudit:
    """Plan an audit of ``case`` with an active tool (422 on ``tool_id`` otherwise), in a
    programme or ad hoc. Its team is the case's team now: findings are counted by it."""
    if actor.role not in AUDITORS:
        raise Forbidden(f"Your role ({actor.role.value}) may not plan case file audits.")
    tool = session.get(AuditTool, tool_id)
    if tool is None:
        raise Invalid.field("tool_id", "There is no audit tool with this id.")
    if not tool.is_active:
        raise Invalid.field("tool_id", f"The audit tool {tool.name!r} is retired.")
    audit = CaseAudit(
        id=uuid.uuid4(),
        programme_id=programme_id,
        tool_id=tool.id,
        case_id=case.id,
        child_id=case.child_id,
        team_id=case.team_id,
    )
    session.add(audit)
    engine.start(
        session,
        machine=CASE_AUDIT_MACHINE,
        record=audit,
        actor=actor,
        case_id=case.id,
        child_id=case.child_id,
        action=PLANNED_ACTION,
        data={"tool_id": tool.id, "programme_id": programme_id},
    )
    return audit


def audit_assign(
    session: Session,
    *,
    actor: Principal,
    audit_id: uuid.UUID,
    auditor_id: uuid.UUID,
    expected_version: int,
) -> CaseAudit:
    """Give a planned audit to an auditor (or an assigned one, not yet submitted, to another).
    The auditor must hold a role that audits (422) and be independent of the case: never its
    worker, nor a manager of its team (403)."""
    audit = _audit_for_change(session, actor=actor, audit_id=audit_id)
    engine.require_version(audit, expected_version)
    event = REASSIGN_EVENT if audit.state == ASSIGNED else ASSIGN_EVENT
    _require_event(audit, event, actor)
    if audit.auditor_id == auditor_id:
        raise Conflict("This audit is already assigned to that auditor.", code="already_assigned")
    _check_auditor(session, case=_case_of(session, audit), user_id=auditor_id, field="auditor_id")
    _apply(
        session,
        actor=actor,
        audit=audit,
        event=event,
        expected_version=expected_version,
        data={"auditor_id": auditor_id},
    )
    return audit


def audit_ad_hoc(
    session: Session,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    tool_id: uuid.UUID,
    auditor_id: uuid.UUID,
) -> CaseAudit:
    """An audit of one case outside a programme (e.g. after a complaint or a serious incident),
    planned and assigned in one step; nothing is written when either step is refused."""
    case = case_service.case_visible(session, actor=actor, case_id=case_id)
    if actor.role not in AUDITORS:
        raise Forbidden(f"Your role ({actor.role.value}) may not plan case file audits.")
    # Check the auditor before anything is written, so a refusal leaves no planned audit behind.
    _check_auditor(session, case=case, user_id=auditor_id, field="auditor_id")
    audit = audit_plan(session, actor=actor, case=case, tool_id=tool_id, programme_id=None)
    return audit_assign(
        session,
        actor=actor,
        audit_id=audit.id,
        auditor_id=auditor_id,
        expected_version=audit.version,
    )


def audit_cancel(
    session: Session, *, actor: Principal, audit_id: uuid.UUID, expected_version: int, reason: str
) -> CaseAudit:
    """Cancel an audit not yet submitted, saying why (409 once submitted). Someone the audit is
    independent of may not call it off (403)."""
    audit = _audit_for_change(session, actor=actor, audit_id=audit_id)
    engine.require_version(audit, expected_version)
    _require_event(audit, CANCEL_EVENT, actor)
    refusal = auditor_conflict(session, case=_case_of(session, audit), user_id=actor.user_id)
    if refusal is not None:
        raise Forbidden(refusal, code="auditor_not_independent")
    _apply(
        session,
        actor=actor,
        audit=audit,
        event=CANCEL_EVENT,
        expected_version=expected_version,
        reason=reason,
    )
    return audit


# --- recording findings and submitting ---------------------------------------------------------


def _resolve_answers(
    questions: Sequence[AuditQuestion], answers: Sequence[AnswerIn]
) -> list[tuple[AuditQuestion, AnswerIn]]:
    """Each answer's question in the audit's tool (422 naming ``answers.N.question_code`` or
    ``answers.N.question_id`` for one that is not in it, or answered twice)."""
    by_code = {q.code.upper(): q for q in questions}
    by_id = {q.id: q for q in questions}
    errors: list[dict[str, Any]] = []
    resolved: list[tuple[AuditQuestion, AnswerIn]] = []
    seen: set[uuid.UUID] = set()
    for n, answer in enumerate(answers):
        if answer.question_code is not None:
            name = f"answers.{n}.question_code"
            question = by_code.get(answer.question_code.strip().upper())
        else:
            name = f"answers.{n}.question_id"
            question = by_id.get(answer.question_id) if answer.question_id else None
        if question is None:
            errors.append({"field": name, "message": "This question is not in the audit's tool."})
        elif question.id in seen:
            errors.append({"field": name, "message": "This question is answered twice."})
        else:
            seen.add(question.id)
            resolved.append((question, answer))
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise Invalid(f"Please correct: {fields}.", errors=errors)
    return resolved


def _refuse_unless_assigned(audit: CaseAudit) -> None:
    if audit.state in (SUBMITTED, MODERATED):
        raise Conflict(SUBMITTED_IS_FIXED, code="case_audit_submitted")
    if audit.state == PLANNED:
        raise Conflict(
            "This audit has not been assigned to an auditor yet.", code="case_audit_not_assigned"
        )
    if audit.state != ASSIGNED:
        raise Conflict(f"This audit is {audit.state}.", code=f"case_audit_{audit.state}")


def audit_save(
    session: Session,
    *,
    actor: Principal,
    audit_id: uuid.UUID,
    expected_version: int,
    answers: Sequence[AnswerIn] = (),
    findings: dict[str, Any] | None = None,
) -> CaseAudit:
    """The auditor records what they found so far: grades and comments by question (merged with
    those saved before), and any of the overall grade, the child's and the family's voice and the
    summary (``findings``: only the fields given change). Partial saves are fine while the audit
    is assigned; once submitted it is fixed (409: moderation is the way to change a grade)."""
    findings = dict(findings or {})
    unknown = sorted(set(findings) - set(FINDINGS))
    if unknown:
        raise Invalid.field(unknown[0], "This field is not accepted here.")
    audit = _audit_for_change(session, actor=actor, audit_id=audit_id)
    engine.require_version(audit, expected_version)
    _refuse_unless_assigned(audit)
    _require_auditor(audit, actor)
    resolved = _resolve_answers(tool_questions(session, tool_id=audit.tool_id), answers)
    existing = {
        a.question_id: a
        for a in session.scalars(
            select(CaseAuditAnswer).where(CaseAuditAnswer.audit_id == audit.id)
        )
    }
    changes: dict[str, Any] = {}
    for question, answer in resolved:
        row = existing.get(question.id)
        before = {"grade": row.grade, "comment": row.comment} if row else {}
        after = {"grade": answer.grade, "comment": answer.comment}
        if row is None:
            session.add(
                CaseAuditAnswer(
                    id=uuid.uuid4(),
                    audit_id=audit.id,
                    question_id=question.id,
                    grade=answer.grade,
                    comment=answer.comment,
                )
            )
        else:
            row.grade = answer.grade
            row.comment = answer.comment
        changed = diff(before, after)
        if changed:
            changes[f"answers.{question.code}"] = changed
    before_findings = {name: getattr(audit, name) for name in findings}
    for name, value in findings.items():
        setattr(audit, name, value)
    changes.update(diff(before_findings, findings))
    session.flush()
    # The audit's version moves with its answers too (when no field of its own changed), so a
    # stale save is refused (412) whatever it touched.
    if audit.version == expected_version:
        _bump_version(session, CaseAudit, audit, expected_version)
    change_log_append(
        session,
        actor=actor,
        entity_type=AUDIT_SUBJECT,
        entity_id=audit.id,
        action="case_audit_saved",
        changes=changes,
    )
    return audit


def audit_answers(
    session: Session, *, audit: CaseAudit
) -> list[tuple[CaseAuditAnswer, AuditQuestion]]:
    """The audit's answers with their questions, in the tool's order."""
    return [
        (answer, question)
        for answer, question in session.execute(
            select(CaseAuditAnswer, AuditQuestion)
            .join(AuditQuestion, AuditQuestion.id == CaseAuditAnswer.question_id)
            .where(CaseAuditAnswer.audit_id == audit.id)
            .order_by(AuditQuestion.position, AuditQuestion.id)
        ).all()
    ]


def audit_submit(
    session: Session, *, actor: Principal, audit_id: uuid.UUID, expected_version: int
) -> CaseAudit:
    """The auditor submits the audit: every question of the tool graded, and the overall grade
    and the child's voice recorded (422 naming each one missing). From now on it is fixed."""
    audit = _audit_for_change(session, actor=actor, audit_id=audit_id)
    engine.require_version(audit, expected_version)
    _require_event(audit, SUBMIT_EVENT, actor)
    _require_auditor(audit, actor)
    answered = {answer.question_id for answer, _ in audit_answers(session, audit=audit)}
    errors: list[dict[str, Any]] = [
        {
            "field": f"answers.{question.code}",
            "message": f"Grade this question ({question.theme}: {question.text}).",
        }
        for question in tool_questions(session, tool_id=audit.tool_id)
        if question.id not in answered
    ]
    if audit.overall_grade is None:
        errors.append({"field": "overall_grade", "message": "Give the audit's overall grade."})
    if not (audit.child_voice and audit.child_voice.strip()):
        errors.append(
            {
                "field": "child_voice",
                "message": "Record the child's lived experience and voice as found on the file.",
            }
        )
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise Invalid(f"Before submitting, complete: {fields}.", errors=errors)
    _apply(session, actor=actor, audit=audit, event=SUBMIT_EVENT, expected_version=expected_version)
    return audit


# --- moderation --------------------------------------------------------------------------------


def audit_moderate(
    session: Session,
    *,
    actor: Principal,
    audit_id: uuid.UUID,
    expected_version: int,
    outcome: ModerationOutcome,
    moderated_grade: AuditGrade | None,
    reason: str | None,
) -> CaseAudit:
    """A second auditor moderates a submitted audit (once; 409 otherwise): ``agreed`` leaves the
    auditor's grade standing; ``adjusted`` sets ``moderated_grade`` — a different grade — with
    the reason (422 otherwise). The moderator is not the auditor and, like the auditor,
    independent of the case (403)."""
    audit = _audit_for_change(session, actor=actor, audit_id=audit_id)
    engine.require_version(audit, expected_version)
    _require_event(audit, MODERATE_EVENT, actor)
    if audit.auditor_id == actor.user_id:
        raise Forbidden(
            "You audited this case: moderation is done by a second auditor.",
            code="moderator_is_the_auditor",
        )
    refusal = auditor_conflict(session, case=_case_of(session, audit), user_id=actor.user_id)
    if refusal is not None:
        raise Forbidden(refusal, code="auditor_not_independent")
    reason = reason.strip() if reason and reason.strip() else None
    errors: list[dict[str, Any]] = []
    if outcome is ModerationOutcome.adjusted:
        if moderated_grade is None:
            errors.append({"field": "moderated_grade", "message": "Give the adjusted grade."})
        elif moderated_grade == audit.overall_grade:
            errors.append(
                {
                    "field": "moderated_grade",
                    "message": "This is the auditor's grade: record the moderation as agreed.",
                }
            )
        if reason is None:
            errors.append({"field": "reason", "message": "Say why the grade is adjusted."})
    elif moderated_grade is not None and moderated_grade != audit.overall_grade:
        errors.append(
            {
                "field": "moderated_grade",
                "message": "An agreed grade is the auditor's: record a different one as adjusted.",
            }
        )
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise Invalid(f"Please correct: {fields}.", errors=errors)
    _apply(
        session,
        actor=actor,
        audit=audit,
        event=MODERATE_EVENT,
        expected_version=expected_version,
        reason=reason,
        data={
            "outcome": outcome,
            "moderated_grade": moderated_grade if outcome is ModerationOutcome.adjusted else None,
        },
    )
    return audit


# --- reading audits ----------------------------------------------------------------------------


def case_audit_get(session: Session, *, actor: Principal, audit_id: uuid.UUID) -> CaseAudit:
    """The audit, if its child is visible to the caller (404 otherwise); the read is logged."""
    audit = session.get(CaseAudit, audit_id)
    if audit is None:
        raise NotFound(AUDIT_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=audit.child_id,
        resource=AUDIT_SUBJECT,
        case_id=audit.case_id,
    )
    return audit


def case_audits_for_case(
    session: Session, *, actor: Principal, case_id: uuid.UUID
) -> list[CaseAudit]:
    """The case's audits, oldest first; the read is logged."""
    case = case_service.case_for_read(session, actor=actor, case_id=case_id, resource=AUDIT_SUBJECT)
    return list(
        session.scalars(
            select(CaseAudit)
            .where(CaseAudit.case_id == case.id)
            .order_by(CaseAudit.created_at, CaseAudit.id)
        )
    )


def case_audits_list(
    session: Session,
    *,
    actor: Principal,
    auditor_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[CaseAudit]:
    """Audits of children the caller may see (an auditor's list: ``auditor_id``), optionally in
    one state, oldest first (at most 500); each child listed is written to the access log."""
    if state is not None and state not in CASE_AUDIT_MACHINE.states:
        raise Invalid.field("state", f"Choose one of: {', '.join(CASE_AUDIT_MACHINE.states)}.")
    query = (
        select(CaseAudit)
        .join(Person, Person.id == CaseAudit.child_id)
        .where(person_visible(actor))
        .order_by(CaseAudit.created_at, CaseAudit.id)
        .limit(LIST_LIMIT)
    )
    if auditor_id is not None:
        query = query.where(CaseAudit.auditor_id == auditor_id)
    if state is not None:
        query = query.where(CaseAudit.state == state)
    audits = list(session.scalars(query))
    _log_listed(session, actor=actor, resource=AUDIT_SUBJECT, rows=audits)
    return audits


def _log_listed(
    session: Session, *, actor: Principal, resource: str, rows: Sequence[CaseAudit | AuditAction]
) -> None:
    shown: dict[uuid.UUID, uuid.UUID] = {}
    for row in rows:
        shown.setdefault(row.child_id, row.case_id)
    for child_id, case_id in shown.items():
        access_log_append(
            session,
            principal=actor,
            action="list",
            resource=resource,
            person_id=child_id,
            case_id=case_id,
        )


# --- actions arising ---------------------------------------------------------------------------


def audit_action_status(action: AuditAction, today: date | None = None) -> AuditActionStatus:
    """Completed, overdue (not completed and past its due date) or open."""
    if action.completed_date is not None:
        return AuditActionStatus.completed
    if action.due_date < (today or clock.today()):
        return AuditActionStatus.overdue
    return AuditActionStatus.open


def audit_action_create(
    session: Session,
    *,
    actor: Principal,
    audit_id: uuid.UUID,
    description: str,
    owner_id: uuid.UUID,
    due_date: date,
) -> AuditAction:
    """The auditor or the moderator sets an action arising from a submitted audit: what is to be
    done, its owner (a practitioner) and the date agreed for it (after today). Its deadline
    (timescales rule 38) opens on the case, and the action is on the chronology."""
    audit = _audit_for_change(session, actor=actor, audit_id=audit_id)
    # Whose audit it is first: a 409 to anyone else would disclose how far the audit has got.
    if actor.user_id not in (audit.auditor_id, audit.moderator_id):
        raise Forbidden(
            "Actions arising from an audit are set by its auditor or its moderator.",
            code="not_the_auditor",
        )
    if audit.state not in (SUBMITTED, MODERATED):
        raise Conflict(
            "Actions arise from a submitted audit; submit this one first.",
            code=f"case_audit_{audit.state}",
        )
    errors: list[dict[str, Any]] = []
    if not description.strip():
        errors.append({"field": "description", "message": "Say what is to be done."})
    owner = session.get(UserAccount, owner_id)
    if owner is None or not owner.is_active:
        errors.append({"field": "owner_id", "message": "There is no active user with this id."})
    elif owner.role not in PRACTITIONERS:
        errors.append(
            {
                "field": "owner_id",
                "message": f"An action is owned by a practitioner, not a {owner.role.value}.",
            }
        )
    today = clock.today()
    if due_date <= today:
        errors.append({"field": "due_date", "message": "The date agreed must be after today."})
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise Invalid(f"Please correct: {fields}.", errors=errors)
    action = AuditAction(
        id=uuid.uuid4(),
        audit_id=audit.id,
        case_id=audit.case_id,
        child_id=audit.child_id,
        description=description.strip(),
        owner_id=owner_id,
        agreed_date=today,
        due_date=due_date,
        recorded_by_id=actor.user_id,
    )
    session.add(action)
    session.flush()
    deadline_open(
        session,
        rule=AUDIT_ACTION,
        subject_type=ACTION_SUBJECT,
        subject_id=action.id,
        case_id=action.case_id,
        child_id=action.child_id,
        start_date=today,
        due_date=due_date,
    )
    case_event_append(
        session,
        case_id=action.case_id,
        child_id=action.child_id,
        actor=actor,
        action=ACTION_SET,
        subject_type=ACTION_SUBJECT,
        subject_id=action.id,
        to_state=AuditActionStatus.open.value,
        changes={
            "audit_id": audit.id,
            "description": action.description,
            "owner_id": owner_id,
            "due_date": due_date,
        },
    )
    return action


def _action_for_change(session: Session, *, actor: Principal, action_id: uuid.UUID) -> AuditAction:
    action = session.get(AuditAction, action_id)
    if action is None:
        raise NotFound(ACTION_NOT_VISIBLE)
    visible = session.scalar(
        select(Person.id).where(Person.id == action.child_id, person_visible(actor))
    )
    if visible is None:
        raise person_denied(
            session, principal=actor, person_id=action.child_id, resource=ACTION_SUBJECT
        )
    return action


def may_complete_action(session: Session, *, actor: Principal, action: AuditAction) -> bool:
    """The owner, a manager of the team holding the case (or a service manager), or QA."""
    if actor.user_id == action.owner_id or actor.role in (Role.qa_auditor, Role.service_manager):
        return True
    case = session.get(Case, action.case_id)
    return case is not None and case.team_id in actor.managed_team_ids


def audit_action_complete(
    session: Session,
    *,
    actor: Principal,
    action_id: uuid.UUID,
    expected_version: int,
    completion_note: str,
) -> AuditAction:
    """Record that the action was done, today, and what was done: by its owner, a manager of the
    case's team, or QA (403 otherwise; 409 once completed). Its deadline is met."""
    action = _action_for_change(session, actor=actor, action_id=action_id)
    # Who may complete it first: a 412 or 409 to anyone else would disclose the action's version
    # or that it is done (OWASP API1: the object check, then the precondition, then the state).
    if not may_complete_action(session, actor=actor, action=action):
        raise Forbidden(
            "An action is completed by its owner, a manager of the case's team, or QA.",
            code="not_the_owner",
        )
    if action.version != expected_version:
        raise PreconditionFailed(
            f"This action is at version {action.version}, not {expected_version}: someone "
            "changed it since you loaded it. Reload it and try again."
        )
    if action.completed_date is not None:
        raise Conflict(
            f"This action was completed on {action.completed_date.isoformat()}.",
            code="audit_action_completed",
        )
    if not completion_note.strip():
        raise Invalid.field("completion_note", "Say what was done.")
    today = clock.today()
    action.completed_date = today
    action.completion_note = completion_note.strip()
    session.flush()
    deadline_meet(
        session,
        subject_type=ACTION_SUBJECT,
        subject_id=action.id,
        kind=DeadlineKind.audit_action,
        met_date=today,
    )
    case_event_append(
        session,
        case_id=action.case_id,
        child_id=action.child_id,
        actor=actor,
        action=ACTION_COMPLETED,
        subject_type=ACTION_SUBJECT,
        subject_id=action.id,
        from_state=(
            AuditActionStatus.overdue.value
            if action.due_date < today
            else AuditActionStatus.open.value
        ),
        to_state=AuditActionStatus.completed.value,
        changes={"completed_date": today, "completion_note": action.completion_note},
    )
    return action


def audit_action_get(session: Session, *, actor: Principal, action_id: uuid.UUID) -> AuditAction:
    """The action, if its child is visible (404 otherwise); the read is logged."""
    action = session.get(AuditAction, action_id)
    if action is None:
        raise NotFound(ACTION_NOT_VISIBLE)
    get_person_for_read(
        session,
        principal=actor,
        person_id=action.child_id,
        resource=ACTION_SUBJECT,
        case_id=action.case_id,
    )
    return action


def audit_actions_for_case(
    session: Session, *, actor: Principal, case_id: uuid.UUID
) -> list[AuditAction]:
    """The case's audit actions, earliest due first; the read is logged."""
    case = case_service.case_for_read(
        session, actor=actor, case_id=case_id, resource=ACTION_SUBJECT
    )
    return list(
        session.scalars(
            select(AuditAction)
            .where(AuditAction.case_id == case.id)
            .order_by(AuditAction.due_date, AuditAction.created_at, AuditAction.id)
        )
    )


def _status_clause(status: AuditActionStatus, today: date) -> ColumnElement[bool]:
    if status is AuditActionStatus.completed:
        return AuditAction.completed_date.is_not(None)
    if status is AuditActionStatus.overdue:
        return and_(AuditAction.completed_date.is_(None), AuditAction.due_date < today)
    return and_(AuditAction.completed_date.is_(None), AuditAction.due_date >= today)


def audit_actions_list(
    session: Session,
    *,
    actor: Principal,
    owner_id: uuid.UUID | None = None,
    status: AuditActionStatus | None = None,
) -> list[AuditAction]:
    """Audit actions of children the caller may see (someone's own: ``owner_id``), optionally by
    status, earliest due first (at most 500); each child listed is written to the access log."""
    query = (
        select(AuditAction)
        .join(Person, Person.id == AuditAction.child_id)
        .where(person_visible(actor))
        .order_by(AuditAction.due_date, AuditAction.created_at, AuditAction.id)
        .limit(LIST_LIMIT)
    )
    if owner_id is not None:
        query = query.where(AuditAction.owner_id == owner_id)
    if status is not None:
        query = query.where(_status_clause(status, clock.today()))
    actions = list(session.scalars(query))
    _log_listed(session, actor=actor, resource=ACTION_SUBJECT, rows=actions)
    return actions


@dataclass(frozen=True)
class ToolView:
    tool: AuditTool
    questions: list[AuditQuestion]
    in_use: bool


def audit_tool_view(session: Session, *, tool: AuditTool) -> ToolView:
    return ToolView(
        tool=tool,
        questions=tool_questions(session, tool_id=tool.id),
        in_use=tool_in_use(session, tool_id=tool.id),
    )
