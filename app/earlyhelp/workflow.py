"""The early help episode's state machine: ``open`` → ``assessed`` → ``plan`` → ``closed``, and the
step-up back to social care from any of the first three (``stepped_up``).

Early help is voluntary (Working Together to Safeguard Children 2023, ch. 2): a family may decline
or stop engaging at any point, so an episode may close from ``open`` or ``assessed`` as well as
from ``plan``. A step-up is not a closure: it ends the episode ``stepped_up`` and names the social
care case the new contact sits on. The events are written on the chronology of the case that
stepped down (``origin_case_id``), even though that case is closed: early help is part of the
child's history.
"""

from __future__ import annotations

from typing import Any

from app.models.earlyhelp import EarlyHelpOutcome
from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

OPEN = "open"
ASSESSED = "assessed"
PLAN = "plan"
CLOSED = "closed"
STEPPED_UP = "stepped_up"

#: Early help workers hold the social_worker role (family support workers too); managers act on
#: any episode their policy lets them see.
PRACTICE = roles(Role.social_worker, Role.team_manager, Role.service_manager)

#: The chronology's words: the opening (``engine.start``'s action) and each event.
OPENED_ACTION = "early_help_opened"
ASSESS_EVENT = "early_help_assessed"
PLAN_EVENT = "early_help_plan_recorded"
CLOSE_EVENT = "early_help_closed"
STEP_UP_EVENT = "early_help_stepped_up"


def _assess(ctx: GuardContext) -> dict[str, Any]:
    return {
        "assessment_date": ctx.data["assessment_date"],
        "assessment_summary": ctx.data["assessment_summary"],
    }


def _plan(ctx: GuardContext) -> dict[str, Any]:
    return {"plan_date": ctx.data["plan_date"], "plan_summary": ctx.data["plan_summary"]}


def _close(ctx: GuardContext) -> dict[str, Any]:
    return {
        "end_date": ctx.data["end_date"],
        "outcome": EarlyHelpOutcome(ctx.data["outcome"]),
        "outcome_notes": ctx.data.get("outcome_notes"),
    }


def _step_up(ctx: GuardContext) -> dict[str, Any]:
    return {
        "end_date": ctx.data["end_date"],
        "outcome": EarlyHelpOutcome.stepped_up,
        "step_up_case_id": ctx.data["step_up_case_id"],
        "step_up_reason": ctx.reason,
    }


_CLOSE_DESCRIPTION = (
    "End the episode on data.end_date with data.outcome (needs met, declined, disengaged, moved "
    "away, other; never stepped_up, which is the step-up)."
)
_STEP_UP_DESCRIPTION = (
    "Step up to children's social care: a new contact (source 5D, early help) goes to the front "
    "door, the episode ends and names the case the contact sits on."
)


def _closing(source: str) -> tuple[Transition, Transition]:
    return (
        Transition(
            source,
            CLOSE_EVENT,
            CLOSED,
            PRACTICE,
            _CLOSE_DESCRIPTION,
            required_fields=("end_date", "outcome"),
            optional_fields=("outcome_notes",),
            effect=_close,
        ),
        Transition(
            source,
            STEP_UP_EVENT,
            STEPPED_UP,
            PRACTICE,
            _STEP_UP_DESCRIPTION,
            requires_reason=True,
            required_fields=("end_date", "step_up_case_id", "contact_id"),
            effect=_step_up,
        ),
    )


EARLY_HELP_MACHINE = StateMachine(
    name="early_help",
    subject_type="early_help_episode",
    initial=OPEN,
    states=(OPEN, ASSESSED, PLAN, CLOSED, STEPPED_UP),
    transitions=(
        Transition(
            OPEN,
            ASSESS_EVENT,
            ASSESSED,
            PRACTICE,
            "Record the early help assessment: its date (data.assessment_date, not before the "
            "episode started) and what it found (data.assessment_summary).",
            required_fields=("assessment_date", "assessment_summary"),
            effect=_assess,
        ),
        Transition(
            ASSESSED,
            PLAN_EVENT,
            PLAN,
            PRACTICE,
            "Record the family's early help plan: its date (data.plan_date, not before the "
            "assessment) and what it says (data.plan_summary).",
            required_fields=("plan_date", "plan_summary"),
            effect=_plan,
        ),
        *_closing(OPEN),
        *_closing(ASSESSED),
        *_closing(PLAN),
    ),
)
