"""The CIN plan's state machine: ``active`` until it ends (``ended`` is final).

A plan ends when the child no longer needs it, when the case closes, or — as a consequence — when a
child protection plan starts (a CIN plan never overlaps a CP plan: CIN census rules 4001, 4016,
4017). Ending it stops its review clock (timescales.md: deadlines stop when their plan ends).
"""

from __future__ import annotations

from typing import Any

from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

ACTIVE = "active"
ENDED = "ended"

PRACTICE = roles(Role.social_worker, Role.team_manager, Role.service_manager)

#: The chronology's words for the plan's start (``engine.start``'s action) and end (the event).
STARTED_ACTION = "cin_plan_started"
END_EVENT = "cin_plan_ended"


def _end(ctx: GuardContext) -> dict[str, Any]:
    return {"end_date": ctx.data["end_date"], "end_reason": ctx.reason}


CIN_PLAN_MACHINE = StateMachine(
    name="cin_plan",
    subject_type="cin_plan",
    initial=ACTIVE,
    states=(ACTIVE, ENDED),
    transitions=(
        Transition(
            ACTIVE,
            END_EVENT,
            ENDED,
            PRACTICE,
            "End the child in need plan on data.end_date, saying why (its review clock stops).",
            requires_reason=True,
            required_fields=("end_date",),
            effect=_end,
        ),
    ),
)
