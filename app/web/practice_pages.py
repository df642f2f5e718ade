"""Practice and quality: services and interventions, supervision, case file audits and findings.

Every page calls the service function the JSON API calls for the same thing (``app.interventions``,
``app.supervision``, ``app.audits``): who may audit which case, what a submitted audit allows,
when a supervision decision is refused, all stay there. The pages only turn forms into the API's
schemas and the services' refusals into GOV.UK error summaries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep
from app.audits import findings as findings_service
from app.audits import service as audit_service
from app.audits.schemas import (
    AuditActionComplete,
    AuditActionCreate,
    CaseAuditModerate,
    CaseAuditUpdate,
)
from app.audits.workflow import (
    ASSIGNED,
    CASE_AUDIT_MACHINE,
    MODERATE_EVENT,
    MODERATED,
    SUBMITTED,
)
from app.calendar import add_months
from app.cases import service as case_service
from app.errors import DomainError
from app.interventions import service as intervention_service
from app.interventions.schemas import InterventionCreate, InterventionEnd, InterventionStart
from app.models.audits import AuditAction, AuditGrade, CaseAudit
from app.models.interventions import (
    InterventionKind,
    InterventionOutcome,
    InterventionStatus,
    ProviderKind,
)
from app.models.org import Role, Team
from app.models.people import Person
from app.org import service as org_service
from app.practice import measures
from app.practice import reads as practice_reads
from app.security.policy import PERMISSIONS
from app.security.principal import Principal
from app.supervision import service as supervision_service
from app.supervision.schemas import SupervisionCreate
from app.web import notices
from app.web.forms import (
    FormErrors,
    form_values,
    form_version,
    parse_form,
    path_id,
    refused_form,
    see_other,
)
from app.web.security import web_form, web_permission
from app.web.templating import render
from app.workflow import engine

router = APIRouter(include_in_schema=False)

PracticeReader = Annotated[Principal, Depends(web_permission("practice:read"))]
CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]
CaseWriteForm = Annotated[Principal, Depends(web_form("case:write"))]
CaseWriter = Annotated[Principal, Depends(web_permission("case:write"))]
AuditReader = Annotated[Principal, Depends(web_permission("case_audit:read"))]
AuditWriteForm = Annotated[Principal, Depends(web_form("case_audit:write"))]
ActionCompleteForm = Annotated[Principal, Depends(web_form("audit_action:complete"))]
FindingsReader = Annotated[Principal, Depends(web_permission("audit_findings:read"))]
SupervisionReader = Annotated[Principal, Depends(web_permission("supervision:read"))]
SupervisionWriter = Annotated[Principal, Depends(web_permission("supervision:write"))]
SupervisionWriteForm = Annotated[Principal, Depends(web_form("supervision:write"))]

notices.register(
    intervention_recorded="The service has been recorded.",
    intervention_started="The start of the service has been recorded.",
    intervention_ended="The end of the service has been recorded.",
    supervision_recorded="The supervision session has been recorded.",
    case_audit_saved="Your audit has been saved. You can come back to it later.",
    case_audit_submitted="The audit has been submitted for moderation.",
    case_audit_moderated="The moderation has been recorded.",
    audit_action_set="The action has been set.",
    audit_action_completed="The action has been recorded as completed.",
)

GRADE_LABELS: Final = {
    AuditGrade.outstanding: "Outstanding",
    AuditGrade.good: "Good",
    AuditGrade.requires_improvement: "Requires improvement",
    AuditGrade.inadequate: "Inadequate",
}
GRADE_SHORT: Final = {
    AuditGrade.outstanding: "O",
    AuditGrade.good: "G",
    AuditGrade.requires_improvement: "RI",
    AuditGrade.inadequate: "I",
}
KIND_LABELS: Final = {
    InterventionKind.edge_of_care: "Edge of care support",
    InterventionKind.family_support: "Family support",
    InterventionKind.parenting_programme: "Parenting programme",
    InterventionKind.family_group_conference: "Family group conference",
    InterventionKind.domestic_abuse: "Domestic abuse service",
    InterventionKind.mental_health: "Mental health service",
    InterventionKind.substance_misuse: "Substance misuse service",
    InterventionKind.advocacy: "Advocacy",
    InterventionKind.independent_visitor: "Independent visitor",
    InterventionKind.other: "Another service",
}
PROVIDER_LABELS: Final = {
    ProviderKind.in_house: "The council's own service",
    ProviderKind.commissioned: "A commissioned provider",
}
OUTCOME_LABELS: Final = {
    InterventionOutcome.goals_met: "Goals met",
    InterventionOutcome.partly_met: "Goals partly met",
    InterventionOutcome.not_met: "Goals not met",
    InterventionOutcome.disengaged: "The family stopped taking part",
    InterventionOutcome.declined: "Offered but never taken up",
    InterventionOutcome.ended_other: "Ended for another reason",
}
STATUS_LABELS: Final = {
    InterventionStatus.referred: "Referred",
    InterventionStatus.active: "Active",
    InterventionStatus.ended: "Ended",
}
AUDIT_STATES: Final = {
    "planned": "Planned",
    ASSIGNED: "In progress",
    SUBMITTED: "Submitted",
    MODERATED: "Moderated",
    "cancelled": "Cancelled",
}


def _names(session: Session, child_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Children's names for rows the service has already checked and logged (one query)."""
    ids = set(child_ids)
    if not ids:
        return {}
    return {
        pid: f"{first} {last}"
        for pid, first, last in session.execute(
            select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(ids))
        ).all()
    }


#: Fields answered by choosing (radios, selects): GOV.UK asks to "Select", not "Enter", them.
CHOICES: Final = frozenset(
    {"kind", "provider_kind", "outcome", "moderated_grade", "overall_grade", "owner_id"}
)


def _may(principal: Principal, permission: str) -> bool:
    return principal.role in PERMISSIONS[permission]


# --------------------------------------------------------------------------------------------------
# The hub
# --------------------------------------------------------------------------------------------------


@router.get("/practice", response_class=HTMLResponse)
def practice_hub(request: Request, principal: PracticeReader) -> HTMLResponse:
    """Links to the practice and quality pages the caller's role may use."""
    return render(request, "practice_hub.html", {"title": "Practice and quality"})


# --------------------------------------------------------------------------------------------------
# Services and interventions
# --------------------------------------------------------------------------------------------------


def _case_heading(session: Session, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    case = case_service.case_for_read(
        session, actor=principal, case_id=case_id, resource="web:interventions"
    )
    child = session.get(Person, case.child_id)
    assert child is not None  # a foreign key
    return {"case": case, "child": child}


def _interventions_page(
    request: Request,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    errors: FormErrors | None = None,
    values: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    heading = _case_heading(session, principal, case_id)
    rows = intervention_service.interventions_for_case(session, actor=principal, case_id=case_id)
    return render(
        request,
        "practice_interventions.html",
        {
            "title": "Services and interventions",
            **heading,
            "interventions": rows,
            "kinds": KIND_LABELS,
            "providers": PROVIDER_LABELS,
            "outcomes": OUTCOME_LABELS,
            "statuses": STATUS_LABELS,
            "errors": errors or FormErrors(),
            "values": values or {},
            "today": clock.today(),
        },
        status_code=status_code,
    )


def _services(case_id: uuid.UUID, notice: str) -> RedirectResponse:
    """Post/redirect/get to the case's services (``see_other`` adds the notice as the only
    query, and this address has one already)."""
    query = urlencode({"case_id": str(case_id), "notice": notice})
    return RedirectResponse(f"/practice/interventions?{query}", status_code=303)


@router.get("/practice/interventions", response_class=HTMLResponse)
def interventions_list(
    request: Request,
    session: SessionDep,
    principal: CaseReader,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The case's services and interventions, with forms to record a start or an end."""
    if case_id is None:
        return render(
            request,
            "practice_interventions.html",
            {"title": "Services and interventions", "case": None},
        )
    return _interventions_page(request, session, principal, path_id(case_id, "case"))


INTERVENTION_LABELS: Final = {
    "kind": "which service",
    "provider_kind": "who provides the service",
    "provider_name": "the name of the service or provider",
    "description": "what the service is for",
    "referred_date": "the date of the referral",
    "start_date": "the date the service started",
    "end_date": "the date the service ended",
    "outcome": "how the service ended",
    "outcome_notes": "notes on the outcome",
}


def _intervention_form(
    request: Request,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    errors: FormErrors | None = None,
    values: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    heading = _case_heading(session, principal, case_id)
    return render(
        request,
        "practice_intervention_new.html",
        {
            "title": "Record a service or intervention",
            **heading,
            "kinds": KIND_LABELS,
            "providers": PROVIDER_LABELS,
            "errors": errors or FormErrors(),
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/practice/interventions/new", response_class=HTMLResponse)
def intervention_new(
    request: Request,
    session: SessionDep,
    principal: CaseWriter,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The form to refer the child and family to a service (and record its start)."""
    return _intervention_form(request, session, principal, path_id(case_id or "", "case"))


@router.post("/practice/interventions/new", response_class=HTMLResponse)
async def intervention_create(
    request: Request,
    session: SessionDep,
    principal: CaseWriteForm,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    case_uuid = path_id(case_id or "", "case")
    values = form_values(await request.form())
    body, errors = parse_form(InterventionCreate, values, INTERVENTION_LABELS, choices=CHOICES)
    if body is None:
        return _intervention_form(
            request, session, principal, case_uuid, errors=errors, values=values, status_code=422
        )
    try:
        intervention_service.intervention_record(
            session,
            actor=principal,
            case_id=case_uuid,
            kind=body.kind,
            description=body.description,
            provider_kind=body.provider_kind,
            provider_name=body.provider_name,
            referred_date=body.referred_date or clock.today(),
            start_date=body.start_date,
        )
    except DomainError as exc:
        errors = refused_form(session, exc)
        return _intervention_form(
            request,
            session,
            principal,
            case_uuid,
            errors=errors,
            values=values,
            status_code=errors.status,
        )
    return _services(case_uuid, "intervention_recorded")


async def _intervention_step(
    request: Request, session: Session, principal: Principal, intervention_id: str, step: str
) -> Response:
    """Record an intervention's start or end from the list page's forms."""
    found = intervention_service.intervention_get(
        session, actor=principal, intervention_id=path_id(intervention_id, "service")
    )
    case_id = found.case_id
    form = await request.form()
    version = form_version(form) or 0
    values = form_values(form)
    try:
        if step == "start":
            start, errors = parse_form(InterventionStart, values, INTERVENTION_LABELS)
            if start is not None:
                intervention_service.intervention_start(
                    session,
                    actor=principal,
                    intervention_id=found.id,
                    expected_version=version,
                    start_date=start.start_date or clock.today(),
                )
        else:
            end, errors = parse_form(InterventionEnd, values, INTERVENTION_LABELS, choices=CHOICES)
            if end is not None:
                intervention_service.intervention_end(
                    session,
                    actor=principal,
                    intervention_id=found.id,
                    expected_version=version,
                    end_date=end.end_date or clock.today(),
                    outcome=end.outcome,
                    outcome_notes=end.outcome_notes,
                )
    except DomainError as exc:
        errors = refused_form(session, exc)
    if errors:
        return _interventions_page(
            request,
            session,
            principal,
            case_id,
            errors=errors,
            values={**values, "intervention_id": str(found.id), "step": step},
            status_code=errors.status,
        )
    return _services(case_id, "intervention_started" if step == "start" else "intervention_ended")


@router.post("/practice/interventions/{intervention_id}/start", response_class=HTMLResponse)
async def intervention_start(
    request: Request, session: SessionDep, principal: CaseWriteForm, intervention_id: str
) -> Response:
    return await _intervention_step(request, session, principal, intervention_id, "start")


@router.post("/practice/interventions/{intervention_id}/end", response_class=HTMLResponse)
async def intervention_end(
    request: Request, session: SessionDep, principal: CaseWriteForm, intervention_id: str
) -> Response:
    return await _intervention_step(request, session, principal, intervention_id, "end")


# --------------------------------------------------------------------------------------------------
# Supervision
# --------------------------------------------------------------------------------------------------


def _teams(session: Session) -> list[Team]:
    teams, _cursor = org_service.team_list(session, include_inactive=False, cursor=None, limit=200)
    return teams


@router.get("/practice/supervision", response_class=HTMLResponse)
def supervision_page(
    request: Request,
    session: SessionDep,
    principal: SupervisionReader,
    team_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """For a manager, their team's overdue and due-soon supervision and case oversight; for
    everyone, their own supervision and the sessions they may see."""
    mine = supervision_service.my_supervision_due(session, actor=principal)
    team_choices: list[tuple[uuid.UUID, str]] = []
    due = None
    if principal.role is Role.service_manager:
        team_choices = [(t.id, t.name) for t in _teams(session)]
    elif principal.managed_team_ids:
        team_choices = [
            (t.id, t.name)
            for t in session.scalars(
                select(Team).where(Team.id.in_(principal.managed_team_ids)).order_by(Team.name)
            )
        ]
    chosen: uuid.UUID | None = None
    if team_id:
        chosen = path_id(team_id, "team")
    elif team_choices:
        chosen = team_choices[0][0]
    if chosen is not None:
        due = supervision_service.team_practice_due(session, actor=principal, team_id=chosen)
    sessions, _next = supervision_service.supervision_list(session, actor=principal, limit=20)
    names = supervision_service.staff_names(
        session, {s.worker_id for s in sessions} | {s.supervisor_id for s in sessions}
    )
    return render(
        request,
        "practice_supervision.html",
        {
            "title": "Supervision",
            "mine": mine,
            "due": due,
            "team_choices": team_choices,
            "chosen": chosen,
            "sessions": sessions,
            "names": names,
            "today": clock.today(),
        },
    )


SUPERVISION_LABELS: Final = {
    "worker_id": "the worker",
    "held_on": "the date of the session",
    "notes": "the notes",
    "wellbeing": "the wellbeing discussion",
}


def _supervisees(session: Session, principal: Principal) -> list[tuple[uuid.UUID, str]]:
    """Who the caller may supervise: the current members of the teams they manage (everyone
    in a team for a service manager), by name; the service decides in the end."""
    team_ids = (
        [t.id for t in _teams(session)]
        if principal.role is Role.service_manager
        else sorted(principal.managed_team_ids)
    )
    found: dict[uuid.UUID, str] = {}
    for tid in team_ids:
        for member in org_service.team_members(session, team_id=tid):
            if member.user_id != principal.user_id:
                found.setdefault(member.user_id, member.display_name)
    return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))


def _supervision_form(
    request: Request,
    session: Session,
    principal: Principal,
    worker_id: uuid.UUID | None,
    *,
    errors: FormErrors | None = None,
    values: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    workers = _supervisees(session, principal)
    worker_name = dict(workers).get(worker_id) if worker_id else None
    cases = (
        practice_reads.worker_open_cases(session, actor=principal, worker_id=worker_id).rows
        if worker_id is not None and worker_name is not None
        else []
    )
    return render(
        request,
        "practice_supervision_new.html",
        {
            "title": "Record a supervision session",
            "workers": workers,
            "worker_id": worker_id if worker_name else None,
            "worker_name": worker_name,
            "cases": cases,
            "errors": errors or FormErrors(),
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/practice/supervision/new", response_class=HTMLResponse)
def supervision_new(
    request: Request,
    session: SessionDep,
    principal: SupervisionWriter,
    worker_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """Choose the worker, then record the session with a decision for each of their cases."""
    chosen = path_id(worker_id, "worker") if worker_id else None
    return _supervision_form(request, session, principal, chosen)


@router.post("/practice/supervision/new", response_class=HTMLResponse)
async def supervision_create(
    request: Request, session: SessionDep, principal: SupervisionWriteForm
) -> Response:
    form = await request.form()
    values = form_values(form)
    worker = path_id(str(values["worker_id"]), "worker") if values.get("worker_id") else None
    # Each case's fieldset posts decision-<case id> and review_by-<case id>: the API's
    # case_decisions, in the order shown, only for cases with something decided.
    case_ids = [str(v) for v in form.getlist("case_id")]
    decisions: list[dict[str, Any]] = []
    index_of: dict[str, str] = {}
    errors = FormErrors()
    for case_id in case_ids:
        text = values.get(f"decision-{case_id}")
        review = values.get(f"review_by-{case_id}")
        if text is None and review is None:
            continue
        if text is None:
            errors.add(f"decision-{case_id}", "Enter the decision, or clear the review date")
            continue
        index_of[str(len(decisions))] = case_id
        decisions.append(
            {"case_id": case_id, "decision": text, **({"review_by": review} if review else {})}
        )
    body_values = {
        k: v for k, v in values.items() if k in ("worker_id", "held_on", "notes", "wellbeing")
    }
    body_values["case_decisions"] = decisions
    body, parsed = parse_form(SupervisionCreate, body_values, SUPERVISION_LABELS)
    for item in parsed.summary:
        errors.summary.append(item)
    errors.by_field.update(parsed.by_field)
    if body is None or errors:
        return _supervision_form(
            request,
            session,
            principal,
            worker,
            errors=_case_fields(errors, index_of),
            values=values,
            status_code=422,
        )
    try:
        supervision_service.supervision_record(
            session,
            actor=principal,
            worker_id=body.worker_id,
            supervisor_id=body.supervisor_id,
            held_on=body.held_on or clock.today(),
            notes=body.notes,
            wellbeing=body.wellbeing,
            case_decisions=[
                supervision_service.CaseDecision(
                    case_id=d.case_id, decision=d.decision, review_by=d.review_by
                )
                for d in body.case_decisions
            ],
        )
    except DomainError as exc:
        errors = _case_fields(refused_form(session, exc), index_of)
        return _supervision_form(
            request,
            session,
            principal,
            worker,
            errors=errors,
            values=values,
            status_code=errors.status,
        )
    return see_other("/practice/supervision", notice="supervision_recorded")


def _case_fields(errors: FormErrors, index_of: Mapping[str, str]) -> FormErrors:
    """The API names a decision's fields ``case_decisions.N.decision``; the form's fields are
    ``decision-<case id>``: point the summary and the messages at them."""
    out = FormErrors(status=errors.status)
    for item in errors.summary:
        href = item["href"]
        name = None
        if href.startswith("#case_decisions-"):
            _, index, *rest = href[1:].split("-")
            field_name = rest[0] if rest else "decision"
            field_name = "decision" if field_name == "case_id" else field_name
            case_id = index_of.get(index)
            if case_id:
                name = f"{field_name}-{case_id}"
        elif href != "#main":
            name = href[1:]
        out.add(name, item["text"])
    return out


# --------------------------------------------------------------------------------------------------
# Case file audits
# --------------------------------------------------------------------------------------------------


@router.get("/practice/audits", response_class=HTMLResponse)
def audits_page(request: Request, session: SessionDep, principal: AuditReader) -> HTMLResponse:
    """The caller's audits to do and those submitted by others for them to moderate; both lists
    come from the audits service (children they may not see are left out, and logged)."""
    mine = audit_service.case_audits_list(session, actor=principal, auditor_id=principal.user_id)
    to_do = [a for a in mine if a.state == ASSIGNED]
    done = [a for a in mine if a.state in (SUBMITTED, MODERATED)]
    moderate: list[CaseAudit] = []
    if any(
        t.event == MODERATE_EVENT
        for t in engine.allowed_events(CASE_AUDIT_MACHINE, SUBMITTED, principal.role)
    ) and _may(principal, "case_audit:write"):
        moderate = [
            a
            for a in audit_service.case_audits_list(session, actor=principal, state=SUBMITTED)
            if a.auditor_id != principal.user_id
        ]
    names = _names(session, [a.child_id for a in (*to_do, *done, *moderate)])
    return render(
        request,
        "practice_audits.html",
        {
            "title": "Case file audits",
            "to_do": to_do,
            "done": done,
            "moderate": moderate,
            "names": names,
            "states": AUDIT_STATES,
            "grades": GRADE_LABELS,
        },
    )


AUDIT_LABELS: Final = {
    "overall_grade": "the overall grade",
    "child_voice": "the child's lived experience and voice",
    "outcome": "whether you agree with the grade",
    "moderated_grade": "the adjusted grade",
    "reason": "why the grade is adjusted",
    "description": "what is to be done",
    "owner_id": "who will do it",
    "due_date": "the date it is due",
    "completion_note": "what was done",
}


def _audit_values(session: Session, audit: CaseAudit) -> dict[str, Any]:
    """What the auditor saved, as the form's fields."""
    values: dict[str, Any] = {
        name: getattr(audit, name)
        for name in ("overall_grade", "child_voice", "family_voice", "summary")
        if getattr(audit, name) is not None
    }
    for answer, question in audit_service.audit_answers(session, audit=audit):
        values[f"answers.{question.code}"] = answer.grade.value
        if answer.comment:
            values[f"comment.{question.code}"] = answer.comment
    if "overall_grade" in values:
        values["overall_grade"] = AuditGrade(values["overall_grade"]).value
    return values


def _audit_page(
    request: Request,
    session: Session,
    principal: Principal,
    audit_id: uuid.UUID,
    *,
    errors: FormErrors | None = None,
    values: Mapping[str, Any] | None = None,
    form: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    audit = audit_service.case_audit_get(session, actor=principal, audit_id=audit_id)
    tool = audit_service.audit_tool_get(session, tool_id=audit.tool_id)
    questions = audit_service.tool_questions(session, tool_id=audit.tool_id)
    themes: dict[str, list[Any]] = {}
    for question in questions:
        themes.setdefault(question.theme, []).append(question)
    child = session.get(Person, audit.child_id)
    assert child is not None  # a foreign key
    saved = _audit_values(session, audit)
    answers = {
        question.code: answer
        for answer, question in audit_service.audit_answers(session, audit=audit)
    }
    actions = [
        a
        for a in audit_service.audit_actions_for_case(
            session, actor=principal, case_id=audit.case_id
        )
        if a.audit_id == audit.id
    ]
    staff = supervision_service.staff_names(
        session,
        {audit.auditor_id, audit.moderator_id, *(a.owner_id for a in actions)},
    )
    writer = _may(principal, "case_audit:write")
    editable = writer and audit.state == ASSIGNED and audit.auditor_id == principal.user_id
    may_moderate = (
        writer
        and any(
            t.event == MODERATE_EVENT
            for t in engine.allowed_events(CASE_AUDIT_MACHINE, audit.state, principal.role)
        )
        and audit.auditor_id != principal.user_id
    )
    # Independence is the service's rule (it refuses with 403); asking it first lets the page
    # say why rather than offer a form that will be refused.
    conflict = (
        audit_service.auditor_conflict(
            session,
            case=case_service.case_visible(session, actor=principal, case_id=audit.case_id),
            user_id=principal.user_id,
        )
        if may_moderate
        else None
    )
    sets_actions = (
        writer
        and audit.state in (SUBMITTED, MODERATED)
        and principal.user_id in (audit.auditor_id, audit.moderator_id)
    )
    owners = (
        [
            (m.user_id, m.display_name)
            for m in org_service.team_members(session, team_id=audit.team_id)
        ]
        if sets_actions
        else []
    )
    completable = {
        a.id
        for a in actions
        if a.completed_date is None
        and _may(principal, "audit_action:complete")
        and audit_service.may_complete_action(session, actor=principal, action=a)
    }
    return render(
        request,
        "practice_audit.html",
        {
            "title": f"Case file audit: {child.first_name} {child.last_name}",
            "audit": audit,
            "tool": tool,
            "themes": themes,
            "answers": answers,
            "child": child,
            "staff": staff,
            "editable": editable,
            "may_moderate": may_moderate and conflict is None,
            "conflict": conflict,
            "sets_actions": sets_actions,
            "owners": owners,
            "actions": actions,
            "completable": completable,
            "action_status": {a.id: audit_service.audit_action_status(a).value for a in actions},
            "grades": GRADE_LABELS,
            "short": GRADE_SHORT,
            "states": AUDIT_STATES,
            "errors": errors or FormErrors(),
            "values": values if values is not None else saved,
            "form": form,
        },
        status_code=status_code,
    )


@router.get("/practice/audits/{audit_id}", response_class=HTMLResponse)
def audit_page(
    request: Request, session: SessionDep, principal: AuditReader, audit_id: str
) -> HTMLResponse:
    """The audit: the auditor's form generated from its tool while it is theirs to complete;
    then the findings, the moderation form for a second auditor, and the actions arising."""
    return _audit_page(request, session, principal, path_id(audit_id, "case file audit"))


def _answers_from(
    values: Mapping[str, Any], codes: list[str], errors: FormErrors
) -> list[dict[str, Any]]:
    """The form's grade radios (``answers.<code>``) and comments (``comment.<code>``) as the
    API's answers; a comment is kept only with a grade (the API's answer needs one)."""
    out = []
    for code in codes:
        grade = values.get(f"answers.{code}")
        comment = values.get(f"comment.{code}")
        if grade is None:
            if comment is not None:
                errors.add(
                    f"answers.{code}", f"Select a grade for question {code} to save its comment"
                )
            continue
        out.append({"question_code": code, "grade": grade, "comment": comment})
    return out


@router.post("/practice/audits/{audit_id}", response_class=HTMLResponse)
async def audit_save(
    request: Request, session: SessionDep, principal: AuditWriteForm, audit_id: str
) -> Response:
    """Save what the auditor has found so far (``action=save``) or save and submit it
    (``action=submit``): both through the audits service, which refuses a submitted audit
    (409), another auditor (403), a stale form (412) and a submission with anything missing."""
    audit_uuid = path_id(audit_id, "case file audit")
    form = await request.form()
    action = str(form.get("action") or "save")
    version = form_version(form) or 0
    values = form_values(form)
    audit = audit_service.case_audit_get(session, actor=principal, audit_id=audit_uuid)
    codes = [q.code for q in audit_service.tool_questions(session, tool_id=audit.tool_id)]
    errors = FormErrors()
    answers = _answers_from(values, codes, errors)
    sent = [a["question_code"] for a in answers]
    body, parsed = parse_form(
        CaseAuditUpdate, {"answers": answers, **_findings(values)}, AUDIT_LABELS
    )
    errors = _by_question(parsed, sent, errors)
    if body is None or errors:
        return _audit_page(
            request,
            session,
            principal,
            audit_uuid,
            errors=errors,
            values=values,
            form="audit",
            status_code=422,
        )
    try:
        saved = audit_service.audit_save(
            session,
            actor=principal,
            audit_id=audit_uuid,
            expected_version=version,
            answers=body.answers,
            # Every finding is on the form: an emptied box clears what was saved before.
            findings={name: getattr(body, name) for name in audit_service.FINDINGS},
        )
        if action == "submit":
            audit_service.audit_submit(
                session, actor=principal, audit_id=audit_uuid, expected_version=saved.version
            )
    except DomainError as exc:
        errors = _by_question(refused_form(session, exc), sent, FormErrors(status=exc.status))
        return _audit_page(
            request,
            session,
            principal,
            audit_uuid,
            errors=errors,
            values=values,
            form="audit",
            status_code=errors.status,
        )
    if action == "submit":
        return see_other(f"/practice/audits/{audit_uuid}", notice="case_audit_submitted")
    return see_other(f"/practice/audits/{audit_uuid}", notice="case_audit_saved")


def _findings(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: values.get(name) for name in audit_service.FINDINGS}


def _field_of(errors: FormErrors, anchor: str) -> str | None:
    """The field a summary link points at (None for the page as a whole)."""
    for name in errors.by_field:
        if name.replace(".", "-") == anchor:
            return name
    return None if anchor == "main" else anchor


def _by_question(errors: FormErrors, codes: list[str], into: FormErrors) -> FormErrors:
    """The schema and the service name an answer by its place in the list sent
    (``answers.0.grade``); the form names it by its question's code (``answers.V1``): point
    each message at the question's radios."""
    for item in errors.summary:
        name = _field_of(errors, item["href"][1:])
        parts = (name or "").split(".")
        if len(parts) >= 2 and parts[0] == "answers" and parts[1].isdigit():
            index = int(parts[1])
            name = f"answers.{codes[index]}" if index < len(codes) else None
        into.add(name, item["text"])
    return into


@router.post("/practice/audits/{audit_id}/moderate", response_class=HTMLResponse)
async def audit_moderate(
    request: Request, session: SessionDep, principal: AuditWriteForm, audit_id: str
) -> Response:
    """A second auditor agrees the grade or adjusts it with the reason (the service refuses
    the auditor themself, or anyone not independent of the case, with 403)."""
    audit_uuid = path_id(audit_id, "case file audit")
    form = await request.form()
    version = form_version(form) or 0
    values = form_values(form)
    if values.get("outcome") != "adjusted":
        values.pop("moderated_grade", None)  # the conditional question was not asked
    body, errors = parse_form(CaseAuditModerate, values, AUDIT_LABELS, choices=CHOICES)
    if body is None:
        return _audit_page(
            request,
            session,
            principal,
            audit_uuid,
            errors=errors,
            values=values,
            form="moderate",
            status_code=422,
        )
    try:
        audit_service.audit_moderate(
            session,
            actor=principal,
            audit_id=audit_uuid,
            expected_version=version,
            outcome=body.outcome,
            moderated_grade=body.moderated_grade,
            reason=body.reason,
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise  # not theirs to moderate: the GOV.UK error page says why
        errors = refused_form(session, exc)
        return _audit_page(
            request,
            session,
            principal,
            audit_uuid,
            errors=errors,
            values=values,
            form="moderate",
            status_code=errors.status,
        )
    return see_other(f"/practice/audits/{audit_uuid}", notice="case_audit_moderated")


@router.post("/practice/audits/{audit_id}/actions", response_class=HTMLResponse)
async def audit_action_create(
    request: Request, session: SessionDep, principal: AuditWriteForm, audit_id: str
) -> Response:
    """An action arising from the audit, with its owner and due date (timescales rule 38)."""
    audit_uuid = path_id(audit_id, "case file audit")
    values = form_values(await request.form())
    body, errors = parse_form(AuditActionCreate, values, AUDIT_LABELS, choices=CHOICES)
    if body is None:
        return _audit_page(
            request,
            session,
            principal,
            audit_uuid,
            errors=errors,
            values=values,
            form="action",
            status_code=422,
        )
    try:
        audit_service.audit_action_create(
            session,
            actor=principal,
            audit_id=audit_uuid,
            description=body.description,
            owner_id=body.owner_id,
            due_date=body.due_date,
        )
    except DomainError as exc:
        errors = refused_form(session, exc)
        return _audit_page(
            request,
            session,
            principal,
            audit_uuid,
            errors=errors,
            values=values,
            form="action",
            status_code=errors.status,
        )
    return see_other(f"/practice/audits/{audit_uuid}", notice="audit_action_set")


@router.post("/practice/audit-actions/{action_id}/complete", response_class=HTMLResponse)
async def audit_action_complete(
    request: Request, session: SessionDep, principal: ActionCompleteForm, action_id: str
) -> Response:
    """Record that an action arising from an audit was done today, and what was done."""
    action: AuditAction = audit_service.audit_action_get(
        session, actor=principal, action_id=path_id(action_id, "audit action")
    )
    form = await request.form()
    version = form_version(form) or 0
    values = form_values(form)
    body, errors = parse_form(AuditActionComplete, values, AUDIT_LABELS)
    if body is not None:
        try:
            audit_service.audit_action_complete(
                session,
                actor=principal,
                action_id=action.id,
                expected_version=version,
                completion_note=body.completion_note,
            )
        except DomainError as exc:
            errors = refused_form(session, exc)
    if errors:
        return _audit_page(
            request,
            session,
            principal,
            action.audit_id,
            errors=errors,
            values={**values, "action_id": str(action.id)},
            form="complete",
            status_code=errors.status,
        )
    return see_other(f"/practice/audits/{action.audit_id}", notice="audit_action_completed")


# --------------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------------

CHART_HEIGHT: Final = 200
BAR_WIDTH: Final = 36
BAR_GAP: Final = 14
CHART_LEFT: Final = 40


def _bars(by_month: list[Any]) -> dict[str, Any]:
    """A stacked column a month, each grade a rectangle in proportion to the most audits in any
    month: plain SVG attributes (the CSP forbids inline styles), colours from practice.css."""
    top = max((m.total for m in by_month), default=0) or 1
    columns = []
    for index, month in enumerate(by_month):
        x = CHART_LEFT + index * (BAR_WIDTH + BAR_GAP)
        y = CHART_HEIGHT
        parts = []
        for grade in month.grades:
            height = round(CHART_HEIGHT * grade.count / top)
            if height:
                y -= height
                parts.append(
                    {"grade": grade.grade.value, "y": y, "height": height, "count": grade.count}
                )
        columns.append({"x": x, "label": month.label[:3], "total": month.total, "parts": parts})
    return {
        "columns": columns,
        "top": top,
        "width": CHART_LEFT + len(by_month) * (BAR_WIDTH + BAR_GAP),
        "height": CHART_HEIGHT,
        "bar": BAR_WIDTH,
    }


def _period(month: date) -> findings_service.Period:
    return findings_service.period_of(add_months(month, 1 - measures.TREND_MONTHS), month)


@router.get("/practice/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    session: SessionDep,
    principal: FindingsReader,
    month: Annotated[str | None, Query(max_length=7)] = None,
    team_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The grades of the audits submitted in the month by team, and in the twelve months to it
    by month (chart and table), for the council or one team; links to the export."""
    first = measures.month_parse(month or None)
    team = path_id(team_id, "team") if team_id else None
    in_month = findings_service.audit_findings(
        session, actor=principal, period=findings_service.period_of(first, first), team_id=team
    )
    year = findings_service.audit_findings(
        session, actor=principal, period=_period(first), team_id=team
    )
    teams = _teams(session)
    return render(
        request,
        "practice_findings.html",
        {
            "title": "Case file audit findings",
            "month": first,
            "month_value": first.strftime("%Y-%m"),
            "from_value": _period(first).from_month.strftime("%Y-%m"),
            "team_id": team,
            "team_name": next((t.name for t in teams if t.id == team), None),
            "teams": teams,
            "in_month": in_month,
            "year": year,
            "chart": _bars(year.by_month),
            "grades": GRADE_LABELS,
        },
    )


@router.get("/practice/findings/export")
def findings_export(
    session: SessionDep,
    principal: FindingsReader,
    month: Annotated[str | None, Query(max_length=7)] = None,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    """The audits of the twelve months to ``month``, one a row, as the API's export (the same
    function, the same access logging)."""
    first = measures.month_parse(month or None)
    period = _period(first)
    export = findings_service.audit_findings_export(session, actor=principal, period=period)
    if format == "csv":
        content: bytes = findings_service.export_csv(export).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        content = findings_service.export_xlsx(export)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"case-file-audits-{period.from_month:%Y-%m}-to-{period.to_month:%Y-%m}.{format}"
    return Response(
        content=content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
