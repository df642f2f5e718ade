"""Child protection: strategy discussions, section 47 enquiries, conferences and CP plans.

The journey of Working Together to Safeguard Children 2023 (ch.4): a strategy discussion with
social care, police and health decides on a section 47 enquiry; the enquiry concludes that an
initial child protection conference is needed (within 15 working days of the discussion) or not;
the conference decides on a child protection plan with its category of abuse; review conferences
continue or end the plan. Each form here calls the same ``app.protection.service`` function as the
JSON API (``app/protection/api.py``), which holds every rule and moves the case as a consequence.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.api.deps import SessionDep
from app.cases import service as case_service
from app.cases.workflow import PROTECTION
from app.core_types import CategoryOfAbuse, ReasonForClosure
from app.errors import DomainError
from app.models.cases import Case
from app.models.protection import (
    Agency,
    ConferenceOutcome,
    DiscussionFormat,
    S47Enquiry,
    S47NextStep,
    S47Outcome,
)
from app.protection import service as protection_service
from app.protection.schemas import (
    InitialConferenceCreate,
    ReviewConferenceCreate,
    S47Conclude,
    S47EnquiryCreate,
    StrategyDiscussionCreate,
)
from app.protection.service import CaseProtection, CPPlanDetail
from app.protection.workflow import ACTIVE as PLAN_ACTIVE
from app.protection.workflow import CP_PLAN_MACHINE
from app.protection.workflow import OPEN as S47_OPEN
from app.security.access import may_change_case
from app.security.principal import Principal
from app.web import case_queries
from app.web.case_pages import (
    as_list,
    case_header,
    child_name_of,
    may_record,
    raw_values,
    refused,
)
from app.web.forms import (
    FormErrors,
    form_values,
    form_version,
    parse_form,
    path_id,
    see_other,
)
from app.web.notices import register
from app.web.security import web_form, web_permission
from app.web.templating import render
from app.workflow.engine import allowed_events

router = APIRouter(include_in_schema=False)

CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(web_form("case:write"))]

register(
    strategy_discussion_recorded="The strategy discussion has been recorded.",
    s47_started="The section 47 enquiry has started.",
    s47_concluded="The section 47 enquiry has been concluded.",
    conference_recorded="The conference and its decision have been recorded.",
    cp_plan_ended="The child protection plan has ended.",
)

#: Rows for participants on the strategy discussion form (it works without JavaScript, so the
#: rows are there from the start; blank rows are ignored).
PARTICIPANT_ROWS = 6
FIRST_AGENCIES = (Agency.social_care, Agency.police, Agency.health)

AGENCY_LABELS = {
    Agency.social_care: "Children's social care",
    Agency.police: "Police",
    Agency.health: "Health",
    Agency.education: "Education",
    Agency.other: "Other agency",
}
FORMAT_LABELS = {
    DiscussionFormat.meeting: "A meeting",
    DiscussionFormat.calls: "Phone or video calls",
}
OUTCOME_LABELS = {
    ConferenceOutcome.cp_plan: "A child protection plan",
    ConferenceOutcome.cin_plan: "A child in need plan",
    ConferenceOutcome.no_further_action: "No further action",
    ConferenceOutcome.continue_plan: "The plan continues",
    ConferenceOutcome.end_plan: "The plan ends",
}
S47_OUTCOME_LABELS = {
    S47Outcome.icpc_required: "An initial child protection conference is needed",
    S47Outcome.icpc_not_required: "No conference is needed",
}
S47_NEXT_LABELS = {
    S47NextStep.assessment: "The assessment continues",
    S47NextStep.cin_plan: "A child in need plan starts",
}

_PARTICIPANT_ERROR = re.compile(r"^participants\.(\d+)\.")


def _common(case: Case, session: Session) -> dict[str, Any]:
    return {
        **case_header(case, child_name_of(session, case)),
        "agencies": AGENCY_LABELS,
        "categories": list(CategoryOfAbuse),
        "reasons": list(ReasonForClosure),
    }


def _status(errors: FormErrors) -> int:
    return errors.status if errors else 200


# --------------------------------------------------------------------------------------------------
# Strategy discussion
# --------------------------------------------------------------------------------------------------

STRATEGY_LABELS = {
    "concern_date": "the date the concern arose",
    "held_date": "the date the discussion was held",
    "format": "how the discussion was held",
    "participants": "who took part",
    "concerns": "the concerns discussed",
    "start_s47": "whether a section 47 enquiry starts",
    "decision_reason": "why no section 47 enquiry starts",
}


def _strategy_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    values: dict[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    if not values:
        values = {f"participants-{n}-agency": a.value for n, a in enumerate(FIRST_AGENCIES)}
    return render(
        request,
        "strategy_new.html",
        {
            "title": "Record a strategy discussion",
            **_common(case, session),
            "formats": FORMAT_LABELS,
            # A discussion is recorded in protection, or where the case machine allows one to
            # start (start_strategy): otherwise the service would refuse the form.
            "writable": may_record(principal, case)
            and (
                case.state == PROTECTION
                or any(
                    t.event == "start_strategy"
                    for t in case_service.case_allowed_events(principal, case)
                )
            ),
            "rows": range(PARTICIPANT_ROWS),
            "values": values,
            "errors": errors,
        },
        status_code=_status(errors),
    )


def _participants(values: dict[str, Any]) -> tuple[list[dict[str, str]], list[int]]:
    """The filled rows as the API's participants, and the form row each came from."""
    rows, origin = [], []
    for n in range(PARTICIPANT_ROWS):
        row = {
            part: str(values.pop(f"participants-{n}-{part}", "")).strip()
            for part in ("agency", "name", "role")
        }
        if row["name"] or row["role"]:
            rows.append({k: v for k, v in row.items() if v})
            origin.append(n)
    return rows, origin


def _renumber(errors: FormErrors, origin: list[int]) -> FormErrors:
    """Errors on ``participants.<i>.<field>`` point at the form row the participant came from."""

    def fix(name: str) -> str:
        found = _PARTICIPANT_ERROR.match(name)
        if found is None or int(found[1]) >= len(origin):
            return name
        return f"participants.{origin[int(found[1])]}." + name[found.end() :]

    fixed = FormErrors(status=errors.status)
    for key, message in errors.by_field.items():
        fixed.by_field[fix(key)] = message
    for item in errors.summary:
        href = item["href"]
        found = re.match(r"^#participants-(\d+)-", href)
        if found is not None and int(found[1]) < len(origin):
            href = f"#participants-{origin[int(found[1])]}-" + href[found.end() :]
        fixed.summary.append({"text": item["text"], "href": href})
    return fixed


@router.get("/cases/{case_id}/strategy-discussions/new", response_class=HTMLResponse)
def strategy_form(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _strategy_page(request, session, principal, case, {})


@router.post("/cases/{case_id}/strategy-discussions/new", response_class=HTMLResponse)
async def strategy_record(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """Record the discussion and its decision; the service moves the case into ``protection``
    (``start_strategy``) and refuses a section 47 decision without police and health."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    form = await request.form()
    raw = raw_values(form)
    values = form_values(form)
    participants, origin = _participants(values)
    if participants:
        values["participants"] = participants  # none at all: "Enter who took part"
    if values.get("start_s47") == "true":
        values.pop("decision_reason", None)
    body, errors = parse_form(
        StrategyDiscussionCreate, values, STRATEGY_LABELS, choices={"format", "start_s47"}
    )
    errors = _renumber(errors, origin)
    if body is not None:
        try:
            protection_service.strategy_discussion_record(
                session, actor=principal, case_id=case.id, **dict(body)
            )
        except DomainError as exc:
            case, errors = refused(session, principal, case, exc)
    if errors:
        return _strategy_page(request, session, principal, case, raw, errors)
    if body is not None and body.start_s47:
        return see_other(f"/cases/{case.id}/section-47", notice="strategy_discussion_recorded")
    return see_other(f"/cases/{case.id}", notice="strategy_discussion_recorded")


# --------------------------------------------------------------------------------------------------
# Section 47 enquiry: start it, then conclude it
# --------------------------------------------------------------------------------------------------

S47_LABELS = {
    "strategy_discussion_id": "the strategy discussion",
    "start_date": "the date the enquiry started",
    "outcome": "the outcome of the enquiry",
    "reason": "the reason for the outcome",
    "concluded_date": "the date the enquiry concluded",
    "next_step": "what happens next",
}


def _open_enquiry(protection: CaseProtection) -> S47Enquiry | None:
    return next((e for e in protection.s47_enquiries if e.state == S47_OPEN), None)


def _startable_discussion(protection: CaseProtection) -> Any:
    """The latest discussion that decided on an enquiry not yet started."""
    started = {e.strategy_discussion_id for e in protection.s47_enquiries}
    waiting = [
        d for d in protection.strategy_discussions if d.is_s47_decided and d.id not in started
    ]
    return waiting[-1] if waiting else None


def _s47_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    values: dict[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    protection = protection_service.case_protection(session, actor=principal, case_id=case.id)
    enquiry = _open_enquiry(protection)
    return render(
        request,
        "s47_enquiry.html",
        {
            "title": "Section 47 enquiry",
            **_common(case, session),
            "protection": protection,
            "enquiry": enquiry,
            "discussion": None if enquiry is not None else _startable_discussion(protection),
            "writable": may_change_case(principal, case),
            "outcomes": S47_OUTCOME_LABELS,
            "next_steps": S47_NEXT_LABELS,
            "values": values,
            "version": values.get("version") or (enquiry.version if enquiry else ""),
            "errors": errors,
        },
        status_code=_status(errors),
    )


@router.get("/cases/{case_id}/section-47", response_class=HTMLResponse)
def s47_page(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _s47_page(request, session, principal, case, {})


@router.post("/cases/{case_id}/section-47", response_class=HTMLResponse)
async def s47_submit(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """``action=start``: start the enquiry a discussion decided on (the conference is due 15
    working days after the discussion). ``action=conclude``: conclude it with its outcome."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    form = await request.form()
    raw = raw_values(form)
    values = form_values(form)
    action = str(form.get("action") or "")
    target = f"/cases/{case.id}"
    notice = "s47_started"
    errors = FormErrors()
    try:
        if action == "start":
            start, errors = parse_form(S47EnquiryCreate, values, S47_LABELS)
            if start is not None:
                protection_service.s47_start(
                    session,
                    actor=principal,
                    case_id=case.id,
                    strategy_discussion_id=start.strategy_discussion_id,
                    start_date=start.start_date,
                )
                target += "/section-47"
        else:
            s47_id = path_id(str(values.pop("s47_id", "")), "section 47 enquiry")
            if values.get("outcome") != S47Outcome.icpc_not_required.value:
                values.pop("next_step", None)  # the follow-up question of "no conference"
            done, errors = parse_form(S47Conclude, values, S47_LABELS, choices={"outcome"})
            if done is not None:
                protection_service.s47_conclude(
                    session,
                    actor=principal,
                    s47_id=s47_id,
                    expected_version=form_version(form) or 0,
                    **dict(done),
                )
                notice = "s47_concluded"
                if done.outcome is S47Outcome.icpc_required:
                    target += "/conferences/new"
    except DomainError as exc:
        case, errors = refused(session, principal, case, exc)
    if errors:
        return _s47_page(request, session, principal, case, raw, errors)
    return see_other(target, notice=notice)


# --------------------------------------------------------------------------------------------------
# Conferences: the initial conference of a concluded enquiry, or a review of the active plan
# --------------------------------------------------------------------------------------------------

CONFERENCE_LABELS = {
    "conference_date": "the date of the conference",
    "chair": "the name of the chair",
    "agencies_present": "the agencies present",
    "outcome": "what the conference decided",
    "initial_category": "the category of abuse",
    "latest_category": "the category of abuse",
    "end_reason": "why the plan ends",
    "next_step": "what follows the plan",
    "closure_reason": "the reason for closure",
    "notes": "notes",
}


def _pending_enquiry(protection: CaseProtection) -> S47Enquiry | None:
    """The concluded enquiry that needs its initial conference, if any."""
    held = {c.s47_enquiry_id for c in protection.conferences}
    waiting = [
        e
        for e in protection.s47_enquiries
        if e.outcome is S47Outcome.icpc_required and e.id not in held
    ]
    return waiting[-1] if waiting else None


def _active_plan(protection: CaseProtection) -> CPPlanDetail | None:
    return next((d for d in protection.cp_plans if d.plan.state == PLAN_ACTIVE), None)


def _may_end(principal: Principal, case: Case, detail: CPPlanDetail | None) -> bool:
    """Whether the CP plan machine lets this caller end the plan now (and the case is theirs)."""
    if detail is None or not may_change_case(principal, case):
        return False
    events = allowed_events(CP_PLAN_MACHINE, detail.plan.state, principal.role)
    return any(t.event == "end" for t in events)


def _conference_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    values: dict[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    protection = protection_service.case_protection(session, actor=principal, case_id=case.id)
    enquiry = _pending_enquiry(protection)
    plan = None if enquiry is not None else _active_plan(protection)
    mode = "initial" if enquiry is not None else "review" if plan is not None else "none"
    outcomes = (
        [ConferenceOutcome.cp_plan, ConferenceOutcome.cin_plan, ConferenceOutcome.no_further_action]
        if mode == "initial"
        else [ConferenceOutcome.continue_plan, ConferenceOutcome.end_plan]
    )
    return render(
        request,
        "conference_new.html",
        {
            "title": (
                "Record the initial child protection conference"
                if mode == "initial"
                else "Record a review conference"
            ),
            **_common(case, session),
            "mode": mode,
            "enquiry": enquiry,
            "plan": plan.plan if plan else None,
            "writable": may_change_case(principal, case),
            "outcomes": [(o.value, OUTCOME_LABELS[o]) for o in outcomes],
            "values": values,
            "version": values.get("version") or (plan.plan.version if plan else ""),
            "errors": errors,
        },
        status_code=_status(errors),
    )


@router.get("/cases/{case_id}/conferences/new", response_class=HTMLResponse)
def conference_form(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _conference_page(request, session, principal, case, {})


def _conference_values(values: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    values["agencies_present"] = as_list(raw.get("agencies_present"))
    if not values["agencies_present"]:
        values.pop("agencies_present")
    return values


@router.post("/cases/{case_id}/conferences/new", response_class=HTMLResponse)
async def conference_record(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """The initial conference decides a CP plan (with its category), a CIN plan or no further
    action; a review conference continues the plan or ends it. The kind is the case's, not the
    form's: what the records say is due."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    protection = protection_service.case_protection(session, actor=principal, case_id=case.id)
    enquiry = _pending_enquiry(protection)
    plan = None if enquiry is not None else _active_plan(protection)
    form = await request.form()
    raw = raw_values(form)
    values = _conference_values(form_values(form, lists=frozenset({"agencies_present"})), raw)
    errors = FormErrors()
    conference_id: uuid.UUID | None = None
    try:
        if enquiry is not None:
            if values.get("outcome") != ConferenceOutcome.cp_plan.value:
                values.pop("initial_category", None)  # asked only with a plan
            initial, errors = parse_form(
                InitialConferenceCreate,
                values,
                CONFERENCE_LABELS,
                choices={"outcome", "agencies_present"},
            )
            if initial is not None:
                conference, _plan = protection_service.icpc_record(
                    session, actor=principal, s47_id=enquiry.id, **dict(initial)
                )
                conference_id = conference.id
        elif plan is not None:
            conference_id, errors = _review(session, principal, plan, values, form_version(form))
        else:
            errors.add(None, "There is no conference to record on this case now.")
            errors.status = 409
    except DomainError as exc:
        case, errors = refused(session, principal, case, exc)
    if errors or conference_id is None:
        return _conference_page(request, session, principal, case, raw, errors)
    return see_other(f"/conferences/{conference_id}", notice="conference_recorded")


def _review(
    session: Session,
    principal: Principal,
    plan: CPPlanDetail,
    values: dict[str, Any],
    version: int | None,
) -> tuple[uuid.UUID | None, FormErrors]:
    """A review conference through the service (the plan's version is the If-Match)."""
    if values.get("outcome") != ConferenceOutcome.end_plan.value:
        for name in ("end_reason", "next_step", "closure_reason"):
            values.pop(name, None)  # the follow-up questions of ending the plan
    elif values.get("next_step") != "close":
        values.pop("closure_reason", None)
    review, errors = parse_form(
        ReviewConferenceCreate, values, CONFERENCE_LABELS, choices={"outcome", "agencies_present"}
    )
    if review is None:
        return None, errors
    conference, _plan = protection_service.review_conference_record(
        session,
        actor=principal,
        plan_id=plan.plan.id,
        expected_version=version or 0,
        **dict(review),
    )
    return conference.id, errors


@router.get("/conferences/{conference_id}", response_class=HTMLResponse)
def conference_page(
    request: Request, session: SessionDep, principal: CaseReader, conference_id: str
) -> HTMLResponse:
    """A conference and its decision (recorded with it, in one step, by the service)."""
    conference = case_queries.conference_get(
        session, actor=principal, conference_id=path_id(conference_id, "conference")
    )
    case = session.get(Case, conference.case_id)
    assert case is not None  # a foreign key
    return render(
        request,
        "conference_view.html",
        {
            "title": (
                "Initial child protection conference"
                if conference.kind.value == "initial"
                else "Review child protection conference"
            ),
            **_common(case, session),
            "conference": conference,
            "outcome_label": OUTCOME_LABELS[conference.outcome],
            "category_label": CategoryOfAbuse(conference.category).label
            if conference.category
            else None,
            "agency_names": [AGENCY_LABELS[Agency(a)] for a in conference.agencies_present],
        },
    )


# --------------------------------------------------------------------------------------------------
# The child protection plan
# --------------------------------------------------------------------------------------------------


def _plan_page(
    request: Request,
    session: Session,
    principal: Principal,
    case: Case,
    values: dict[str, Any],
    errors: FormErrors | None = None,
) -> HTMLResponse:
    errors = errors or FormErrors()
    protection = protection_service.case_protection(session, actor=principal, case_id=case.id)
    detail = _active_plan(protection) or (protection.cp_plans[-1] if protection.cp_plans else None)
    return render(
        request,
        "cp_plan.html",
        {
            "title": "Child protection plan",
            **_common(case, session),
            "detail": detail,
            "pending_enquiry": _pending_enquiry(protection),
            "open_enquiry": _open_enquiry(protection),
            "may_end": _may_end(principal, case, detail),
            "outcome_labels": OUTCOME_LABELS,
            "category_label": lambda code: CategoryOfAbuse(code).label,
            "values": values,
            "version": values.get("version") or (detail.plan.version if detail else ""),
            "errors": errors,
        },
        status_code=_status(errors),
    )


@router.get("/cases/{case_id}/cp-plan", response_class=HTMLResponse)
def cp_plan_page(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    """The case's plan (the active one, else the latest), its core groups, visits and reviews;
    where there is none yet, how one starts (at the initial conference)."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    return _plan_page(request, session, principal, case, {})


@router.post("/cases/{case_id}/cp-plan", response_class=HTMLResponse)
async def cp_plan_end(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> Response:
    """End the plan: only a review conference ends a CP plan (Working Together 2023 ch.4), so
    this records one with the outcome ``end_plan`` and what follows (a CIN plan, or closure by a
    team manager)."""
    case = case_service.case_get(session, actor=principal, case_id=path_id(case_id, "case"))
    protection = protection_service.case_protection(session, actor=principal, case_id=case.id)
    detail = _active_plan(protection)
    form = await request.form()
    raw = raw_values(form)
    values = _conference_values(form_values(form, lists=frozenset({"agencies_present"})), raw)
    values["outcome"] = ConferenceOutcome.end_plan.value
    errors = FormErrors()
    if detail is None:
        errors.add(None, "This case has no active child protection plan to end.")
        errors.status = 409
        return _plan_page(request, session, principal, case, raw, errors)
    try:
        conference_id, errors = _review(session, principal, detail, values, form_version(form))
    except DomainError as exc:
        case, errors = refused(session, principal, case, exc)
        conference_id = None
    if errors or conference_id is None:
        return _plan_page(request, session, principal, case, raw, errors)
    return see_other(f"/cases/{case.id}/cp-plan", notice="cp_plan_ended")
