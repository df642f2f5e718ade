"""State machines of the IRO service: the looked-after child's review and the IRO's dispute.

**Review** (``cla_review``; rule 29, IRO Handbook 2010): ``held`` when recorded, then
``decisions_circulated`` (within 5 working days) and ``record_completed`` (within 20): the record
cannot be completed before the decisions have gone out.

**Dispute** (``iro_dispute``; IRO Handbook 2010 ch.5, s.25B(3) Children Act 1989): the IRO
raises a concern about the child's plan and tries ``informal`` resolution; if that fails the IRO
``escalate``s through the council's protocol, stage 1 to ``CASEWORK_IRO_DISPUTE_STAGES`` (each
to be answered within ``CASEWORK_IRO_DISPUTE_STAGE_WORKING_DAYS``), managers ``respond`` at each
stage, the dispute is ``resolve``d at any point, or — after the last stage — the IRO refers the
child's case to Cafcass (``refer_to_cafcass``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.config import get_settings
from app.models.org import Role
from app.workflow.engine import GuardContext, StateMachine, Transition, roles

# --- the review -------------------------------------------------------------------------------

HELD = "held"
DECISIONS_CIRCULATED = "decisions_circulated"
RECORD_COMPLETED = "record_completed"

MANAGERS = roles(Role.team_manager, Role.service_manager)
IRO_OR_MANAGER = roles(Role.iro, MANAGERS)

#: The chronology's word for a review recorded (``engine.start``'s action).
REVIEW_HELD_ACTION = "cla_review_held"
CIRCULATE_EVENT = "cla_review_decisions_circulated"
COMPLETE_RECORD_EVENT = "cla_review_record_completed"


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _circulated(ctx: GuardContext) -> dict[str, Any]:
    return {"decisions_circulated_date": _as_date(ctx.data["on_date"])}


def _record_completed(ctx: GuardContext) -> dict[str, Any]:
    return {"record_completed_date": _as_date(ctx.data["on_date"])}


CLA_REVIEW_MACHINE = StateMachine(
    name="cla_review",
    subject_type="cla_review",
    initial=HELD,
    states=(HELD, DECISIONS_CIRCULATED, RECORD_COMPLETED),
    transitions=(
        Transition(
            HELD,
            CIRCULATE_EVENT,
            DECISIONS_CIRCULATED,
            IRO_OR_MANAGER,
            "The review's decisions were circulated on data.on_date (rule 29: within 5 working "
            "days of the review).",
            required_fields=("on_date",),
            effect=_circulated,
        ),
        Transition(
            DECISIONS_CIRCULATED,
            COMPLETE_RECORD_EVENT,
            RECORD_COMPLETED,
            IRO_OR_MANAGER,
            "The full record of the review was completed on data.on_date (rule 29: within 20 "
            "working days of the review).",
            required_fields=("on_date",),
            effect=_record_completed,
        ),
    ),
)

# --- the dispute ------------------------------------------------------------------------------

INFORMAL = "informal"
ESCALATED = "escalated"
RESOLVED = "resolved"
REFERRED_TO_CAFCASS = "referred_to_cafcass"

IRO = roles(Role.iro)

#: The chronology's word for a dispute raised (``engine.start``'s action).
RAISED_ACTION = "iro_dispute_raised"
ESCALATE = "escalate"
RESPOND = "respond"
RESOLVE = "resolve"
REFER_TO_CAFCASS = "refer_to_cafcass"


def _not_beyond_last_stage(ctx: GuardContext) -> str | None:
    stages = get_settings().iro_dispute_stages
    if ctx.record.stage >= stages:
        return (
            f"This dispute is at the protocol's last stage ({stages}); it can be resolved, or "
            "the IRO may refer the child's case to Cafcass."
        )
    return None


def _at_last_stage(ctx: GuardContext) -> str | None:
    stages = get_settings().iro_dispute_stages
    if ctx.record.stage < stages:
        return (
            f"A referral to Cafcass follows the protocol's last stage ({stages}); this dispute "
            f"is at stage {ctx.record.stage}: escalate it first (IRO Handbook 2010 ch.5)."
        )
    return None


def _escalated(ctx: GuardContext) -> dict[str, Any]:
    return {"stage": ctx.record.stage + 1, "stage_started_date": _as_date(ctx.data["on_date"])}


def _responded(ctx: GuardContext) -> dict[str, Any]:
    return {
        "last_response": str(ctx.data["response"]),
        "last_response_date": _as_date(ctx.data["on_date"]),
    }


def _closed(ctx: GuardContext) -> dict[str, Any]:
    return {"outcome": ctx.reason, "closed_date": _as_date(ctx.data["on_date"])}


def _dispute_transitions() -> tuple[Transition, ...]:
    out: list[Transition] = []
    for source in (INFORMAL, ESCALATED):
        out += [
            Transition(
                source,
                ESCALATE,
                ESCALATED,
                IRO,
                "The IRO escalates the dispute to the protocol's next stage on data.on_date, "
                "saying why; the stage's answer falls due in CASEWORK_IRO_DISPUTE_STAGE_WORKING_"
                "DAYS working days.",
                requires_reason=True,
                required_fields=("on_date",),
                guard=_not_beyond_last_stage,
                effect=_escalated,
            ),
            Transition(
                source,
                RESPOND,
                source,
                MANAGERS,
                "A manager answers the dispute at its current stage (data.response) on "
                "data.on_date; the stage's deadline is met. The IRO then resolves or escalates.",
                required_fields=("on_date", "response"),
                effect=_responded,
            ),
            Transition(
                source,
                RESOLVE,
                RESOLVED,
                roles(IRO, MANAGERS),
                "The dispute is resolved on data.on_date; the reason records how.",
                requires_reason=True,
                required_fields=("on_date",),
                effect=_closed,
            ),
        ]
    out.append(
        Transition(
            ESCALATED,
            REFER_TO_CAFCASS,
            REFERRED_TO_CAFCASS,
            IRO,
            "After the protocol's last stage, the IRO refers the child's case to Cafcass "
            "(s.25B(3) Children Act 1989) on data.on_date, saying why.",
            requires_reason=True,
            required_fields=("on_date",),
            guard=_at_last_stage,
            effect=_closed,
        )
    )
    return tuple(out)


IRO_DISPUTE_MACHINE = StateMachine(
    name="iro_dispute",
    subject_type="iro_dispute",
    initial=INFORMAL,
    states=(INFORMAL, ESCALATED, RESOLVED, REFERRED_TO_CAFCASS),
    transitions=_dispute_transitions(),
)

#: States of a dispute still open (on the IRO's dashboard).
DISPUTE_OPEN_STATES = (INFORMAL, ESCALATED)
