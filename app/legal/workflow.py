"""The state machines of legal planning: pre-proceedings and care proceedings.

Pre-proceedings (Public Law Outline 2014 practice guidance; timescales rule 35) are ``open`` from
the legal gateway's decision until reviewed to an outcome: stepped down or proceedings issued
(``concluded``). A review that keeps them open (``continued``) is a transition from ``open`` to
``open``, so the chronology shows every review and its clock restarts.

Care proceedings (Children Act 1989 s.31, s.32) are ``issued`` until the court makes a final order
(or no order: ``concluded``) or gives leave to withdraw (``withdrawn``). Either ends the 26-week
clock (timescales rule 34).
"""

from __future__ import annotations

from typing import Any

from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

PRACTICE = roles(Role.social_worker, Role.team_manager, Role.service_manager)
#: Recording what a court did is also open to an integration (e.g. a legal team's system).
COURT_RECORDERS = roles(PRACTICE, Role.integration_client)

# --- pre-proceedings ---------------------------------------------------------------------------

OPEN = "open"
CONCLUDED = "concluded"

PRE_PROCEEDINGS_STARTED = "pre_proceedings_started"
PRE_PROCEEDINGS_CONTINUED = "pre_proceedings_continued"
PRE_PROCEEDINGS_STEPPED_DOWN = "pre_proceedings_stepped_down"
PRE_PROCEEDINGS_TO_PROCEEDINGS = "pre_proceedings_to_proceedings"


def _review(ctx: GuardContext) -> dict[str, Any]:
    return {"last_review_date": ctx.data["outcome_date"]}


def _conclude_as(outcome: str) -> Any:
    def effect(ctx: GuardContext) -> dict[str, Any]:
        return {"outcome": outcome, "outcome_date": ctx.data["outcome_date"]}

    return effect


PRE_PROCEEDINGS_MACHINE = StateMachine(
    name="pre_proceedings",
    subject_type="pre_proceedings",
    initial=OPEN,
    states=(OPEN, CONCLUDED),
    transitions=(
        Transition(
            OPEN,
            PRE_PROCEEDINGS_CONTINUED,
            OPEN,
            PRACTICE,
            "Reviewed on data.outcome_date and kept open, saying why; the next review falls due "
            "(timescales rule 35).",
            requires_reason=True,
            required_fields=("outcome_date",),
            effect=_review,
        ),
        Transition(
            OPEN,
            PRE_PROCEEDINGS_STEPPED_DOWN,
            CONCLUDED,
            PRACTICE,
            "Stepped down on data.outcome_date: concerns reduced, work continues under a plan.",
            requires_reason=True,
            required_fields=("outcome_date",),
            effect=_conclude_as("stepped_down"),
        ),
        Transition(
            OPEN,
            PRE_PROCEEDINGS_TO_PROCEEDINGS,
            CONCLUDED,
            PRACTICE,
            "Concluded on data.outcome_date by the decision to issue care proceedings.",
            requires_reason=True,
            required_fields=("outcome_date",),
            effect=_conclude_as("proceedings_issued"),
        ),
    ),
)

#: outcome → the event that records it.
OUTCOME_EVENTS: dict[str, str] = {
    "continued": PRE_PROCEEDINGS_CONTINUED,
    "stepped_down": PRE_PROCEEDINGS_STEPPED_DOWN,
    "proceedings_issued": PRE_PROCEEDINGS_TO_PROCEEDINGS,
}

# --- care proceedings --------------------------------------------------------------------------

ISSUED = "issued"
PROCEEDINGS_CONCLUDED = "concluded"
WITHDRAWN = "withdrawn"

CARE_PROCEEDINGS_ISSUED = "care_proceedings_issued"
FINAL_ORDER_MADE = "final_order_made"
CARE_PROCEEDINGS_WITHDRAWN = "care_proceedings_withdrawn"


def _final(ctx: GuardContext) -> dict[str, Any]:
    return {"final_order": ctx.data["final_order"], "final_order_date": ctx.data["order_date"]}


CARE_PROCEEDINGS_MACHINE = StateMachine(
    name="care_proceedings",
    subject_type="care_proceedings",
    initial=ISSUED,
    states=(ISSUED, PROCEEDINGS_CONCLUDED, WITHDRAWN),
    transitions=(
        Transition(
            ISSUED,
            FINAL_ORDER_MADE,
            PROCEEDINGS_CONCLUDED,
            COURT_RECORDERS,
            "The court made its final order (or no order) on data.order_date; the 26-week "
            "clock is met (s.32(1)(a)).",
            required_fields=("final_order", "order_date"),
            effect=_final,
        ),
        Transition(
            ISSUED,
            CARE_PROCEEDINGS_WITHDRAWN,
            WITHDRAWN,
            COURT_RECORDERS,
            "The court gave leave to withdraw the application on data.order_date (FPR 29.4); "
            "the proceedings end without an order.",
            requires_reason=True,
            required_fields=("final_order", "order_date"),
            effect=_final,
        ),
    ),
)
