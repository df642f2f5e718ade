"""The period of care's state machine: ``looked_after`` until care ceases (``ceased`` is final).

A child who comes back into care starts a new period (SSDA903: a new episode with RNE S). Ceasing
care records the reason (an SSDA903 E-code) and stops every clock of being looked after
(timescales.md: deadlines stop when their episode ends).
"""

from __future__ import annotations

from typing import Any

from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

LOOKED_AFTER = "looked_after"
CEASED = "ceased"

PRACTICE = roles(Role.social_worker, Role.team_manager, Role.service_manager)

#: The chronology's words for the start of a period (``engine.start``'s action) and its end.
STARTED_ACTION = "care_started"
CEASE_EVENT = "care_ceased"


def _cease(ctx: GuardContext) -> dict[str, Any]:
    return {"end_date": ctx.data["end_date"], "reason_ceased": ctx.data["reason_ceased"]}


PERIOD_OF_CARE_MACHINE = StateMachine(
    name="period_of_care",
    subject_type="period_of_care",
    initial=LOOKED_AFTER,
    states=(LOOKED_AFTER, CEASED),
    transitions=(
        Transition(
            LOOKED_AFTER,
            CEASE_EVENT,
            CEASED,
            PRACTICE,
            "Care ceases on data.end_date for data.reason_ceased (an SSDA903 E-code); the current "
            "placement and legal status end that day and every looked-after clock stops.",
            required_fields=("end_date", "reason_ceased"),
            effect=_cease,
        ),
    ),
)
