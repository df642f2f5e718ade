"""JSON API of case file audits (issue 6): audit tools, audits of cases (assigned, recorded,
submitted, moderated, cancelled) and the actions arising from them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app.api.deps import IfMatch, SessionDep, etag, permission
from app.api.responses import problem_responses
from app.audits import service
from app.audits.schemas import (
    AuditActionComplete,
    AuditActionCreate,
    AuditActionRead,
    AuditActionStatus,
    AuditQuestionRead,
    AuditToolCreate,
    AuditToolRead,
    AuditToolSummary,
    AuditToolUpdate,
    CaseAuditAnswerRead,
    CaseAuditAssign,
    CaseAuditCancel,
    CaseAuditCreate,
    CaseAuditModerate,
    CaseAuditRead,
    CaseAuditSummary,
    CaseAuditUpdate,
)
from app.errors import Invalid
from app.models.audits import AuditAction, AuditTool, CaseAudit
from app.security.principal import Principal

router = APIRouter(tags=["audits"])

ToolWriter = Annotated[Principal, Depends(permission("audit_tool:write"))]
AuditReader = Annotated[Principal, Depends(permission("case_audit:read"))]
AuditWriter = Annotated[Principal, Depends(permission("case_audit:write"))]
ActionCompleter = Annotated[Principal, Depends(permission("audit_action:complete"))]


def _tool(session: Session, tool: AuditTool, response: Response) -> AuditToolRead:
    view = service.audit_tool_view(session, tool=tool)
    response.headers["ETag"] = etag(tool.version)
    return AuditToolRead(
        id=tool.id,
        name=tool.name,
        description=tool.description,
        is_active=tool.is_active,
        in_use=view.in_use,
        version=tool.version,
        created_at=tool.created_at,
        questions=[AuditQuestionRead.model_validate(q) for q in view.questions],
    )


def _audit(session: Session, audit: CaseAudit, response: Response) -> CaseAuditRead:
    response.headers["ETag"] = etag(audit.version)
    answers = [
        CaseAuditAnswerRead(
            question_id=question.id,
            question_code=question.code,
            theme=question.theme,
            grade=answer.grade,
            comment=answer.comment,
        )
        for answer, question in service.audit_answers(session, audit=audit)
    ]
    return CaseAuditRead(
        id=audit.id,
        programme_id=audit.programme_id,
        tool_id=audit.tool_id,
        case_id=audit.case_id,
        child_id=audit.child_id,
        team_id=audit.team_id,
        state=audit.state,
        auditor_id=audit.auditor_id,
        overall_grade=audit.overall_grade,
        child_voice=audit.child_voice,
        family_voice=audit.family_voice,
        summary=audit.summary,
        submitted_at=audit.submitted_at,
        moderator_id=audit.moderator_id,
        moderation_outcome=audit.moderation_outcome,
        moderated_grade=audit.moderated_grade,
        moderation_reason=audit.moderation_reason,
        moderated_at=audit.moderated_at,
        cancel_reason=audit.cancel_reason,
        final_grade=audit.final_grade,
        version=audit.version,
        created_at=audit.created_at,
        answers=answers,
    )


def _action_read(action: AuditAction) -> AuditActionRead:
    return AuditActionRead(
        id=action.id,
        audit_id=action.audit_id,
        case_id=action.case_id,
        child_id=action.child_id,
        description=action.description,
        owner_id=action.owner_id,
        agreed_date=action.agreed_date,
        due_date=action.due_date,
        completed_date=action.completed_date,
        completion_note=action.completion_note,
        recorded_by_id=action.recorded_by_id,
        status=service.audit_action_status(action),
        version=action.version,
        created_at=action.created_at,
    )


def _action(action: AuditAction, response: Response) -> AuditActionRead:
    response.headers["ETag"] = etag(action.version)
    return _action_read(action)


def _me_or_id(value: str | None, principal: Principal, name: str) -> uuid.UUID | None:
    """``me`` for the caller, else a user id (422 on ``name`` otherwise)."""
    if value is None:
        return None
    if value == "me":
        return principal.user_id
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid.field(name, "Give 'me' or a user id.") from None


# --- tools -------------------------------------------------------------------------------------


@router.post(
    "/audit-tools",
    operation_id="audit_tool_create",
    status_code=status.HTTP_201_CREATED,
    response_model=AuditToolRead,
    responses=problem_responses(409),
)
def audit_tool_create(
    body: AuditToolCreate, session: SessionDep, principal: ToolWriter, response: Response
) -> AuditToolRead:
    """A new audit tool: its questions in themes, in the order given (codes unique within it)."""
    tool = service.audit_tool_create(
        session,
        actor=principal,
        name=body.name,
        description=body.description,
        questions=body.questions,
    )
    response.headers["Location"] = f"/api/v1/audit-tools/{tool.id}"
    return _tool(session, tool, response)


@router.get(
    "/audit-tools",
    operation_id="audit_tools_list",
    response_model=list[AuditToolSummary],
    responses=problem_responses(),
)
def audit_tools_list(
    session: SessionDep, principal: AuditReader, active: bool | None = None
) -> list[AuditToolSummary]:
    """The audit tools by name (``active=true`` for those new audits may use)."""
    tools = service.audit_tools_list(session, active=active)
    return [AuditToolSummary.model_validate(t) for t in tools]


@router.get(
    "/audit-tools/{tool_id}",
    operation_id="audit_tool_get",
    response_model=AuditToolRead,
    responses=problem_responses(404),
)
def audit_tool_get(
    tool_id: uuid.UUID, session: SessionDep, principal: AuditReader, response: Response
) -> AuditToolRead:
    """The tool, its questions in order, and whether audits have used it."""
    return _tool(session, service.audit_tool_get(session, tool_id=tool_id), response)


@router.put(
    "/audit-tools/{tool_id}",
    operation_id="audit_tool_update",
    response_model=AuditToolRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def audit_tool_update(
    tool_id: uuid.UUID,
    body: AuditToolUpdate,
    session: SessionDep,
    principal: ToolWriter,
    version: IfMatch,
    response: Response,
) -> AuditToolRead:
    """Replace the tool's name, description and questions: only while no audit has used it (a
    changed tool is a new tool)."""
    tool = service.audit_tool_update(
        session,
        actor=principal,
        tool_id=tool_id,
        expected_version=version,
        name=body.name,
        description=body.description,
        questions=body.questions,
    )
    return _tool(session, tool, response)


@router.post(
    "/audit-tools/{tool_id}/retire",
    operation_id="audit_tool_retire",
    response_model=AuditToolRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def audit_tool_retire(
    tool_id: uuid.UUID,
    session: SessionDep,
    principal: ToolWriter,
    version: IfMatch,
    response: Response,
) -> AuditToolRead:
    """Stop the tool being used for new audits."""
    tool = service.audit_tool_retire(
        session, actor=principal, tool_id=tool_id, expected_version=version
    )
    return _tool(session, tool, response)


# --- audits ------------------------------------------------------------------------------------


@router.post(
    "/cases/{case_id}/audits",
    operation_id="case_audit_create",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseAuditRead,
    responses=problem_responses(404, 409),
)
def case_audit_create(
    case_id: uuid.UUID,
    body: CaseAuditCreate,
    session: SessionDep,
    principal: AuditWriter,
    response: Response,
) -> CaseAuditRead:
    """An ad hoc audit of the case, outside a programme: planned and assigned to the auditor (who
    is neither the case's worker nor a manager of its team) in one step."""
    audit = service.audit_ad_hoc(
        session,
        actor=principal,
        case_id=case_id,
        tool_id=body.tool_id,
        auditor_id=body.auditor_id,
    )
    response.headers["Location"] = f"/api/v1/case-audits/{audit.id}"
    return _audit(session, audit, response)


@router.get(
    "/cases/{case_id}/audits",
    operation_id="case_audits_for_case",
    response_model=list[CaseAuditSummary],
    responses=problem_responses(404),
)
def case_audits_for_case(
    case_id: uuid.UUID, session: SessionDep, principal: AuditReader
) -> list[CaseAuditSummary]:
    """The case's audits, oldest first."""
    audits = service.case_audits_for_case(session, actor=principal, case_id=case_id)
    return [CaseAuditSummary.model_validate(a) for a in audits]


@router.get(
    "/case-audits",
    operation_id="case_audits_list",
    response_model=list[CaseAuditSummary],
    responses=problem_responses(),
)
def case_audits_list(
    session: SessionDep,
    principal: AuditReader,
    auditor: Annotated[str | None, Query(description="'me' or a user id")] = None,
    state: str | None = None,
) -> list[CaseAuditSummary]:
    """Audits (``auditor=me``: the caller's own), optionally in one state, oldest first."""
    audits = service.case_audits_list(
        session,
        actor=principal,
        auditor_id=_me_or_id(auditor, principal, "auditor"),
        state=state,
    )
    return [CaseAuditSummary.model_validate(a) for a in audits]


@router.get(
    "/case-audits/{audit_id}",
    operation_id="case_audit_get",
    response_model=CaseAuditRead,
    responses=problem_responses(404),
)
def case_audit_get(
    audit_id: uuid.UUID, session: SessionDep, principal: AuditReader, response: Response
) -> CaseAuditRead:
    """The audit, its answers in the tool's order, the final grade and its ETag."""
    return _audit(
        session, service.case_audit_get(session, actor=principal, audit_id=audit_id), response
    )


@router.post(
    "/case-audits/{audit_id}/assign",
    operation_id="case_audit_assign",
    response_model=CaseAuditRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_audit_assign(
    audit_id: uuid.UUID,
    body: CaseAuditAssign,
    session: SessionDep,
    principal: AuditWriter,
    version: IfMatch,
    response: Response,
) -> CaseAuditRead:
    """Give the audit to an auditor who is neither the case's worker nor a manager of its team
    (403 otherwise), or — before it is submitted — to another."""
    audit = service.audit_assign(
        session,
        actor=principal,
        audit_id=audit_id,
        auditor_id=body.auditor_id,
        expected_version=version,
    )
    return _audit(session, audit, response)


@router.put(
    "/case-audits/{audit_id}",
    operation_id="case_audit_save",
    response_model=CaseAuditRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_audit_save(
    audit_id: uuid.UUID,
    body: CaseAuditUpdate,
    session: SessionDep,
    principal: AuditWriter,
    version: IfMatch,
    response: Response,
) -> CaseAuditRead:
    """The assigned auditor saves what they have found so far (fields left out stay as they
    are). After submission the audit is fixed: 409, moderation is the way to change a grade."""
    findings = {
        name: getattr(body, name) for name in service.FINDINGS if name in body.model_fields_set
    }
    audit = service.audit_save(
        session,
        actor=principal,
        audit_id=audit_id,
        expected_version=version,
        answers=body.answers,
        findings=findings,
    )
    return _audit(session, audit, response)


@router.post(
    "/case-audits/{audit_id}/submit",
    operation_id="case_audit_submit",
    response_model=CaseAuditRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_audit_submit(
    audit_id: uuid.UUID,
    session: SessionDep,
    principal: AuditWriter,
    version: IfMatch,
    response: Response,
) -> CaseAuditRead:
    """Submit the audit: every question graded, the overall grade and the child's voice
    recorded (422 naming each one missing)."""
    audit = service.audit_submit(
        session, actor=principal, audit_id=audit_id, expected_version=version
    )
    return _audit(session, audit, response)


@router.post(
    "/case-audits/{audit_id}/cancel",
    operation_id="case_audit_cancel",
    response_model=CaseAuditRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_audit_cancel(
    audit_id: uuid.UUID,
    body: CaseAuditCancel,
    session: SessionDep,
    principal: AuditWriter,
    version: IfMatch,
    response: Response,
) -> CaseAuditRead:
    """Cancel an audit not yet submitted, saying why."""
    audit = service.audit_cancel(
        session, actor=principal, audit_id=audit_id, expected_version=version, reason=body.reason
    )
    return _audit(session, audit, response)


@router.post(
    "/case-audits/{audit_id}/moderate",
    operation_id="case_audit_moderate",
    response_model=CaseAuditRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def case_audit_moderate(
    audit_id: uuid.UUID,
    body: CaseAuditModerate,
    session: SessionDep,
    principal: AuditWriter,
    version: IfMatch,
    response: Response,
) -> CaseAuditRead:
    """A second auditor agrees the grade, or adjusts it with the reason."""
    audit = service.audit_moderate(
        session,
        actor=principal,
        audit_id=audit_id,
        expected_version=version,
        outcome=body.outcome,
        moderated_grade=body.moderated_grade,
        reason=body.reason,
    )
    return _audit(session, audit, response)


# --- actions arising ---------------------------------------------------------------------------


@router.post(
    "/case-audits/{audit_id}/actions",
    operation_id="audit_action_create",
    status_code=status.HTTP_201_CREATED,
    response_model=AuditActionRead,
    responses=problem_responses(404, 409),
)
def audit_action_create(
    audit_id: uuid.UUID,
    body: AuditActionCreate,
    session: SessionDep,
    principal: AuditWriter,
    response: Response,
) -> AuditActionRead:
    """An action arising from a submitted audit, with its owner and the date agreed (timescales
    rule 38: a deadline on the case)."""
    action = service.audit_action_create(
        session,
        actor=principal,
        audit_id=audit_id,
        description=body.description,
        owner_id=body.owner_id,
        due_date=body.due_date,
    )
    response.headers["Location"] = f"/api/v1/audit-actions/{action.id}"
    return _action(action, response)


@router.get(
    "/cases/{case_id}/audit-actions",
    operation_id="audit_actions_for_case",
    response_model=list[AuditActionRead],
    responses=problem_responses(404),
)
def audit_actions_for_case(
    case_id: uuid.UUID, session: SessionDep, principal: AuditReader
) -> list[AuditActionRead]:
    """The actions arising from the case's audits, earliest due first."""
    actions = service.audit_actions_for_case(session, actor=principal, case_id=case_id)
    return [_action_read(a) for a in actions]


@router.get(
    "/audit-actions",
    operation_id="audit_actions_list",
    response_model=list[AuditActionRead],
    responses=problem_responses(),
)
def audit_actions_list(
    session: SessionDep,
    principal: AuditReader,
    owner: Annotated[str | None, Query(description="'me' or a user id")] = None,
    status: AuditActionStatus | None = None,
) -> list[AuditActionRead]:
    """Audit actions (``owner=me``: the caller's own), optionally by status, earliest due
    first."""
    actions = service.audit_actions_list(
        session, actor=principal, owner_id=_me_or_id(owner, principal, "owner"), status=status
    )
    return [_action_read(a) for a in actions]


@router.get(
    "/audit-actions/{action_id}",
    operation_id="audit_action_get",
    response_model=AuditActionRead,
    responses=problem_responses(404),
)
def audit_action_get(
    action_id: uuid.UUID, session: SessionDep, principal: AuditReader, response: Response
) -> AuditActionRead:
    """The action, its status and its ETag."""
    return _action(
        service.audit_action_get(session, actor=principal, action_id=action_id), response
    )


@router.post(
    "/audit-actions/{action_id}/complete",
    operation_id="audit_action_complete",
    response_model=AuditActionRead,
    responses=problem_responses(400, 404, 409, 412, 428),
)
def audit_action_complete(
    action_id: uuid.UUID,
    body: AuditActionComplete,
    session: SessionDep,
    principal: ActionCompleter,
    version: IfMatch,
    response: Response,
) -> AuditActionRead:
    """Record that the action was done today, and what was done (its owner, a manager of the
    case's team, or QA); its deadline is met."""
    action = service.audit_action_complete(
        session,
        actor=principal,
        action_id=action_id,
        expected_version=version,
        completion_note=body.completion_note,
    )
    return _action(action, response)
