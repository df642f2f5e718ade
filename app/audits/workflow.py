"""The case file audit's state machine (local QA framework, seed 3.2-3.3).

An audit is **planned** (by a programme, or ad hoc), **assigned** to an auditor who is neither the
case's worker nor its manager, **submitted** by that auditor once every question is graded (then
fixed: moderation is the way to change a grade), and **moderated** by a second auditor who agrees
or adjusts the grade with reasons. An audit not yet submitted may be **cancelled**, saying why
(the case closed before it was reached, the sample was redrawn).

Who may audit *this* case (not its worker, not its team's manager, not the auditor when
moderating) is checked by the service before the engine runs (403 with a sentence); the table
below holds what every audit shares.
"""

from __future__ import annotations

from typing import Any

from app import clock
from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

PLANNED = "planned"
ASSIGNED = "assigned"
SUBMITTED = "submitted"
MODERATED = "moderated"
CANCELLED = "cancelled"

#: The roles that may audit, moderate and plan audits (a team manager audits other teams' cases).
AUDITORS = roles(Role.qa_auditor, Role.team_manager, Role.service_manager)

#: The chronology's words for an audit being planned (``engine.start``'s action) and its events.
PLANNED_ACTION = "case_audit_planned"
ASSIGN_EVENT = "case_audit_assigned"
REASSIGN_EVENT = "case_audit_reassigned"
SUBMIT_EVENT = "case_audit_submitted"
MODERATE_EVENT = "case_audit_moderated"
CANCEL_EVENT = "case_audit_cancelled"


def _assign(ctx: GuardContext) -> dict[str, Any]:
    return {"auditor_id": ctx.data["auditor_id"]}


def _submit(ctx: GuardContext) -> dict[str, Any]:
    return {"submitted_at": clock.now()}


def _moderate(ctx: GuardContext) -> dict[str, Any]:
    return {
        "moderator_id": ctx.actor.user_id,
        "moderation_outcome": ctx.data["outcome"],
        "moderated_grade": ctx.data.get("moderated_grade"),
        "moderation_reason": ctx.reason,
        "moderated_at": clock.now(),
    }


def _cancel(ctx: GuardContext) -> dict[str, Any]:
    return {"cancel_reason": ctx.reason}


CASE_AUDIT_MACHINE = StateMachine(
    name="case_audit",
    subject_type="case_audit",
    initial=PLANNED,
    states=(PLANNED, ASSIGNED, SUBMITTED, MODERATED, CANCELLED),
    transitions=(
        Transition(
            PLANNED,
            ASSIGN_EVENT,
            ASSIGNED,
            AUDITORS,
            "Case file audit assigned to an auditor (data.auditor_id: neither the case's worker "
            "nor a manager of its team).",
            required_fields=("auditor_id",),
            effect=_assign,
        ),
        Transition(
            ASSIGNED,
            REASSIGN_EVENT,
            ASSIGNED,
            AUDITORS,
            "Case file audit given to another auditor (data.auditor_id), before it is submitted.",
            required_fields=("auditor_id",),
            effect=_assign,
        ),
        Transition(
            ASSIGNED,
            SUBMIT_EVENT,
            SUBMITTED,
            AUDITORS,
            "Case file audit submitted: every question graded, the overall grade and the child's "
            "voice recorded (fixed from now on: moderation is the way to change a grade).",
            effect=_submit,
        ),
        Transition(
            SUBMITTED,
            MODERATE_EVENT,
            MODERATED,
            AUDITORS,
            "Case file audit moderated by a second auditor, who agreed the grade or adjusted it "
            "with reasons (data.outcome, data.moderated_grade when adjusted).",
            required_fields=("outcome",),
            optional_fields=("moderated_grade",),
            effect=_moderate,
        ),
        Transition(
            PLANNED,
            CANCEL_EVENT,
            CANCELLED,
            AUDITORS,
            "Case file audit cancelled before it was assigned, saying why.",
            requires_reason=True,
            effect=_cancel,
        ),
        Transition(
            ASSIGNED,
            CANCEL_EVENT,
            CANCELLED,
            AUDITORS,
            "Case file audit cancelled before it was submitted, saying why.",
            requires_reason=True,
            effect=_cancel,
        ),
    ),
)
