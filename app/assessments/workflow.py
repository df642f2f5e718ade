"""The assessment's state machine: drafted, submitted for authorisation, authorised (or returned).

``in_progress`` (the author drafts; the draft is saved as often as they like) → ``submitted``
(the author asks a manager to authorise it: the child must have been seen, unless unborn, and the
factors recorded) → ``authorised`` (a team or service manager who is not the author signs it off,
with comments and the outcome), or back to ``in_progress`` when the manager returns it with
comments. ``authorised`` is final; the outcome's consequences for the case (closure RC8/RC9, a CIN
plan, a strategy discussion, becoming looked after) are taken by the service in the same
transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import exists, select

from app.models.assessments import AssessmentChildSeen, AssessmentOutcome
from app.models.org import Role
from app.models.people import Person
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
AUTHORISED = "authorised"

PRACTICE = roles(Role.social_worker, Role.team_manager, Role.service_manager)
MANAGERS = roles(Role.team_manager, Role.service_manager)


def _ready_to_submit(ctx: GuardContext) -> str | None:
    """Submitted only with the factors recorded and, for a born child, a date the child was seen
    (an unborn child cannot be seen; CIN census: factors for a completed assessment)."""
    record = ctx.record
    problems: list[str] = []
    if not record.factors:
        problems.append('record the factors identified (or "21", no factors)')
    child = ctx.session.get(Person, record.child_id)
    unborn = child is not None and child.date_of_birth is None
    if not unborn:
        seen = ctx.session.scalar(
            select(exists().where(AssessmentChildSeen.assessment_id == record.id))
        )
        if not seen:
            problems.append("record at least one date the child was seen")
    if problems:
        return "Before submitting the assessment, " + " and ".join(problems) + "."
    return None


def _submitted(ctx: GuardContext) -> dict[str, Any]:
    return {"submitted_date": ctx.today}


def _returned(ctx: GuardContext) -> dict[str, Any]:
    # Back to the author: the next submission is the one an authorisation must follow.
    return {"submitted_date": None, "manager_comments": ctx.reason}


def _authorised(ctx: GuardContext) -> dict[str, Any]:
    when = ctx.data["authorised_date"]
    return {
        "authorised_date": when if isinstance(when, date) else date.fromisoformat(str(when)),
        "authorised_by_id": ctx.actor.user_id,
        "outcome": AssessmentOutcome(ctx.data["outcome"]),
        "manager_comments": ctx.reason,
    }


ASSESSMENT_MACHINE = StateMachine(
    name="assessment",
    subject_type="assessment",
    initial=IN_PROGRESS,
    states=(IN_PROGRESS, SUBMITTED, AUTHORISED),
    transitions=(
        Transition(
            IN_PROGRESS,
            "submit",
            SUBMITTED,
            PRACTICE,
            "Submit the assessment for a manager's authorisation (the child seen, unless unborn, "
            "and the factors recorded).",
            guard=_ready_to_submit,
            effect=_submitted,
        ),
        Transition(
            SUBMITTED,
            "authorise",
            AUTHORISED,
            MANAGERS,
            "A manager who is not the author authorises the assessment, with comments and its "
            "outcome (meets timescales rule 3).",
            requires_reason=True,
            required_fields=("outcome", "authorised_date"),
            effect=_authorised,
        ),
        Transition(
            SUBMITTED,
            "return",
            IN_PROGRESS,
            MANAGERS,
            "A manager returns the assessment to its author with comments.",
            requires_reason=True,
            effect=_returned,
        ),
    ),
)
