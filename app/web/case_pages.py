"""A case: its overview with the next steps its state machine allows, visits, notes, closure.

Every read and write goes through the services the JSON API uses (``app.cases.service``,
``app.visits.service``, ``app.casenotes.service``, ``app.protection.service``): those check that
the caller may see the child (404 otherwise) and may change the case (403), and hold every rule.
The pages only turn forms into the API's schemas and the services' refusals into GOV.UK errors.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep
from app.calendar import LONDON
from app.care import service as care_service
from app.casenotes import service as note_service
from app.casenotes.schemas import CaseNoteCreate
from app.cases import service as case_service
from app.cases.schemas import TransitionRequest
from app.cases.workflow import CLOSED, PROTECTION
from app.core_types import CategoryOfAbuse, ReasonForClosure
from app.deadlines import rules
from app.errors import DomainError
from app.models.casenotes import VISIT_KINDS, CaseNoteKind
from app.models.cases import Case
from app.models.deadlines import Deadline
from app.models.org import Role
from app.protection import service as protection_service
from app.protection.schemas import CPVisitCreate
from app.protection.workflow import ACTIVE as PLAN_ACTIVE
from app.security.access import may_change_case
from app.security.principal import Principal
from app.visits import service as visit_service
from app.visits.schemas import StatutoryVisitCreate
from app.web import case_queries
from app.web.drafts import draft_discard, draft_for
from app.web.forms import (
    FormErrors,
    form_values,
    form_version,
    parse_form,
    path_id,
    refused_form,
    see_other,
)
from app.web.notices import register
from app.web.security import web_form, web_permission
from app.web.templating import render

router = APIRouter(include_in_schema=False)

CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(web_form("case:write"))]

register(
    case_visit_recorded="The visit has been recorded.",
    case_note_recorded="The case note has been saved.",
    case_closed="The case has been closed.",
)

#: The case's states as people say them.
STATE_LABELS = {
    "contact": "Contact",
    "referral": "Referral",
    "assessment": "Assessment",
    "protection": "Child protection enquiry",
    "cin_plan": "Child in need plan",
    "cp_plan": "Child protection plan",
    "looked_after": "Looked after",
    "care_leaver": "Care leaver",
    "closed": "Closed",
}

NOTE_KIND_LABELS = {
    CaseNoteKind.home_visit: "Home visit",
    CaseNoteKind.office_visit: "Office visit",
    CaseNoteKind.phone: "Phone call",
    CaseNoteKind.meeting: "Meeting",
    CaseNoteKind.management_oversight: "Management oversight",
    CaseNoteKind.supervision: "Supervision",
    CaseNoteKind.other: "Other",
}

_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


# --------------------------------------------------------------------------------------------------
# Shared by the case and protection pages
# --------------------------------------------------------------------------------------------------


def raw_values(form: FormData) -> dict[str, Any]:
    """What was typed, by field name, to fill the form again (repeated fields as lists)."""
    out: dict[str, Any] = {}
    for key in form:
        if key in ("csrf_token",):
            continue
        values = [str(v) for v in form.getlist(key)]
        out[key] = values if len(values) > 1 else values[0]
    return out


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def refused(
    session: Session, principal: Principal, case: Case, exc: DomainError
) -> tuple[Case, FormErrors]:
    """:func:`~app.web.forms.refused_form`, then the case read again through the service: the
    rollback also undid the access-log line of the first read, and the page about to be shown is
    a read of the child."""
    case_id = case.id
    errors = refused_form(session, exc)
    return case_service.case_get(session, actor=principal, case_id=case_id), errors


def may_record(principal: Principal, case: Case) -> bool:
    """Whether to show a form that records work on the case: the case service's rule (its team,
    its worker, a manager) and an open case (nothing is recorded after closure)."""
    return may_change_case(principal, case) and case.state != CLOSED


@dataclass(frozen=True)
class NextStep:
    event: str
    text: str
    href: str | None
    hint: str = ""


def next_steps(case: Case, principal: Principal, contact_id: uuid.UUID | None) -> list[NextStep]:
    """A link for each event the case machine allows this caller from the case's state (the case
    service's answer: nothing on another team's case), to the form that takes it."""
    base = f"/cases/{case.id}"
    contact = f"/front-door/contacts/{contact_id}" if contact_id else "/front-door"
    forms: dict[str, tuple[str, str | None]] = {
        "accept_referral": ("Accept the contact as a referral", contact),
        "nfa_contact": ("Decide no further action on the contact", contact),
        "referral_nfa": ("Decide no further action on the referral", f"{base}/referral"),
        "start_assessment": ("Start a child and family assessment", f"{base}/assessments/new"),
        "start_strategy": ("Record a strategy discussion", f"{base}/strategy-discussions/new"),
        "conclude_enquiry": ("Section 47 enquiry: start or conclude it", f"{base}/section-47"),
        "start_cin_plan": ("Start a child in need plan", f"{base}/cin-plan"),
        "start_cp_plan": ("Child protection plan", f"{base}/cp-plan"),
        "become_looked_after": ("Start a period of care", f"{base}/looked-after/new"),
        "become_care_leaver": ("Record that the young person is a care leaver", None),
        "close": ("Close the case", f"{base}/close"),
    }
    steps = []
    for transition in case_service.case_allowed_events(principal, case):
        text, href = forms.get(transition.event, (transition.description, None))
        hint = "" if href else "This is recorded through the API; the web form is not built yet."
        steps.append(NextStep(transition.event, text, href, hint))
    return steps


def case_header(case: Case, child_name: str) -> dict[str, Any]:
    return {
        "case": case,
        "child_name": child_name,
        "state_label": STATE_LABELS.get(case.state, case.state),
    }


def child_name_of(session: Session, case: Case) -> str:
    """The child's name for a page heading (the case service has already allowed the read)."""
    from app.models.people import Person

    child = session.get(Person, case.child_id)
    return f"{child.first_name} {child.last_name}" if child is not None else ""


def first_name_of(session: Session, case: Case) -> str:
    from app.models.people import Person

    child = session.get(Person, case.child_id)
    return child.first_name if child is not None else ""


# --------------------------------------------------------------------------------------------------
# The case overview
# --------------------------------------------------------------------------------------------------


def _deadline_text(deadline: Deadline) -> str:
    """What is due, in the words of the rule that opened it (as My work says it)."""
    known = rules.all_rules().get(deadline.kind)
    if known is not None and known.rule_id == deadline.rule_id:
        return known.description
    return deadline.kind.value.replace("_", " ").capitalize()


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    """The case: child, state, team and worker, plans, open deadlines, what can happen next."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    overview = case_queries.case_overview(session, actor=principal, case=case)
    protection = protection_service.case_protection(session, actor=principal, case_id=case.id)
    writable = may_change_case(principal, case) and case.state != CLOSED
    child = overview.child
    pending_icpc = [
        e
        for e in protection.s47_enquiries
        if e.outcome is not None
        and e.outcome.value == "icpc_required"
        and not any(c.s47_enquiry_id == e.id for c in protection.conferences)
    ]
    return render(
        request,
        "case_overview.html",
        {
            "title": f"Case: {child.first_name} {child.last_name}",
            **case_header(case, f"{child.first_name} {child.last_name}"),
            "overview": overview,
            "protection": protection,
            "next_steps": next_steps(case, principal, overview.contact_id),
            "writable": writable and principal.role is not Role.integration_client,
            "in_protection": case.state == PROTECTION,
            "pending_icpc": pending_icpc,
            "open_cin_plans": [p for p in overview.cin_plans if p.end_date is None],
            "open_cp_plans": [d for d in protection.cp_plans if d.plan.state == PLAN_ACTIVE],
            "category_label": lambda code: CategoryOfAbuse(code).label,
            "closure_label": lambda code: ReasonForClosure(code).label,
            "today": clock.today(),
            "deadline_text": _deadline_text,
        },
    )


# --------------------------------------------------------------------------------------------------
# Visits: to a child on a CP plan (Working Together ch.4) or a looked-after child (reg 28)
# --------------------------------------------------------------------------------------------------

VISIT_LABELS = {
    "visit_date": "the date of the visit",
    "child_seen": "whether the child was seen",
    "seen_alone": "whether the child was seen alone",
    "bedroom_seen": "whether the child's bedroom was seen",
    "visited_by_name": "the name of the visitor",
    "notes": "notes",
}


def _visit_target(
    session: Session, principal: Principal, case: Case
) -> tuple[str, uuid.UUID | None]:
    plans = protection_service.case_protection(session, actor=principal, case_id=case.id).cp_plans
    active = [d.plan for d in plans if d.plan.state == PLAN_ACTIVE]
    if active:
        return "cp", active[0].id
    period = care_service.open_period(session, child_id=case.child_id)
    if period is not None and period.case_id == case.id:
        return "care", period.id
    return "none", None


def _visit_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    kind: str,
    values: dict[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    return render(
        request,
        "visit_new.html",
        {
            "title": "Record a visit",
            **case_header(case, child_name_of(session, case)),
            "kind": kind,
            "writable": may_record(principal, case),
            "values": values,
            "errors": errors,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/cases/{case_id}/visits/new", response_class=HTMLResponse)
def visit_form(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    kind, _target = _visit_target(session, principal, case)
    return _visit_page(request, session, principal, case, kind, {})


@router.post("/cases/{case_id}/visits/new", response_class=HTMLResponse)
async def visit_record(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """A visit to a child on a CP plan goes on the plan (its 10-working-day clock); a visit to a
    looked-after child is a statutory visit (Care Planning Regulations 2010, reg 28)."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    kind, target = _visit_target(session, principal, case)
    form = await request.form()
    raw = raw_values(form)
    values = form_values(form)
    errors = FormErrors()
    try:
        if kind == "cp":
            values.pop("bedroom_seen", None)
            values.pop("is_unannounced", None)
            body, errors = parse_form(CPVisitCreate, values, VISIT_LABELS, choices={"child_seen"})
            if body is not None:
                assert target is not None
                protection_service.cp_visit_record(
                    session, actor=principal, plan_id=target, **dict(body)
                )
        else:
            values.pop("visited_by_name", None)
            sv_body, errors = parse_form(
                StatutoryVisitCreate, values, VISIT_LABELS, choices={"child_seen"}
            )
            if sv_body is not None:
                # No CP plan and no period of care: the visits service refuses (not looked after).
                visit_service.visit_record(
                    session,
                    actor=principal,
                    child_id=case.child_id,
                    visit_date=sv_body.visit_date or clock.today(),
                    child_seen=sv_body.child_seen,
                    seen_alone=sv_body.seen_alone,
                    bedroom_seen=sv_body.bedroom_seen,
                    is_unannounced=sv_body.is_unannounced,
                    notes=sv_body.notes,
                )
    except DomainError as exc:
        case, errors = refused(session, principal, case, exc)
    if errors:
        return _visit_page(request, session, principal, case, kind, raw, errors)
    return see_other(f"/cases/{case.id}", notice="case_visit_recorded")


# --------------------------------------------------------------------------------------------------
# Case notes (autosaved as form drafts while they are typed)
# --------------------------------------------------------------------------------------------------

NOTE_LABELS = {
    "kind": "what kind of contact it was",
    "occurred_at": "the date of the contact",
    "title": "a title for the note",
    "body": "the note",
    "child_seen": "whether the child was seen",
    "seen_alone": "whether the child was seen alone",
    "bedroom_seen": "whether the child's bedroom was seen",
}


def _note_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    values: dict[str, Any],
    errors: FormErrors | None = None,
    restored_at: Any = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    return render(
        request,
        "note_new.html",
        {
            "title": "Write a case note",
            **case_header(case, child_name_of(session, case)),
            "first_name": first_name_of(session, case),
            "kinds": NOTE_KIND_LABELS,
            "visit_kinds": [k.value for k in VISIT_KINDS],
            "values": values,
            "errors": errors,
            "restored_at": restored_at,
            "writable": may_record(principal, case),
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/cases/{case_id}/notes/new", response_class=HTMLResponse)
def note_form(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    """The note form, filled from the caller's own draft of it if one was kept (read only after
    the case service has allowed the case: a draft never outlives access to the child)."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    draft = draft_for(session, actor=principal, form_path=request.url.path)
    if draft is not None:
        return _note_page(
            request, session, principal, case, draft.data, restored_at=draft.last_saved_at
        )
    now = clock.now().astimezone(LONDON)
    values = {
        "occurred_at-day": str(now.day),
        "occurred_at-month": str(now.month),
        "occurred_at-year": str(now.year),
        "occurred_time": f"{now:%H:%M}",
    }
    return _note_page(request, session, principal, case, values)


@router.post("/cases/{case_id}/notes/new", response_class=HTMLResponse)
async def note_record(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """Save a finished note (the notes machine's ``case_note_recorded``, as the API's
    ``finalise``): it joins the child's chronology and is never changed again."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    form = await request.form()
    raw = raw_values(form)
    values = form_values(form)
    time_typed = str(values.pop("occurred_time", "")).strip()
    time_error = None
    if "occurred_at" in values:
        match = _TIME.match(time_typed)
        if not time_typed:
            time_error = "Enter the time of the contact"
        elif match is None or int(match[1]) > 23 or int(match[2]) > 59:
            time_error = "Enter the time of the contact as hours and minutes, like 14:30"
        else:
            values["occurred_at"] = f"{values['occurred_at']}T{int(match[1]):02d}:{match[2]}"
    if values.get("kind") not in {k.value for k in VISIT_KINDS}:
        # The visit questions are hidden for other kinds; answers left in them are not sent.
        for name in ("child_seen", "seen_alone", "bedroom_seen"):
            values.pop(name, None)
    values["finalise"] = True
    body, errors = parse_form(CaseNoteCreate, values, NOTE_LABELS, choices={"kind"})
    if time_error:
        errors.add("occurred_time", time_error)
    if body is not None and not errors:
        try:
            note_service.note_create(
                session,
                actor=principal,
                case_id=case.id,
                content=note_service.NoteContent(
                    kind=body.kind,
                    occurred_at=body.occurred_at,
                    title=body.title,
                    body=body.body,
                    child_seen=body.child_seen,
                    seen_alone=body.seen_alone,
                    bedroom_seen=body.bedroom_seen,
                ),
                finalise=True,
            )
            draft_discard(session, actor=principal, form_path=request.url.path)
        except DomainError as exc:
            case, errors = refused(session, principal, case, exc)
    if errors:
        return _note_page(request, session, principal, case, raw, errors)
    return see_other(f"/cases/{case.id}", notice="case_note_recorded")


# --------------------------------------------------------------------------------------------------
# Closing the case (CIN census reason for closure, RC1-RC9)
# --------------------------------------------------------------------------------------------------


def _close_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    values: dict[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    allowed = any(t.event == "close" for t in case_service.case_allowed_events(principal, case))
    return render(
        request,
        "closure_new.html",
        {
            "title": "Close the case",
            **case_header(case, child_name_of(session, case)),
            "allowed": allowed,
            "reasons": list(ReasonForClosure),
            "values": values,
            "version": values.get("version") or case.version,
            "errors": errors,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/cases/{case_id}/close", response_class=HTMLResponse)
def close_form(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _close_page(request, session, principal, case, {})


@router.post("/cases/{case_id}/close", response_class=HTMLResponse)
async def close_case(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """The case machine's ``close``: a reason for closure and why; from assessment onwards a team
    manager authorises it, and never around an active CP plan or a child still looked after."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    form = await request.form()
    raw = raw_values(form)
    values = form_values(form)
    data = {"closure_reason": values["closure_reason"]} if "closure_reason" in values else {}
    body, errors = parse_form(
        TransitionRequest,
        {"event": "close", "reason": values.get("reason"), "data": data},
        {"reason": "why the case is closing"},
    )
    if body is not None:
        try:
            case_service.case_transition(
                session,
                actor=principal,
                case_id=case.id,
                event=body.event,
                expected_version=form_version(form) or 0,
                reason=body.reason,
                data=body.data,
            )
        except DomainError as exc:
            case, errors = refused(session, principal, case, exc)
    if errors:
        return _close_page(request, session, principal, case, raw, errors)
    return see_other(f"/cases/{case.id}", notice="case_closed")
