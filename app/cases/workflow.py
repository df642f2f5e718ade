"""The case's state machine (foundation version): contact → referral → assessment → plan → closed.

A case is one episode of a child's involvement, from a contact at the front door to closure
(DESIGN.md). Issue 3 extends this table with the full journey (strategy discussions, s47, CP and
CIN plans, care); what is here is the skeleton every later state hangs from. ``closed`` is final: a
new contact about the same child opens a new case (re-referrals are measured, not hidden).

Deadlines follow the states (timescales.md rules 1-3): entering ``contact`` opens the contact
decision (opened by ``case_open``, which knows the RAG rating); accepting the referral meets it and
opens the referral decision (1 working day) and the assessment (45 working days); starting the
assessment meets the referral decision; starting a plan meets the assessment; closing stops
whatever is still open.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.core_types import ReasonForClosure
from app.deadlines import rules
from app.deadlines import service as deadline_service
from app.models.deadlines import DeadlineKind
from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, TransitionContext, roles

CONTACT = "contact"
REFERRAL = "referral"
ASSESSMENT = "assessment"
PLAN = "plan"
CLOSED = "closed"

OPEN_STATES = (CONTACT, REFERRAL, ASSESSMENT, PLAN)

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
    return None


def _close(ctx: GuardContext) -> dict[str, Any]:
    return {
        "closed_date": ctx.today,
        "closure_reason": ReasonForClosure(ctx.data["closure_reason"]),
    }


def _nfa(ctx: GuardContext) -> dict[str, Any]:
    return {"closed_date": ctx.today, "closure_reason": NFA_CONTACT_REASON}


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


def _close_from(state: str, who: frozenset[Role], note: str = "") -> Transition:
    return Transition(
        source=state,
        event="close",
        target=CLOSED,
        roles=who,
        description=f"Close the case with a CIN reason for closure (RC1-RC9){note}.",
        requires_reason=True,
        required_fields=("closure_reason",),
        guard=_closure_reason_allowed,
        guard_field="data.closure_reason",
        effect=_close,
    )


#: The deadlines each event meets: the decision or step each one waited for.
MEETS: dict[str, tuple[DeadlineKind, ...]] = {
    "accept_referral": (DeadlineKind.contact_decision,),  # rule 1: the contact is decided
    "nfa_contact": (DeadlineKind.contact_decision,),  # rule 1: decided, no further action
    "start_assessment": (DeadlineKind.referral_decision,),  # rule 2: type of response decided
    "start_plan": (DeadlineKind.assessment_authorised,),  # rule 3: assessment authorised
}


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
    if ctx.to_state == CLOSED:
        session.flush()
        deadline_service.deadlines_stop(session, case_id=case.id, on=ctx.today)


CASE_MACHINE = StateMachine(
    name="case",
    subject_type="case",
    initial=CONTACT,
    states=(CONTACT, REFERRAL, ASSESSMENT, PLAN, CLOSED),
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
            "No further action at the front door: the contact is closed without a referral.",
            requires_reason=True,
            effect=_nfa,
        ),
        Transition(
            REFERRAL,
            "start_assessment",
            ASSESSMENT,
            PRACTICE,
            "Start the child and family assessment (the decision on the type of response).",
        ),
        Transition(
            ASSESSMENT,
            "start_plan",
            PLAN,
            PRACTICE,
            "The assessment is authorised and a plan for the child starts.",
        ),
        _close_from(CONTACT, FRONT_DOOR),
        _close_from(REFERRAL, FRONT_DOOR),
        _close_from(ASSESSMENT, PRACTICE),
        _close_from(PLAN, MANAGERS, "; a child with a plan: a team manager authorises it"),
    ),
    on_transition=(refresh_deadlines,),
)
