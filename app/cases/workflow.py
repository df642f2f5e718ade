"""The case's state machine: where the child's episode stands, from the front door to closure.

A case is one episode of a child's involvement, from a contact at the front door to closure
(DESIGN.md). Its state is the stage the work has reached — contact, referral, assessment, a
protection enquiry (strategy discussion / section 47 / initial conference), a CIN plan, a CP plan,
looked after — and each stage's own records (the assessment, the s47 enquiry, the plans) have
their own machines. The services of those records move the case as their consequence (an ICPC
that decides on a plan starts ``start_cp_plan``), so the case's chronology tells the whole story.
``closed`` is final: a new contact about the same child opens a new case (re-referrals are
measured, not hidden).

Deadlines follow the states (timescales.md rules 1-3): entering ``contact`` opens the contact
decision (opened by ``case_open``, which knows the RAG rating); accepting the referral meets it and
opens the referral decision (1 working day) and the assessment (45 working days); deciding the
type of response (assessment, strategy discussion or NFA) meets the referral decision; the
assessment module meets the assessment deadline when a manager authorises it; closing stops
whatever is still open.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core_types import ReasonForClosure
from app.deadlines import rules
from app.deadlines import service as deadline_service
from app.errors import Invalid
from app.models.deadlines import DeadlineKind
from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, TransitionContext, roles

CONTACT = "contact"
REFERRAL = "referral"
ASSESSMENT = "assessment"
PROTECTION = "protection"  # strategy discussion, section 47 enquiry, initial conference
CIN_PLAN = "cin_plan"
CP_PLAN = "cp_plan"
LOOKED_AFTER = "looked_after"
CARE_LEAVER = "care_leaver"  # care has ceased; leaving-care support goes on (Children Act s.23C)
CLOSED = "closed"

OPEN_STATES = (
    CONTACT,
    REFERRAL,
    ASSESSMENT,
    PROTECTION,
    CIN_PLAN,
    CP_PLAN,
    LOOKED_AFTER,
    CARE_LEAVER,
)

FRONT_DOOR = roles(Role.mash_officer, Role.social_worker, Role.team_manager, Role.service_manager)
PRACTICE = roles(Role.social_worker, Role.team_manager, Role.service_manager)
MANAGERS = roles(Role.team_manager, Role.service_manager)

#: RC8 and RC9 say "closed after assessment": CIN census rule 8825Q refuses them otherwise.
AFTER_ASSESSMENT_ONLY = frozenset(
    {
        ReasonForClosure.CLOSED_AFTER_ASSESSMENT_NFA,
        ReasonForClosure.CLOSED_AFTER_ASSESSMENT_EARLY_HELP,
    }
)
#: A contact that never became a referral is not a CIN episode and is never returned, but the case
#: row needs a reason code with its closure date (CIN rules 8805/8810, a check constraint), so a
#: contact closed at the door records RC7 "services ceased for any other reason".
NFA_CONTACT_REASON = ReasonForClosure.SERVICES_CEASED


def episode_went_beyond_assessment(session: Session, case_id: uuid.UUID) -> bool:
    """Whether the episode had a section 47 enquiry, a conference, a CP plan or a CIN plan: then
    it did not close "after assessment" (CIN census rule 2990 refuses RC8/RC9 with any of them)."""
    from app.models.cin import CINPlan
    from app.models.protection import CPConference, CPPlan, S47Enquiry

    return any(
        session.scalar(select(model.id).where(model.case_id == case_id).limit(1)) is not None
        for model in (S47Enquiry, CPConference, CPPlan, CINPlan)
    )


def _closure_reason_allowed(ctx: GuardContext) -> str | None:
    raw = ctx.data.get("closure_reason")
    try:
        code = ReasonForClosure(str(raw))
    except ValueError:
        codes = ", ".join(c.value for c in ReasonForClosure)
        return f"closure_reason must be one of the CIN census codes {codes}."
    if code in AFTER_ASSESSMENT_ONLY and ctx.record.state in (CONTACT, REFERRAL):
        return (
            f"{code.value} means 'closed after assessment', but this case has had no assessment "
            "(CIN census rule 8825Q); choose another reason."
        )
    if code in AFTER_ASSESSMENT_ONLY and episode_went_beyond_assessment(ctx.session, ctx.record.id):
        return (
            f"{code.value} means 'closed after assessment', but this episode went on to a section "
            "47 enquiry, a conference or a plan (CIN census rule 2990); use RC7 or another reason."
        )
    return None


def _close(ctx: GuardContext) -> dict[str, Any]:
    return {
        "closed_date": ctx.today,
        "closure_reason": ReasonForClosure(ctx.data["closure_reason"]),
    }


def _nfa(ctx: GuardContext) -> dict[str, Any]:
    return {"closed_date": ctx.today, "closure_reason": NFA_CONTACT_REASON}


#: A referral with no further action closes the CIN episode on the day of the decision. RC8/RC9
#: need an assessment (8825Q), so the code is RC7; the CIN census marks it ReferralNFA.
REFERRAL_NFA_REASON = ReasonForClosure.SERVICES_CEASED


def _referral_nfa(ctx: GuardContext) -> dict[str, Any]:
    return {"closed_date": ctx.today, "closure_reason": REFERRAL_NFA_REASON}


def referral_date(ctx: GuardContext | TransitionContext) -> date:
    """The date the referral was received: ``data.referral_date`` when given, else today."""
    raw = ctx.data.get("referral_date")
    return ctx.today if raw is None else date.fromisoformat(str(raw))


def _referral_date_valid(ctx: GuardContext) -> str | None:
    try:
        when = referral_date(ctx)
    except ValueError:
        return "referral_date must be a date (YYYY-MM-DD)."
    if when > ctx.today:
        return "The referral cannot be dated in the future."
    if when < ctx.record.opened_date:
        return "The referral cannot be dated before the contact that opened the case."
    return None


def _no_active_cp_plan(ctx: GuardContext) -> str | None:
    """A child protection plan ends only at a review conference (Working Together ch.4), which
    then closes the case or steps down to a CIN plan: a case cannot be closed around it."""
    from app.models.protection import CPPlan
    from app.protection.workflow import ACTIVE

    problem = _closure_reason_allowed(ctx)
    if problem is not None:
        raise Invalid.field("data.closure_reason", problem)
    active = ctx.session.scalar(
        select(CPPlan.id).where(CPPlan.case_id == ctx.record.id, CPPlan.state == ACTIVE).limit(1)
    )
    if active is not None:
        return (
            "This child has an active child protection plan: record the review conference that "
            "ends it (its outcome can close the case)."
        )
    return None


def _not_looked_after(ctx: GuardContext) -> str | None:
    """Care ceases first, with its SSDA903 reason (an E-code), then the case may close: a case is
    never closed around a child who is still looked after."""
    from app.models.care import PeriodOfCare

    problem = _closure_reason_allowed(ctx)
    if problem is not None:
        raise Invalid.field("data.closure_reason", problem)
    open_period = ctx.session.scalar(
        select(PeriodOfCare.id)
        .where(PeriodOfCare.case_id == ctx.record.id, PeriodOfCare.state == "looked_after")
        .limit(1)
    )
    if open_period is not None:
        return (
            "This child is still looked after: record that care ceased, with its reason, before "
            "closing the case."
        )
    return None


def _ceased_care(ctx: GuardContext) -> str | None:
    """A case moves on from ``looked_after`` only once the period of care has ceased."""
    from app.models.care import PeriodOfCare

    open_period = ctx.session.scalar(
        select(PeriodOfCare.id)
        .where(PeriodOfCare.case_id == ctx.record.id, PeriodOfCare.state == "looked_after")
        .limit(1)
    )
    if open_period is not None:
        return "This child is still looked after: record that care ceased first."
    return None


def end_plans_on_closure(ctx: TransitionContext) -> None:
    """Closing the case ends its open CIN plan and its services and interventions the same day
    (nothing continues after closure, CIN census rule 8565), as audited consequences in the same
    transaction."""
    if ctx.to_state != CLOSED:
        return
    from app.cin.service import cin_plan_end_on_case_closure
    from app.interventions.service import interventions_end_on_case_closure

    cin_plan_end_on_case_closure(
        ctx.session, actor=ctx.actor, case_id=ctx.record.id, end_date=ctx.today
    )
    interventions_end_on_case_closure(
        ctx.session, actor=ctx.actor, case_id=ctx.record.id, end_date=ctx.today
    )


_CLOSE_GUARDS = {CP_PLAN: _no_active_cp_plan, LOOKED_AFTER: _not_looked_after}


def _close_from(state: str, who: frozenset[Role], note: str = "") -> Transition:
    return Transition(
        source=state,
        event="close",
        target=CLOSED,
        roles=who,
        description=f"Close the case with a CIN reason for closure (RC1-RC9){note}.",
        requires_reason=True,
        required_fields=("closure_reason",),
        required_messages=(
            (
                "closure_reason",
                "A closed case needs its CIN reason for closure, RC1-RC9 (CIN census rules "
                "8805/8810: a closure date and a reason go together).",
            ),
        ),
        guard=_CLOSE_GUARDS.get(state, _closure_reason_allowed),
        guard_field=None if state in _CLOSE_GUARDS else "data.closure_reason",
        effect=_close,
    )


#: The deadlines each event meets: the decision or step each one waited for.
MEETS: dict[str, tuple[DeadlineKind, ...]] = {
    "accept_referral": (DeadlineKind.contact_decision,),  # rule 1: the contact is decided
    "nfa_contact": (DeadlineKind.contact_decision,),  # rule 1: decided, no further action
    # rule 2: the type of response is decided (assessment, strategy discussion or NFA)
    "start_assessment": (DeadlineKind.referral_decision,),
    "start_strategy": (DeadlineKind.referral_decision,),
    "referral_nfa": (DeadlineKind.referral_decision,),
}
# The assessment's own deadline (rule 3) is met by the assessment module when a manager authorises
# it, not by a case event: a strategy discussion can start while the assessment goes on.


def refresh_deadlines(ctx: TransitionContext) -> None:
    """Meet, open and stop the case's deadlines as it moves (timescales.md rules 1-3)."""
    session, case = ctx.session, ctx.record
    for kind in MEETS.get(ctx.event, ()):
        deadline_service.deadline_meet(
            session, subject_type="case", subject_id=case.id, kind=kind, met_date=ctx.today
        )
    if ctx.event == "accept_referral":
        received = referral_date(ctx)
        for rule, due in (
            (rules.REFERRAL_DECISION, rules.referral_decision_due(received)),
            (rules.ASSESSMENT_AUTHORISED, rules.assessment_authorised_due(received)),
        ):
            deadline_service.deadline_open(
                session,
                rule=rule,
                subject_type="case",
                subject_id=case.id,
                case_id=case.id,
                child_id=case.child_id,
                start_date=received,
                due_date=due.due_date,
            )
        # Rule 37 (local): management oversight on the file within N weeks of the referral.
        from app.supervision.service import oversight_clock_open

        oversight_clock_open(session, case=case, since=received)
    if ctx.event == "start_strategy":
        # Rule 4 (local default, 1 working day): the clock on the strategy discussion starts when
        # the decision to hold one is taken; recording the discussion meets it.
        from app.protection import timescales as protection_timescales

        protection_timescales.deadline_open_once(
            session,
            rule=protection_timescales.STRATEGY_DISCUSSION,
            subject_type="case",
            subject_id=case.id,
            case_id=case.id,
            child_id=case.child_id,
            start_date=ctx.today,
            due_date=protection_timescales.strategy_discussion_due(ctx.today),
        )
    if ctx.to_state == CLOSED:
        session.flush()
        deadline_service.deadlines_stop(session, case_id=case.id, on=ctx.today)


CASE_MACHINE = StateMachine(
    name="case",
    subject_type="case",
    initial=CONTACT,
    states=(
        CONTACT,
        REFERRAL,
        ASSESSMENT,
        PROTECTION,
        CIN_PLAN,
        CP_PLAN,
        LOOKED_AFTER,
        CARE_LEAVER,
        CLOSED,
    ),
    transitions=(
        Transition(
            CONTACT,
            "accept_referral",
            REFERRAL,
            FRONT_DOOR,
            "Accept the contact as a referral to children's social care (starts the CIN "
            "episode; optional data.referral_date, default today).",
            optional_fields=("referral_date",),
            guard=_referral_date_valid,
            guard_field="data.referral_date",
        ),
        Transition(
            CONTACT,
            "nfa_contact",
            CLOSED,
            FRONT_DOOR,
            "Decide the contact without a referral (no further action, information and advice, "
            "or early help): the case closes.",
            requires_reason=True,
            optional_fields=("outcome",),
            effect=_nfa,
        ),
        Transition(
            REFERRAL,
            "referral_nfa",
            CLOSED,
            FRONT_DOOR,
            "No further action on the referral (CIN census ReferralNFA): the episode closes.",
            requires_reason=True,
            effect=_referral_nfa,
        ),
        Transition(
            REFERRAL,
            "start_assessment",
            ASSESSMENT,
            FRONT_DOOR,
            "Decide on a child and family assessment (the decision on the type of response).",
        ),
        *(
            Transition(
                state,
                "start_strategy",
                PROTECTION,
                # The front door may decide on a strategy discussion for a new referral; once the
                # case is with a social work team, that team decides.
                FRONT_DOOR if state == REFERRAL else PRACTICE,
                "Reasonable cause to suspect significant harm: hold a strategy discussion "
                "(Working Together ch.1).",
            )
            for state in (REFERRAL, ASSESSMENT, CIN_PLAN)
        ),
        Transition(
            PROTECTION,
            "conclude_enquiry",
            ASSESSMENT,
            PRACTICE,
            "The strategy discussion or section 47 enquiry ends without a conference; the "
            "assessment continues.",
            requires_reason=True,
        ),
        *(
            Transition(
                state,
                "start_cin_plan",
                CIN_PLAN,
                PRACTICE,
                "A child in need plan starts (after an assessment, an enquiry or conference that "
                "decided against a CP plan, a review conference that ended the CP plan, or a "
                "return home from care).",
                guard=_ceased_care if state == LOOKED_AFTER else None,
            )
            for state in (ASSESSMENT, PROTECTION, CP_PLAN, LOOKED_AFTER)
        ),
        Transition(
            PROTECTION,
            "start_cp_plan",
            CP_PLAN,
            PRACTICE,
            "The initial child protection conference decides on a child protection plan.",
        ),
        *(
            Transition(
                state,
                "become_looked_after",
                LOOKED_AFTER,
                PRACTICE,
                "The child becomes looked after: the children-in-care module starts a period of "
                "care (or the decision is recorded and the period starts at the placement).",
            )
            for state in (REFERRAL, ASSESSMENT, PROTECTION, CIN_PLAN, CP_PLAN, CARE_LEAVER)
        ),
        Transition(
            LOOKED_AFTER,
            "become_care_leaver",
            CARE_LEAVER,
            PRACTICE,
            "Care has ceased and the young person is a care leaver (eligible, relevant or former "
            "relevant): leaving-care support continues on the case.",
            guard=_ceased_care,
        ),
        _close_from(CONTACT, FRONT_DOOR),
        _close_from(REFERRAL, FRONT_DOOR),
        *(
            _close_from(state, MANAGERS, "; a team manager authorises the closure")
            for state in (ASSESSMENT, PROTECTION, CIN_PLAN, CP_PLAN, LOOKED_AFTER, CARE_LEAVER)
        ),
    ),
    on_transition=(refresh_deadlines, end_plans_on_closure),
)
