"""Referral decisions, assessments (factors, submission, authorisation) and CIN plans.

Each page calls the service its API route calls (``app/referrals/api.py``,
``app/assessments/api.py``, ``app/cin/api.py``) with the API's own schema, and offers only the
next steps the state machines allow the caller. The assessment form keeps a per-user draft
while it is typed (``app.web.drafts``): an autosave never touches the assessment itself, so the
version check (the API's If-Match) stays the guard against overwriting a colleague's work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from app import clock
from app.api.deps import SessionDep
from app.assessments import service as assessment_service
from app.assessments.factors import FACTOR_LABELS, AssessmentFactor
from app.assessments.schemas import (
    AssessmentAuthorise,
    AssessmentCreate,
    AssessmentReturn,
    AssessmentUpdate,
    ChildSeenCreate,
)
from app.assessments.workflow import IN_PROGRESS, SUBMITTED
from app.cases import service as case_service
from app.cin import service as cin_service
from app.cin.schemas import CINPlanCreate
from app.cin.workflow import ACTIVE as CIN_ACTIVE
from app.deadlines import service as deadline_service
from app.errors import DomainError, NotFound
from app.models.assessments import Assessment, AssessmentOutcome
from app.models.cases import Case
from app.models.cin import CINPlan
from app.models.frontdoor import ReferralDecision
from app.models.people import Person
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralDecisionIn
from app.referrals.workflow import AWAITING_DECISION, CASE_EVENT_FOR, REFERRAL_MACHINE
from app.security.principal import Principal
from app.web.drafts import DraftView, draft_discard, draft_for
from app.web.forms import (
    FormErrors,
    date_parts,
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
from app.workflow import engine

router = APIRouter(include_in_schema=False)

# The API routes' own permissions.
CaseReader = Annotated[Principal, Depends(web_permission("case:read"))]
CaseWriter = Annotated[Principal, Depends(web_permission("case:write"))]
CaseWriterForm = Annotated[Principal, Depends(web_form("case:write"))]
AuthoriserForm = Annotated[Principal, Depends(web_form("assessment:authorise"))]

register(
    referral_decided="The referral decision has been saved.",
    assessment_started="The assessment has been started.",
    assessment_saved="The assessment draft has been saved.",
    assessment_submitted="The assessment has been submitted for authorisation.",
    assessment_authorised="The assessment has been authorised.",
    assessment_returned="The assessment has been returned to its author.",
    child_seen_added="The date the child was seen has been added.",
    cin_plan_started="The child in need plan has started.",
)

NO_REFERRAL = "There is no referral on this case that you can see."

REFERRAL_DECISION_LABELS: dict[ReferralDecision, str] = {
    ReferralDecision.assessment: "Child and family assessment",
    ReferralDecision.strategy_discussion: "Strategy discussion",
    ReferralDecision.no_further_action: "No further action",
}
OUTCOME_LABELS: dict[AssessmentOutcome, str] = {
    AssessmentOutcome.cin_plan: "Child in need plan",
    AssessmentOutcome.strategy_discussion: "Strategy discussion",
    AssessmentOutcome.looked_after: "Looked after",
    AssessmentOutcome.early_help: "Step down to early help",
    AssessmentOutcome.no_further_action: "No further action",
}

#: The factors as the form groups them (the DfE codes are the closed list in factors.py).
FACTOR_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Parents, carers and the household",
        tuple(f"{n}{w}" for n in range(1, 7) for w in "ABC"),
    ),
    ("Abuse and neglect", ("16A", "17A", "18B", "18C", "19B", "19C", "22A", "23A")),
    (
        "Risks to the child outside the home",
        ("9A", "10A", "11A", "12A", "13A", "14A", "15A", "24A"),
    ),
    ("Caring and private fostering", ("7A", "8B", "8C", "8D", "8E", "8F")),
    ("Other", ("20", "21")),
)
if sorted(c for _, codes in FACTOR_GROUPS for c in codes) != sorted(
    f.value for f in AssessmentFactor
):  # fail at import, not at render: every factor appears once
    raise RuntimeError("the assessment form's factor groups do not match the factor codes")

ASSESSMENT_LABELS = {
    "start_date": "the date the assessment started",
    "summary_of_needs": "the summary of needs",
    "analysis": "the analysis",
    "child_views": "the child's views",
    "factors": "the factors identified",
    "seen_date": "the date the child was seen",
    "outcome": "the outcome",
    "comments": "your comments",
    "authorised_date": "the date of authorisation",
}


def _case_and_child(session: Session, *, actor: Principal, case_id: str) -> tuple[Case, Person]:
    """The case and its child, through the case service's read (404, access-logged)."""
    case = case_service.case_get(session, actor=actor, case_id=path_id(case_id, "case"))
    child = session.get(Person, case.child_id)  # loaded by the read above
    assert child is not None
    return case, child


def _case_events(actor: Principal, case: Case) -> set[str]:
    return {t.event for t in case_service.case_allowed_events(actor, case)}


# --------------------------------------------------------------------------------------------------
# The referral decision (timescales rule 2)
# --------------------------------------------------------------------------------------------------


def _referral_view(
    session: Session, *, actor: Principal, case: Case
) -> referral_service.ReferralView:
    """The case's referral (one per case), through the referrals service's list for the child."""
    views, _next = referral_service.referral_list(
        session, actor=actor, child_id=case.child_id, limit=200
    )
    for view in views:
        if view.referral.case_id == case.id:
            return view
    raise NotFound(NO_REFERRAL)


def _referral_page(
    request: Request,
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case, child = _case_and_child(session, actor=principal, case_id=case_id)
    view = _referral_view(session, actor=principal, case=case)
    referral = view.referral
    decisions: list[tuple[ReferralDecision, str]] = []
    machine = {
        t.event for t in engine.allowed_events(REFERRAL_MACHINE, referral.state, principal.role)
    }
    if referral.state == AWAITING_DECISION and "decide" in machine:
        # Only the decisions whose case event the caller may take now (the service's own check).
        case_events = _case_events(principal, case)
        decisions = [
            (d, label)
            for d, label in REFERRAL_DECISION_LABELS.items()
            if CASE_EVENT_FOR[d] in case_events
        ]
    deadline = view.decision_deadline
    status = (
        deadline_service.deadline_status(deadline, clock.today(), now=clock.now())
        if deadline is not None
        else None
    )
    return render(
        request,
        "referral_decision.html",
        {
            "title": f"Referral of {child.first_name} {child.last_name}",
            "case": case,
            "child": child,
            "referral": referral,
            "deadline": deadline,
            "deadline_status": status,
            "decisions": decisions,
            "decision_labels": REFERRAL_DECISION_LABELS,
            "values": values or {},
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}/referral", response_class=HTMLResponse)
def referral_page(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    """The referral, its rule-2 deadline, and the decision on the type of response."""
    return _referral_page(request, session, principal, case_id)


@router.post("/cases/{case_id}/referral", response_class=HTMLResponse)
async def referral_decide(
    request: Request, session: SessionDep, principal: CaseWriterForm, case_id: str
) -> Response:
    """Decide through ``referral_service.referral_decide``: the case moves with the decision."""
    form = await request.form()
    values = form_values(form)
    case, _child = _case_and_child(session, actor=principal, case_id=case_id)
    referral = _referral_view(session, actor=principal, case=case).referral
    data, errors = parse_form(
        ReferralDecisionIn, values, {"decision": "the decision", "reason": "the reason"}
    )
    if data is not None:
        try:
            referral_service.referral_decide(
                session,
                actor=principal,
                referral_id=referral.id,
                expected_version=form_version(form) or 0,
                decision=data.decision,
                reason=data.reason,
            )
        except DomainError as exc:
            errors = refused_form(session, exc)
        else:
            return see_other(f"/cases/{case.id}/referral", notice="referral_decided")
    return _referral_page(
        request,
        session,
        principal,
        case_id,
        values=values,
        errors=errors,
        status_code=errors.status,
    )


# --------------------------------------------------------------------------------------------------
# The assessment form
# --------------------------------------------------------------------------------------------------


def _factor_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    return [(name, [(c, FACTOR_LABELS[c]) for c in codes]) for name, codes in FACTOR_GROUPS]


def _draft_values(draft: DraftView | None) -> dict[str, Any] | None:
    """A draft's fields as the form's values (the date boxes folded as ``form_values`` does)."""
    if draft is None:
        return None
    data = dict(draft.data)
    parts = {p: str(data.pop(f"start_date-{p}", "") or "") for p in ("day", "month", "year")}
    if any(parts.values()):
        data["start_date"] = f"{parts['year']}-{parts['month']}-{parts['day']}"
    factors = data.get("factors", [])
    data["factors"] = factors if isinstance(factors, list) else [factors]
    return data


def _record_values(assessment: Assessment) -> dict[str, Any]:
    return {
        "start_date": assessment.start_date.isoformat(),
        "summary_of_needs": assessment.summary_of_needs or "",
        "analysis": assessment.analysis or "",
        "child_views": assessment.child_views or "",
        "factors": list(assessment.factors),
    }


def _form_context(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "values": values,
        "start": date_parts(values.get("start_date")),
        "factor_groups": _factor_groups(),
        "chosen_factors": set(values.get("factors") or []),
    }


def _new_page(
    request: Request,
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case, child = _case_and_child(session, actor=principal, case_id=case_id)
    draft = None
    if values is None:
        draft = draft_for(session, actor=principal, form_path=request.url.path)
        values = _draft_values(draft) or {"start_date": clock.today().isoformat()}
    # The case's team may start one while the case is assessing (the service's states).
    may_start = case.state in assessment_service.STARTABLE_IN and bool(
        case_service.case_allowed_events(principal, case)
    )
    return render(
        request,
        "assessment_new.html",
        {
            "title": f"Start an assessment for {child.first_name} {child.last_name}",
            "case": case,
            "child": child,
            "draft": draft,
            "may_start": may_start,
            "errors": errors or FormErrors(),
            **_form_context(values),
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}/assessments/new", response_class=HTMLResponse)
def assessment_new(
    request: Request, session: SessionDep, principal: CaseWriter, case_id: str
) -> HTMLResponse:
    """The form that starts a child and family assessment (restored from a draft if there is
    one)."""
    return _new_page(request, session, principal, case_id)


def _assessment_values(form: FormData) -> dict[str, Any]:
    """The whole draft as posted: a box left empty clears the field (the form is the draft)."""
    values = form_values(form, lists=frozenset({"factors"}))
    values.setdefault("factors", [])
    for name in assessment_service.TEXT_FIELDS:
        values.setdefault(name, None)
    return values


@router.post("/cases/{case_id}/assessments/new", response_class=HTMLResponse)
async def assessment_start(
    request: Request, session: SessionDep, principal: CaseWriterForm, case_id: str
) -> Response:
    """Start it through ``assessment_service.assessment_start`` (the caller is its author)."""
    form = await request.form()
    values = _assessment_values(form)
    data, errors = parse_form(AssessmentCreate, values, ASSESSMENT_LABELS)
    if data is not None:
        try:
            assessment = assessment_service.assessment_start(
                session,
                actor=principal,
                case_id=path_id(case_id, "case"),
                start_date=data.start_date or clock.today(),
                summary_of_needs=data.summary_of_needs,
                analysis=data.analysis,
                child_views=data.child_views,
                factors=data.factors,
            )
        except DomainError as exc:
            errors = refused_form(session, exc)
        else:
            draft_discard(session, actor=principal, form_path=request.url.path)
            return see_other(f"/assessments/{assessment.id}", notice="assessment_started")
    return _new_page(
        request,
        session,
        principal,
        case_id,
        values=values,
        errors=errors,
        status_code=errors.status,
    )


def _assessment_page(
    request: Request,
    session: Session,
    principal: Principal,
    assessment_id: str,
    *,
    values: dict[str, Any] | None = None,
    decision: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    aid = path_id(assessment_id, "assessment")
    assessment = assessment_service.assessment_get(session, actor=principal, assessment_id=aid)
    child = session.get(Person, assessment.child_id)  # loaded by the read above
    assert child is not None
    events = {
        t.event
        for t in assessment_service.assessment_allowed_events(
            session, actor=principal, assessment=assessment
        )
    }
    editable = assessment.state == IN_PROGRESS and "submit" in events
    path = f"/assessments/{assessment.id}"
    draft = None
    if values is None:
        if editable:
            draft = draft_for(session, actor=principal, form_path=path)
        values = _draft_values(draft) or _record_values(assessment)
    return render(
        request,
        "assessment_detail.html",
        {
            "title": f"Assessment for {child.first_name} {child.last_name}",
            "assessment": assessment,
            "child": child,
            "seen": assessment_service.assessment_seen_dates(session, assessment=assessment),
            "editable": editable,
            "may_decide": assessment.state == SUBMITTED and bool(events & {"authorise", "return"}),
            "events": events,
            "draft": draft,
            "outcomes": OUTCOME_LABELS,
            "factor_labels": FACTOR_LABELS,
            "decision": decision or {},
            "authorised": date_parts((decision or {}).get("authorised_date") or clock.today()),
            "errors": errors or FormErrors(),
            "today": clock.today(),
            **_form_context(values),
        },
        status_code=status_code,
    )


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_page(
    request: Request, session: SessionDep, principal: CaseReader, assessment_id: str
) -> HTMLResponse:
    """The assessment: the draft form for its author's team while in progress, the
    authorisation form for a manager once submitted, else what was decided."""
    return _assessment_page(request, session, principal, assessment_id)


@router.post("/assessments/{assessment_id}", response_class=HTMLResponse)
async def assessment_save(
    request: Request, session: SessionDep, principal: CaseWriterForm, assessment_id: str
) -> Response:
    """ "Save draft" (``assessment_save`` with the version the form was rendered at), or "Submit
    for authorisation" (the save, then ``assessment_submit``; both or neither)."""
    aid = path_id(assessment_id, "assessment")
    form = await request.form()
    values = _assessment_values(form)
    submit = form.get("action") == "submit"
    data, errors = parse_form(AssessmentUpdate, values, ASSESSMENT_LABELS)
    if data is not None:
        try:
            saved = assessment_service.assessment_save(
                session,
                actor=principal,
                assessment_id=aid,
                expected_version=form_version(form) or 0,
                changes=data.model_dump(exclude_unset=True),
            )
            if submit:
                assessment_service.assessment_submit(
                    session, actor=principal, assessment_id=aid, expected_version=saved.version
                )
        except DomainError as exc:
            errors = refused_form(session, exc)
        else:
            draft_discard(session, actor=principal, form_path=request.url.path)
            notice = "assessment_submitted" if submit else "assessment_saved"
            return see_other(f"/assessments/{aid}", notice=notice)
    return _assessment_page(
        request,
        session,
        principal,
        assessment_id,
        values=values,
        errors=errors,
        status_code=errors.status,
    )


@router.post("/assessments/{assessment_id}/seen", response_class=HTMLResponse)
async def assessment_child_seen_add(
    request: Request, session: SessionDep, principal: CaseWriterForm, assessment_id: str
) -> Response:
    """Record a date the child was seen (``assessment_child_seen_add``)."""
    aid = path_id(assessment_id, "assessment")
    form = await request.form()
    values = form_values(form)
    data, errors = parse_form(ChildSeenCreate, values, ASSESSMENT_LABELS)
    if data is not None:
        try:
            assessment_service.assessment_child_seen_add(
                session,
                actor=principal,
                assessment_id=aid,
                seen_date=data.seen_date,
                seen_alone=data.seen_alone,
                seen_by_id=data.seen_by_id,
            )
        except DomainError as exc:
            errors = refused_form(session, exc)
        else:
            return see_other(f"/assessments/{aid}", notice="child_seen_added")
    return _assessment_page(
        request, session, principal, assessment_id, errors=errors, status_code=errors.status
    )


@router.post("/assessments/{assessment_id}/authorisation", response_class=HTMLResponse)
async def assessment_decide(
    request: Request, session: SessionDep, principal: AuthoriserForm, assessment_id: str
) -> Response:
    """A manager authorises (``assessment_authorise``: the outcome moves the case) or returns
    it to its author (``assessment_return``)."""
    aid = path_id(assessment_id, "assessment")
    form = await request.form()
    values = form_values(form)
    version = form_version(form) or 0
    errors: FormErrors
    try:
        if form.get("action") == "return":
            back, errors = parse_form(
                AssessmentReturn, {"comments": values.get("comments")}, ASSESSMENT_LABELS
            )
            if back is not None:
                assessment_service.assessment_return(
                    session,
                    actor=principal,
                    assessment_id=aid,
                    expected_version=version,
                    comments=back.comments,
                )
                return see_other(f"/assessments/{aid}", notice="assessment_returned")
        else:
            data, errors = parse_form(AssessmentAuthorise, values, ASSESSMENT_LABELS)
            if data is not None:
                assessment = assessment_service.assessment_authorise(
                    session,
                    actor=principal,
                    assessment_id=aid,
                    expected_version=version,
                    outcome=data.outcome,
                    comments=data.comments,
                    authorised_date=data.authorised_date,
                )
                if data.outcome is AssessmentOutcome.cin_plan:
                    return see_other(
                        f"/cases/{assessment.case_id}/cin-plan", notice="assessment_authorised"
                    )
                return see_other(f"/assessments/{aid}", notice="assessment_authorised")
    except DomainError as exc:
        errors = refused_form(session, exc)
    return _assessment_page(
        request,
        session,
        principal,
        assessment_id,
        decision=values,
        errors=errors,
        status_code=errors.status,
    )


# --------------------------------------------------------------------------------------------------
# The CIN plan
# --------------------------------------------------------------------------------------------------


def _cin_plan_page(
    request: Request,
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case, child = _case_and_child(session, actor=principal, case_id=case_id)
    plan_id = session.scalar(
        select(CINPlan.id)
        .where(CINPlan.case_id == case.id)
        .order_by(CINPlan.start_date.desc(), CINPlan.created_at.desc())
        .limit(1)
    )
    plan = None
    if plan_id is not None:
        # The plan's own read: the access check and the access log are the service's.
        plan = cin_service.cin_plan_get(session, actor=principal, plan_id=plan_id)
    active = plan is not None and plan.state == CIN_ACTIVE
    may_start = not active and "start_cin_plan" in _case_events(principal, case)
    values = values or {"start_date": clock.today().isoformat()}
    return render(
        request,
        "cin_plan.html",
        {
            "title": f"Child in need plan for {child.first_name} {child.last_name}",
            "case": case,
            "child": child,
            "plan": plan,
            "active": active,
            "next_review_due": cin_service.cin_plan_next_review_due(session, plan=plan)
            if plan is not None
            else None,
            "reviews": cin_service.cin_plan_reviews(session, plan=plan) if plan is not None else [],
            "may_start": may_start,
            "start": date_parts(values.get("start_date")),
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}/cin-plan", response_class=HTMLResponse)
def cin_plan_page(
    request: Request, session: SessionDep, principal: CaseReader, case_id: str
) -> HTMLResponse:
    """The case's child in need plan, or the form that starts one when the case allows it."""
    return _cin_plan_page(request, session, principal, case_id)


@router.post("/cases/{case_id}/cin-plan", response_class=HTMLResponse)
async def cin_plan_start(
    request: Request, session: SessionDep, principal: CaseWriterForm, case_id: str
) -> Response:
    """Start the plan through ``cin_service.cin_plan_start`` (CIN census rules 4001 and 4004
    are the service's)."""
    form = await request.form()
    values = form_values(form)
    data, errors = parse_form(CINPlanCreate, values, {"start_date": "the date the plan starts"})
    if data is not None:
        try:
            cin_service.cin_plan_start(
                session,
                actor=principal,
                case_id=path_id(case_id, "case"),
                start_date=data.start_date or clock.today(),
            )
        except DomainError as exc:
            errors = refused_form(session, exc)
        else:
            return see_other(f"/cases/{case_id}/cin-plan", notice="cin_plan_started")
    return _cin_plan_page(
        request,
        session,
        principal,
        case_id,
        values=values,
        errors=errors,
        status_code=errors.status,
    )
