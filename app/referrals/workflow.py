"""The referral's state machine: ``awaiting_decision`` until the decision on the type of response
(timescales rule 2: within 1 working day), then ``decided``.

The decision moves the child's case as its consequence (``app.referrals.service``): an assessment
starts ``start_assessment``, a strategy discussion ``start_strategy``, no further action
``referral_nfa`` (CIN census ReferralNFA; the case closes with RC7). The case's machine meets the
rule-2 deadline on each of those events.
"""

from __future__ import annotations

from typing import Any

from app import clock
from app.cases.workflow import FRONT_DOOR
from app.models.frontdoor import ReferralDecision
from app.workflow.engine import GuardContext, StateMachine, Transition

AWAITING_DECISION = "awaiting_decision"
DECIDED = "decided"

#: The case event each decision takes (app/cases/workflow.py).
CASE_EVENT_FOR: dict[ReferralDecision, str] = {
    ReferralDecision.assessment: "start_assessment",
    ReferralDecision.strategy_discussion: "start_strategy",
    ReferralDecision.no_further_action: "referral_nfa",
}


def _decision_valid(ctx: GuardContext) -> str | None:
    try:
        ReferralDecision(str(ctx.data.get("decision")))
    except ValueError:
        return "decision must be one of: " + ", ".join(d.value for d in ReferralDecision) + "."
    return None


def _decided(ctx: GuardContext) -> dict[str, Any]:
    return {
        "decision": ReferralDecision(str(ctx.data["decision"])),
        "decision_reason": ctx.reason,
        "decided_at": clock.now(),
        "decided_by_id": ctx.actor.user_id,
    }


REFERRAL_MACHINE = StateMachine(
    name="referral",
    subject_type="referral",
    initial=AWAITING_DECISION,
    states=(AWAITING_DECISION, DECIDED),
    transitions=(
        Transition(
            AWAITING_DECISION,
            "decide",
            DECIDED,
            FRONT_DOOR,
            "Decide the type of response: a child and family assessment, a strategy discussion, "
            "or no further action (within 1 working day: timescales rule 2).",
            requires_reason=True,
            required_fields=("decision",),
            guard=_decision_valid,
            guard_field="data.decision",
            effect=_decided,
        ),
    ),
)
