"""State machines of the section 47 enquiry and the child protection plan.

The enquiry is ``open`` until it concludes (with or without the need for an initial conference);
the plan is ``active`` until a review conference ends it. Both change state only through
``app.workflow.engine``; their services validate dates and move the case as a consequence.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.cases.workflow import PRACTICE
from app.models.protection import S47NextStep, S47Outcome
from app.workflow.engine import GuardContext, StateMachine, Transition

OPEN = "open"
CONCLUDED = "concluded"
ACTIVE = "active"
ENDED = "ended"


def _conclude(ctx: GuardContext) -> dict[str, Any]:
    step = ctx.data.get("next_step")
    return {
        "outcome": S47Outcome(ctx.data["outcome"]),
        "outcome_reason": ctx.reason,
        "concluded_date": date.fromisoformat(str(ctx.data["concluded_date"])),
        "next_step": S47NextStep(step) if step is not None else None,
    }


def _end(ctx: GuardContext) -> dict[str, Any]:
    return {
        "end_date": date.fromisoformat(str(ctx.data["end_date"])),
        "end_reason": ctx.reason,
    }


S47_MACHINE = StateMachine(
    name="s47_enquiry",
    subject_type="s47_enquiry",
    initial=OPEN,
    states=(OPEN, CONCLUDED),
    transitions=(
        Transition(
            OPEN,
            "conclude",
            CONCLUDED,
            PRACTICE,
            "The section 47 enquiry concludes: an initial child protection conference is needed, "
            "or not (CIN census ICPCnotRequired), with the reason.",
            requires_reason=True,
            required_fields=("outcome", "concluded_date"),
            optional_fields=("next_step",),
            effect=_conclude,
        ),
    ),
)

CP_PLAN_MACHINE = StateMachine(
    name="cp_plan",
    subject_type="cp_plan",
    initial=ACTIVE,
    states=(ACTIVE, ENDED),
    transitions=(
        Transition(
            ACTIVE,
            "end",
            ENDED,
            PRACTICE,
            "A review conference ends the child protection plan (on the conference date, with "
            "the reason); the plan's clocks stop.",
            requires_reason=True,
            required_fields=("end_date",),
            optional_fields=("conference_id",),
            effect=_end,
        ),
    ),
)
